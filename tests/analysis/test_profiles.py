"""Performance profiles and AUP: hand-computed cases for every rule, and properties."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from researchgym.analysis import (
    BASELINE,
    VARIANTS,
    SolverScore,
    Variant,
    performance_profiles,
    read_scores_csv,
)
from researchgym.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from researchgym.tasks import Direction


def task(
    name: str, direction: Direction, variant: Variant = "best_attempt", **scores: float | None
) -> list[SolverScore]:
    """One task's rows: a score per solver (None: a row with a missing score)."""
    return [SolverScore(name, s, variant, v, direction) for s, v in scores.items()]


# Two tasks, higher is better (worked out by hand):
#   t1: baseline 1, A 2, B 4        best 4: r = baseline 4, A 2, B 1; R = 4
#   t2: baseline 2, A 4, B 1        B is below the baseline: infeasible.
#                                   best 4: r = baseline 2, A 1; R = 2; B 1.05 * 2 = 2.1
#   tau_max = ceil(10 log10(max(ceil(4.2), ceil(2.1)) = 5)) / 10 = ceil(6.99) / 10 = 0.7
#   grid: tau_i = 0.7 i / 499, i = 0..499; the left sum adds 0.7/499 * rho_i for i = 0..498.
#   log10 2 = 0.30103: first reached at i = 215 (0.30103 * 499 / 0.7 = 214.6)
#   log10 2.1 = 0.32222: at i = 230 (229.7); log10 4 = 0.60206: at i = 430 (429.2)
#   A:        rho 0.5 for i < 215, then 1:   0.7/499 * (215 * 0.5 + 284) = 0.549198 -> 0.549
#   B:        rho 0.5 for i < 230, then 1:   0.7/499 * (230 * 0.5 + 269) = 0.538677 -> 0.539
#   baseline: 0, 0.5 from 215, 1 from 430:   0.7/499 * (215 * 0.5 + 69) = 0.247595 -> 0.248
TWO_TASKS = [*task("t1", "max", baseline=1, A=2, B=4), *task("t2", "max", baseline=2, A=4, B=1)]


def test_two_tasks_by_hand() -> None:
    profiles = performance_profiles(TWO_TASKS)
    assert profiles.tau_max == 0.7
    assert len(profiles.taus) == 500
    assert (profiles.taus[0], profiles.taus[-1]) == (0.0, 0.7)
    assert profiles.taus[1] == pytest.approx(0.7 / 499)
    assert profiles.ratios["best_attempt"] == {
        "t1": {"A": 2.0, "B": 1.0, "baseline": 4.0},
        "t2": {"A": 1.0, "B": pytest.approx(2.1), "baseline": 2.0},
    }
    rho = profiles.rho["best_attempt"]["A"]
    assert (rho[0], rho[214], rho[215], rho[499]) == (0.5, 0.5, 1.0, 1.0)
    assert profiles.aup["best_attempt"] == {"A": 0.549, "B": 0.539, "baseline": 0.248}


def test_aup_is_the_left_riemann_sum() -> None:
    # t1: A is best (r = 1); t2: A scores half of B (r = 2, log10 = 0.301).
    # Grid 0, 0.25, 0.5, 0.75, 1: rho = 0.5, 0.5, 1, 1, 1.
    # Left sum: 0.25 * (0.5 + 0.5 + 1 + 1) = 0.75 (a right sum would give 0.875, the
    # trapezoid rule 0.8125).
    scores = [*task("t1", "max", baseline=1, A=2), *task("t2", "max", baseline=1, A=1, B=2)]
    profiles = performance_profiles(scores, tau_max=1.0, points=5)
    assert profiles.taus == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert profiles.rho["best_attempt"]["A"] == [0.5, 0.5, 1.0, 1.0, 1.0]
    assert profiles.aup["best_attempt"]["A"] == 0.75


