"""The run report, on the runs of tests/storage/test_views (see EPISODES there), by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from researchgym.analysis import latest_run_id, report
from researchgym.storage import open_database
from tests.storage.test_views import write_runs

if TYPE_CHECKING:
    from collections.abc import Iterator

    import duckdb

    from researchgym.analysis import Report


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    with open_database(write_runs(tmp_path_factory.mktemp("report"), "duckdb")) as connection:
        yield connection


@pytest.fixture(scope="module")
def r1(con: duckdb.DuckDBPyConnection) -> Report:
    return report(con, ["r1"], k=4)


def test_scores_per_task_beside_the_baseline(r1: Report) -> None:
    assert r1.by_task("best_attempt").to_pylist() == [
        {"task": "down", "metric": "Loss ↓", "baseline": 10.0, "baseline (agent)": None,
         "llm": 7.0, "team": 3.0},
        {"task": "up", "metric": "Score ↑", "baseline": 1.0, "baseline (agent)": 1.0,
         "llm": 6.0, "team": None},
    ]  # fmt: skip
    assert r1.by_task("best_submission").to_pylist() == [
        {"task": "down", "metric": "Loss ↓", "baseline": 10.0, "baseline (agent)": None,
         "llm": 8.0, "team": 12.0},
        {"task": "up", "metric": "Score ↑", "baseline": 1.0, "baseline (agent)": 1.0,
         "llm": 6.0, "team": None},
    ]  # fmt: skip
    assert (r1.runs, r1.k, r1.scores.num_rows) == (["r1"], 4, 5)


def test_aup_per_solver_for_both_variants(r1: Report) -> None:
    # Ratios (best attempt; best submission). up, R = 6: llm 1; baseline and the baseline
    # agent 6; team missing 6.3 (both variants). down, best attempt: team 1, llm 7/3,
    # baseline 10/3 = R, baseline agent missing 3.5; best submission: llm 1, baseline
    # 1.25 = R, team (12, worse than the baseline) and the baseline agent 1.3125.
    # tau_max = ceil(10 log10 ceil(6.3)) / 10 = 0.9. On the grid tau_i = 0.9 i / 499, rho
    # steps up at the first i with tau_i >= log10(r); AUP = 0.9 / 499 * sum of rho_i, i < 499.
    # llm: 0.5 until i = 205, then 1: (205 * 0.5 + 294) * 0.9 / 499 = 0.715; 1 throughout: 0.9.
    # team: 0.5 until 444: (444 * 0.5 + 55) -> 0.5; 0 until 66, 0.5 until 444: 244 -> 0.44.
    # baseline: 0 until 290, 0.5 until 432: 138 -> 0.249; 0 until 54: 256 -> 0.462.
    # baseline agent: 0 until 302: 132 -> 0.238; 0 until 66: 250 -> 0.451.
    assert r1.tau_max == 0.9
    aup = [(r["solver"], r["aup_best_attempt"], r["aup_best_submission"]) for r in
           r1.solvers.to_pylist()]  # fmt: skip
    assert aup == [
        ("baseline", 0.249, 0.462),
        ("baseline (agent)", 0.238, 0.451),
        ("llm", 0.715, 0.9),
        ("team", 0.5, 0.44),
    ]


def test_failures_tokens_and_cost_per_agent(r1: Report) -> None:
    columns = ["episodes", "failed", "incomplete", "model_calls", "unpriced_calls",
               "input_tokens", "output_tokens", "cost_usd"]  # fmt: skip
    assert [[r[c] for c in ["solver", *columns]] for r in r1.solvers.to_pylist()] == [
        ["baseline", None, None, None, None, None, None, None, None],
        ["baseline (agent)", 1, 0, 0, 0, 0, 0, 0, 0.0],
        ["llm", 7, 1, 2, 2, 0, 300, 30, 1.5],
        ["team", 3, 1, 0, 2, 1, 80, 8, 0.25],
    ]


def test_exit_statuses_per_agent(r1: Report) -> None:
    rows = [(r["agent"], r["exit_status"], r["episodes"]) for r in r1.exit_statuses.to_pylist()]
    assert rows[:2] == [("baseline", "submitted", 1), ("llm", "submitted", 3)]
    assert sum(n for _, _, n in rows) == 11


def test_runs_are_selected(con: duckdb.DuckDBPyConnection) -> None:
    only_r2 = report(con, ["r2"], k=4)
    assert only_r2.by_task("best_submission").to_pylist() == [
        {"task": "up", "metric": "Score ↑", "baseline": 1.0, "llm": 7.0}
    ]
    assert report(con, ["nope"], k=4).scores.num_rows == 0


def test_latest_run_is_the_one_that_started_last(con: duckdb.DuckDBPyConnection) -> None:
    assert latest_run_id(con) == "r2"