def test_ties_share_a_ratio() -> None:
    # A and B tie for the best (r = 1); C ties the baseline for the worst (r = R = 3);
    # D, missing, gets 1.05 * 3.
    profiles = performance_profiles(
        [*task("t", "max", baseline=1, A=3, B=3, C=1), *task("u", "max", D=1, baseline=1)]
    )
    assert profiles.ratios["best_attempt"]["t"] == {
        "A": 1.0,
        "B": 1.0,
        "C": 3.0,
        "D": pytest.approx(3.15),
        "baseline": 3.0,
    }
    assert profiles.aup["best_attempt"]["A"] == profiles.aup["best_attempt"]["B"]


def test_a_missing_agent_gets_the_penalty() -> None:
    # C has no row for t2, and a row with no score for t3: both are missing.
    # t2: best 4, baseline r = 2 = R, so C gets 2.1; t3: best 5, R = 5, C gets 5.25.
    profiles = performance_profiles(
        [
            *task("t1", "max", baseline=1, A=2, C=2),
            *task("t2", "max", baseline=2, A=4),
            *task("t3", "max", baseline=1, A=5, C=None),
        ]
    )
    ratios = profiles.ratios["best_attempt"]
    assert ratios["t2"]["C"] == pytest.approx(2.1)
    assert ratios["t3"]["C"] == pytest.approx(5.25)
    assert ratios["t1"]["C"] == 1.0


def test_infeasible_and_missing_get_1_05_times_the_worst_feasible_ratio() -> None:
    # best 8; feasible: baseline 2 (r = 4), A 4 (r = 2), B 8 (r = 1): R = 4.
    # C is worse than the baseline, D is below 0, E has no score: all get 4.2.
    profiles = performance_profiles(task("t", "max", baseline=2, A=4, B=8, C=1, D=-3, E=None))
    ratios = profiles.ratios["best_attempt"]["t"]
    assert [ratios[s] for s in ("baseline", "A", "B")] == [4.0, 2.0, 1.0]
    assert [ratios[s] for s in ("C", "D", "E")] == [pytest.approx(4.2)] * 3
    # ceil(4.2) = 5: tau_max = ceil(6.99) / 10
    assert profiles.tau_max == 0.7


def test_a_negative_baseline_is_infeasible_in_a_max_task() -> None:
    # The baseline (-0.5) is below 0: infeasible. A and B beat it: best 2, B r = 2 = R.
    profiles = performance_profiles(task("t", "max", baseline=-0.5, A=2, B=1))
    ratios = profiles.ratios["best_attempt"]["t"]
    assert ratios == {"A": 1.0, "B": 2.0, "baseline": pytest.approx(2.1)}


def test_a_negative_baseline_leaves_nobody_feasible_in_a_min_task() -> None:
    # No score can be >= 0 and <= -1: every ratio is inf, and t plays no part in tau_max,
    # which u alone sets: best 1, baseline r = 2 = R, ceil(2.1) = 3: ceil(4.77) / 10 = 0.5.
    profiles = performance_profiles(
        [*task("t", "min", baseline=-1, A=0.5, B=2), *task("u", "min", baseline=2, A=1, B=1)]
    )
    assert profiles.ratios["best_attempt"]["t"] == {
        "A": math.inf,
        "B": math.inf,
        BASELINE: math.inf,
    }
    assert profiles.tau_max == 0.5
    # A and B are best on u, and never reach t: rho = 0.5 everywhere.
    assert profiles.aup["best_attempt"]["A"] == 0.25


def test_lower_is_better_inverts_the_ratio() -> None:
    # best 1: r = s / 1. C (5) is worse than the baseline (4): infeasible, 1.05 * 4.
    profiles = performance_profiles(task("t", "min", baseline=4, A=2, B=1, C=5))
    assert profiles.ratios["best_attempt"]["t"] == {
        "A": 2.0,
        "B": 1.0,
        "C": pytest.approx(4.2),
        "baseline": 4.0,
    }


def test_a_task_where_every_solver_is_infeasible() -> None:
    # t: everyone below 0: inf for all; u: best 2, baseline r = 2 = R, tau_max 0.5 (as above).
    # baseline: rho 0 until log10 2 = 0.30103, first reached at i = 301 (300.4); then 0.5
    # (it never reaches t): 0.5/499 * 198 * 0.5 = 0.099198 -> 0.099. A: 0.5 * 0.5 = 0.25.
    profiles = performance_profiles(
        [*task("t", "max", baseline=-1, A=-2), *task("u", "max", baseline=1, A=2)]
    )
    assert profiles.ratios["best_attempt"]["t"] == {"A": math.inf, BASELINE: math.inf}
    assert profiles.tau_max == 0.5
    assert profiles.aup["best_attempt"] == {"A": 0.25, BASELINE: 0.099}


def test_tau_max_when_nobody_is_feasible_anywhere() -> None:
    # No R anywhere: tau_max is that of R = 1, ceil(10 log10(ceil(1.05) = 2)) / 10 = 0.4.
    profiles = performance_profiles(task("t", "max", baseline=-1, A=-2))
    assert profiles.tau_max == 0.4
    assert profiles.aup["best_attempt"] == {"A": 0.0, BASELINE: 0.0}


def test_a_zero_score_in_a_max_task_counts_as_infeasible() -> None:
    # The baseline and B score 0: b / 0 is infinite, so they get 1.05 * R, R = 1 (A alone).
    profiles = performance_profiles(task("t", "max", baseline=0, A=2, B=0))
    assert profiles.ratios["best_attempt"]["t"] == {
        "A": 1.0,
        "B": pytest.approx(1.05),
        "baseline": pytest.approx(1.05),
    }
    # ceil(1.05 * 1) = 2: tau_max 0.4, the smallest there is.
    assert profiles.tau_max == 0.4


def test_zero_scores_tie_when_zero_is_the_best() -> None:
    profiles = performance_profiles(task("t", "max", baseline=0, A=0))
    assert profiles.ratios["best_attempt"]["t"] == {"A": 1.0, "baseline": 1.0}


def test_a_best_of_zero_in_a_min_task() -> None:
    # A scores 0, the best: s / 0 is infinite for the others, who get 1.05 * 1.
    profiles = performance_profiles(task("t", "min", baseline=2, A=0, B=1))
    assert profiles.ratios["best_attempt"]["t"] == {
        "A": 1.0,
        "B": pytest.approx(1.05),
        "baseline": pytest.approx(1.05),
    }


def test_a_ratio_whose_penalty_would_overflow_counts_as_infeasible() -> None:
    # The baseline's ratio, 1.75e308, is a float, but 1.05 times it is not: it gets
    # 1.05 * R, R = 1 (A alone), and tau_max stays finite.
    profiles = performance_profiles(task("t", "max", baseline=1, A=1.75e308))
    assert profiles.ratios["best_attempt"]["t"]["baseline"] == pytest.approx(1.05)
    assert profiles.tau_max == 0.4


def test_a_missing_baseline_sets_no_bar() -> None:
    # t has no baseline row, u's baseline has no score: B is feasible on both (r = 2),
    # though it would be below a baseline of 1.5.
    profiles = performance_profiles(
        [*task("t", "max", A=2, B=1), *task("u", "max", A=2, B=1, baseline=None)]
    )
    ratios = profiles.ratios["best_attempt"]
    assert ratios["t"] == {"A": 1.0, "B": 2.0, "baseline": pytest.approx(2.1)}
    assert ratios["u"] == ratios["t"]


def test_scores_that_are_not_finite_are_missing() -> None:
    profiles = performance_profiles(task("t", "max", baseline=1, A=2, B=math.nan, C=math.inf))
    ratios = profiles.ratios["best_attempt"]["t"]
    assert ratios["B"] == ratios["C"] == pytest.approx(2.1)


def test_tau_max_is_shared_by_both_variants() -> None:
    # best attempt: A ties the baseline, R = 1: alone, tau_max would be 0.4.
    # best submission: A 9, baseline 1: R = 9, ceil(9.45) = 10, tau_max = 1.0 for both.
    attempt = task("t", "max", "best_attempt", baseline=1, A=1)
    submission = task("t", "max", "best_submission", baseline=1, A=9)
    assert performance_profiles(attempt).tau_max == 0.4
    profiles = performance_profiles(attempt + submission)
    assert profiles.tau_max == 1.0
    assert all(len(profiles.rho[v]["A"]) == 500 for v in VARIANTS)
    assert profiles.aup["best_attempt"] == {"A": 1.0, "baseline": 1.0}


def test_a_given_tau_max_overrides_the_derived_one() -> None:
    # baseline, best submission: log10 9 = 0.954 on the grid 2 i / 499: first reached at
    # i = 239 (238.1), so 2/499 * (499 - 239) = 1.042084 -> 1.042.
    scores = [
        *task("t", "max", "best_attempt", baseline=1, A=1),
        *task("t", "max", "best_submission", baseline=1, A=9),
    ]
    profiles = performance_profiles(scores, tau_max=2.0)
    assert (profiles.tau_max, profiles.taus[-1]) == (2.0, 2.0)
    assert profiles.aup["best_submission"] == {"A": 2.0, "baseline": 1.042}


def test_a_variant_with_no_rows_is_left_out() -> None:
    profiles = performance_profiles(task("t", "max", baseline=1, A=2))
    assert profiles.rho["best_submission"] == {}
    assert profiles.aup["best_submission"] == {}
    assert profiles.ratios["best_submission"] == {}


def test_a_solver_with_rows_in_one_variant_is_missing_in_the_other() -> None:
    scores = [
        *task("t", "max", "best_attempt", baseline=1, A=2, B=4),
        *task("t", "max", "best_submission", baseline=1, A=2),
    ]
    # best submission: best 2, R = 2; B has no row there: 2.1.
    ratios = performance_profiles(scores).ratios["best_submission"]["t"]
    assert ratios["B"] == pytest.approx(2.1)


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        (
            task("t", "max", baseline=1) * 2,
            "Two scores for the task 't', solver 'baseline' and variant best_attempt.",
        ),
        (
            task("t", "max", baseline=1) + task("t", "min", "best_submission", A=1),
            "The task 't' has two directions: max and min.",
        ),
        (
            [SolverScore("t", "A", "best", 1.0, "max")],  # type: ignore[arg-type]
            "Unknown variant 'best': use one of best_attempt, best_submission.",
        ),
        (
            [SolverScore("t", "A", "best_attempt", 1.0, "up")],  # type: ignore[arg-type]
            "Unknown direction 'up' of the task 't'.",
        ),
    ],
)
def test_inconsistent_scores_are_refused(scores: list[SolverScore], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        performance_profiles(scores)


@pytest.mark.parametrize("tau_max", [0.0, -1.0, math.nan, math.inf])
def test_tau_max_must_be_finite_and_above_zero(tau_max: float) -> None:
    with pytest.raises(ValueError, match=r"^tau_max must be a finite number above 0, not "):
        performance_profiles(TWO_TASKS, tau_max=tau_max)


def test_the_grid_needs_two_points() -> None:
    with pytest.raises(ValueError, match=r"^A grid needs at least 2 points, not 1\.$"):
        performance_profiles(TWO_TASKS, points=1)


# --- the CSV file ---

HEADER = "task,solver,variant,score,direction\n"


def write(tmp_path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    path = tmp_path / "scores.csv"
    path.write_text(text, encoding=encoding)
    return path


def test_read_scores_csv(tmp_path: Path) -> None:
    # A byte-order mark, a header in capitals with spaces, an extra column, padded values
    # and an empty score are all fine.
    path = write(
        tmp_path,
        " Task , SOLVER,variant,score,direction,note\n"
        "t1,baseline,best_attempt,0.5,max,from the paper\n"
        "t1, A ,best_submission, ,max,\n"
        "t2,baseline,best_attempt,-1e-3,min,\n"
        "t2,baseline,best_submission,2,min,\n"
        "t1,baseline,best_submission,1,max,\n",
        encoding="utf-8-sig",
    )
    assert read_scores_csv(path) == [
        SolverScore("t1", "baseline", "best_attempt", 0.5, "max"),
        SolverScore("t1", "A", "best_submission", None, "max"),
        SolverScore("t2", "baseline", "best_attempt", -0.001, "min"),
        SolverScore("t2", "baseline", "best_submission", 2.0, "min"),
        SolverScore("t1", "baseline", "best_submission", 1.0, "max"),
    ]


ROW = "t,baseline,best_attempt,1,max\n"


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("", 1, "the file is empty: the first line must name the columns " + HEADER.strip()),
        (
            "task,solver,variant,score\nt,baseline,best_attempt,1\n",
            1,
            "no column direction: the first line must name the columns " + HEADER.strip(),
        ),
        (HEADER, 2, "no scores: the file has a header but no rows"),
        (
            HEADER + ROW + "t,A,best,1,max\n",
            3,
            "unknown variant 'best': use best_attempt or best_submission",
        ),
        (
            HEADER + "t,baseline,best_attempt,1,up\n",
            2,
            "unknown direction 'up': use max (higher is better) or min",
        ),
        (
            HEADER + "t,baseline,best_attempt,1.5x,max\n",
            2,
            "the score '1.5x' is not a number (leave it empty if missing)",
        ),
        (
            HEADER + "t,baseline,best_attempt,nan,max\n",
            2,
            "the score 'nan' is not a number (leave it empty if missing)",
        ),
        (
            HEADER + ROW + "t,baseline,best_attempt,2,max\n",
            3,
            "a second row for the task 't', "
            "solver 'baseline' and variant best_attempt (the first is on line 2)",
        ),
        (
            HEADER + ROW + "t,A,best_attempt,2,min\n",
            3,
            "the task 't' has the direction min here but max on line 2",
        ),
        (
            HEADER + ROW + "u,A,best_attempt,2,max\n",
            3,
            "the task 'u' has no baseline row for "
            "best_attempt: add one with the solver 'baseline' and the task's baseline score",
        ),
        (
            HEADER + ROW + "t,A,best_submission,2,max\n",
            2,
            "the task 't' has no baseline row "
            "for best_submission: add one with the solver 'baseline' and the task's baseline "
            "score",
        ),
        (HEADER + "t,baseline,best_attempt,1\n", 2, "fewer values than the header has columns"),
        (
            HEADER + "t,baseline,best_attempt,1,max,x\n",
            2,
            "more values than the header has columns",
        ),
        (HEADER + ",baseline,best_attempt,1,max\n", 2, "the task is empty"),
        (HEADER + "t, ,best_attempt,1,max\n", 2, "the solver is empty"),
    ],
)
def test_a_broken_csv_names_the_file_line_and_problem(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=f"^{re.escape(f'{path}, line {line}: {problem}.')}$"):
        read_scores_csv(path)


def test_a_missing_csv(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    message = f"Cannot read the scores file {path}: No such file or directory."
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        read_scores_csv(path)


def test_a_csv_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_bytes(HEADER.encode() + b"t,b\xe9seline,best_attempt,1,max\n")
    with pytest.raises(ConfigError, match=f"^{re.escape(f'{path}: not UTF-8 text (')}"):
        read_scores_csv(path)


# --- properties ---

SOLVERS = ["a", "b", "c"]
SCORES = st.one_of(
    st.none(),
    st.integers(-2, 12).map(float),  # small integers: ties, zeros and negatives are frequent
    st.floats(-1.0, 1000.0, allow_nan=False),
)
TAU_MAX = st.integers(1, 30).map(lambda k: k / 10)


@st.composite
def tables(draw: st.DrawFn) -> list[SolverScore]:
    """Up to 4 tasks of either direction, the baseline and up to 3 agents, both variants;
    any (task, agent, variant) may have no row, and any score may be missing."""
    agents = draw(st.lists(st.sampled_from(SOLVERS), min_size=1, max_size=3, unique=True))
    rows = []
    for t in range(draw(st.integers(1, 4))):
        direction: Direction = draw(st.sampled_from(["max", "min"]))
        for solver in [BASELINE, *agents]:
            for variant in VARIANTS:
                if solver == BASELINE or draw(st.integers(0, 5)):
                    rows.append(SolverScore(f"t{t}", solver, variant, draw(SCORES), direction))
    return rows


def by_key(rows: list[SolverScore]) -> dict[tuple[str, Variant], list[SolverScore]]:
    groups: dict[tuple[str, Variant], list[SolverScore]] = {}
    for row in rows:
        groups.setdefault((row.task, row.variant), []).append(row)
    return groups


@given(tables(), st.one_of(st.none(), TAU_MAX))
def test_aup_is_at_most_tau_max(rows: list[SolverScore], tau_max: float | None) -> None:
    profiles = performance_profiles(rows, tau_max=tau_max)
    for variant in VARIANTS:
        for value in profiles.aup[variant].values():
            assert 0.0 <= value <= profiles.tau_max


@given(tables())
def test_the_derived_tau_max_lets_every_solver_reach_every_task_it_can(
    rows: list[SolverScore],
) -> None:
    # Every finite ratio, penalties included, is within the grid: at tau_max, rho is the
    # share of tasks where somebody is feasible.
    profiles = performance_profiles(rows)
    for variant in VARIANTS:
        ratios = profiles.ratios[variant]
        solved = sum(math.isfinite(min(r.values())) for r in ratios.values())
        for rho in profiles.rho[variant].values():
            assert rho[-1] == solved / len(ratios)


def best_everywhere(rows: list[SolverScore]) -> list[SolverScore]:
    """A solver 'star', strictly best (max tasks) or best, at 0 (min tasks), everywhere."""
    star = []
    for (name, variant), group in by_key(rows).items():
        direction = group[0].direction
        present = [r.score for r in group if r.score is not None]
        baseline = next((r.score for r in group if r.solver == BASELINE), None)
        # In a min task, 0 is feasible only when the baseline is not below 0.
        assume(direction == "max" or baseline is None or baseline >= 0)
        score = max([0.0, *present]) + 1 if direction == "max" else 0.0
        star.append(SolverScore(name, "star", variant, score, direction))
    return star


@given(tables(), st.one_of(st.none(), TAU_MAX))
def test_the_solver_best_on_every_task_gets_the_maximum(
    rows: list[SolverScore], tau_max: float | None
) -> None:
    profiles = performance_profiles(rows + best_everywhere(rows), tau_max=tau_max)
    for variant in VARIANTS:
        assert profiles.aup[variant]["star"] == round(profiles.tau_max, 3)
        assert max(profiles.aup[variant].values()) == profiles.aup[variant]["star"]


@st.composite
def dominated(draw: st.DrawFn, rows: list[SolverScore]) -> list[SolverScore]:
    """A solver 'weak', no better than any other on any task: where anybody is missing, it is
    missing too (or below 0); elsewhere it ties the worst score or is worse."""
    weak = []
    solvers = {r.solver for r in rows}
    for (name, variant), group in by_key(rows).items():
        direction, scores = group[0].direction, [r.score for r in group]
        if None in scores or len(group) < len(solvers):
            score = draw(st.sampled_from([None, -1.0]))
        else:
            gap = draw(st.sampled_from([0.0, 0.5, 3.0]))
            present = [s for s in scores if s is not None]
            score = min(present) - gap if direction == "max" else max(present) + gap
        weak.append(SolverScore(name, "weak", variant, score, direction))
    return weak


@given(st.data(), tables(), TAU_MAX)
def test_a_dominated_solver_changes_no_other_profile(
    data: st.DataObject, rows: list[SolverScore], tau_max: float
) -> None:
    before = performance_profiles(rows, tau_max=tau_max)
    after = performance_profiles(rows + data.draw(dominated(rows)), tau_max=tau_max)
    for variant in VARIANTS:
        assert {s: p for s, p in after.rho[variant].items() if s != "weak"} == before.rho[variant]
