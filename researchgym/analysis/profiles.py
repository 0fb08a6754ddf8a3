"""Performance profiles and AUP, as the MLGym paper defines them, from any table of scores.

The input is one ``SolverScore`` per task, solver and variant (best attempt or best
submission): our own runs' scores, or a table a user brings (``read_scores_csv``). The
task's baseline is one more solver, named ``baseline``. Per variant:

1. Feasible: a score that is >= 0 and not worse than the baseline's (by the task's direction).
2. Per task, over the feasible solvers, the best score b; a solver's ratio r = b/s when higher
   is better and s/b when lower is better, so r >= 1 and the best gets 1. R is the task's
   worst feasible ratio.
3. An infeasible or missing score gets r = 1.05 * R.
4. tau_max = ceil(10 * log10(M)) / 10, where M is the largest ceil(1.05 * R) over the tasks of
   both variants: one grid for both, so that their AUPs compare (unless a caller gives one).
5. rho(tau) = the share of tasks with log10(r) <= tau, on ``points`` (500) evenly spaced tau
   from 0 to tau_max, both included.
6. AUP = the left Riemann sum of rho over that grid (the last point opens no interval),
   rounded to 3 decimals. It is at most tau_max, which a solver best on every task gets.

Where those rules are silent or break, this module chooses as follows, close to what MLGym's
evaluation script (``mlgym/evaluation``) does where it does not fail: there a ratio that
cannot be computed is NaN, which no tau ever reaches, and a score of 0 divides by zero.

- Ties: equal scores get equal ratios; every solver tied for the best gets 1, every one tied
  for the worst feasible score gets R.
- A solver with no row for a task, a score of None, NaN or +-inf: missing, so r = 1.05 * R.
  Every task and every solver of the input (of either variant) count in each variant that
  has any row: a solver is missing wherever it has no row.
- A negative baseline is infeasible (r = 1.05 * R) but is still the bar, taken literally: in a
  max task every non-negative score beats it; in a min task no score can be both >= 0 and
  at most it, so nobody is feasible there (next point). A missing baseline sets no bar: then
  feasible means >= 0.
- A task where nobody is feasible has no R: every solver gets r = inf there (the task still
  counts in every share, and nobody ever reaches it) and the task plays no part in tau_max.
- A ratio that would be infinite (a score of 0 in a max task whose best is above 0; any score
  above 0 in a min task whose best is 0; or one so large that 1.05 times it overflows a float)
  counts as infeasible: it gets 1.05 * R, R being the worst finite ratio, so such a score
  ranks below every feasible one and tau_max stays finite. When the best is itself 0, every
  solver with 0 ties for the best (r = 1).
- tau_max when no task of either variant has a feasible solver: that of R = 1,
  ceil(10 * log10(ceil(1.05))) / 10 = 0.4 (R = 1 is also the smallest R there is, so 0.4 is
  the smallest derived tau_max). A given tau_max must be finite and above 0.
- A variant with no row at all is left out: its ``rho``, ``aup`` and ``ratios`` are empty.

Example (one task; the agent doubles the baseline, so R = 2, M = ceil(2.1) = 3 and
tau_max = ceil(4.77) / 10 = 0.5; the baseline's log10(2) = 0.301 is first reached at the grid
point 301 of 0..499, leaving 198 steps of 0.5/499 under rho = 1)::

    >>> profiles = performance_profiles([
    ...     SolverScore("t", "baseline", "best_attempt", 1.0, "max"),
    ...     SolverScore("t", "agent", "best_attempt", 2.0, "max"),
    ... ])
    >>> profiles.tau_max, profiles.aup["best_attempt"]
    (0.5, {'agent': 0.5, 'baseline': 0.198})
"""

from __future__ import annotations

import csv
import math
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from researchgym.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

__all__ = [
    "BASELINE",
    "VARIANTS",
    "Profiles",
    "SolverScore",
    "Variant",
    "performance_profiles",
    "read_scores_csv",
]

Variant = Literal["best_attempt", "best_submission"]
"""Which per-solver score a profile ranks: the best attempt, or the best submission."""

VARIANTS: tuple[Variant, ...] = get_args(Variant)

Direction = Literal["max", "min"]
"""Whether higher (max) or lower (min) scores are better (``researchgym.tasks.Direction``)."""

_DIRECTIONS: tuple[Direction, ...] = get_args(Direction)

BASELINE = "baseline"
"""The solver name of a task's baseline."""

PENALTY = 1.05
"""An infeasible or missing score's ratio, as a multiple of the task's worst feasible ratio."""

COLUMNS = ("task", "solver", "variant", "score", "direction")
"""The columns a scores CSV must have (others are ignored)."""


@dataclass(frozen=True)
class SolverScore:
    """One solver's score on one task, for one variant."""

    task: str
    """The task's id."""
    solver: str
    """The agent, model or team (``baseline`` for the task's baseline)."""
    variant: Variant
    """Which score this is: the best attempt or the best submission."""
    score: float | None
    """The score; None when it is missing."""
    direction: Direction
    """Whether higher (max) or lower (min) is better on this task."""


@dataclass(frozen=True)
class Profiles:
    """Every solver's performance profile and AUP, for both variants, on one grid."""

    tau_max: float
    """The grid's right end: derived from the scores, or given."""
    taus: list[float]
    """The grid: ``points`` evenly spaced values from 0 to tau_max, both included."""
    rho: dict[Variant, dict[str, list[float]]]
    """Variant -> solver -> the share of tasks with log10(r) <= tau, for each tau of the grid."""
    aup: dict[Variant, dict[str, float]]
    """Variant -> solver -> the area under its profile (left Riemann sum, 3 decimals)."""
    ratios: dict[Variant, dict[str, dict[str, float]]]
    """Variant -> task -> solver -> r, after the 1.05 penalty (inf where nobody is feasible)."""


def performance_profiles(
    scores: Iterable[SolverScore], *, tau_max: float | None = None, points: int = 500
) -> Profiles:
    """Compute every solver's performance profile and AUP, for both variants.

    Args:
        scores: One score per task, solver and variant; a solver with no row for a task is
            missing there. The baseline is the solver named ``baseline``.
        tau_max: The grid's right end; None derives it from the scores (shared by both
            variants).
        points: How many tau the grid has.

    Returns:
        The grid, and per variant every solver's profile and AUP and every ratio.

    Raises:
        ValueError: Two scores for the same task, solver and variant; a task given two
            directions; an unknown variant or direction; a tau_max that is not above 0 or
            not finite; fewer than 2 points.
    """
    if points < 2:
        raise ValueError(f"A grid needs at least 2 points, not {points}.")
    if tau_max is not None and not (0 < tau_max < math.inf):
        raise ValueError(f"tau_max must be a finite number above 0, not {tau_max}.")
    table = _Table.of(scores)
    per_task = {v: table.ratios(v) for v in VARIANTS if table.has(v)}
    if tau_max is None:
        tau_max = _derived_tau_max(w for tasks in per_task.values() for _, w in tasks.values())
    taus = [tau_max * i / (points - 1) for i in range(points)]
    rho = {
        v: {s: _profile([r[s] for r, _ in tasks.values()], taus) for s in table.solvers}
        for v, tasks in per_task.items()
    }
    return Profiles(
        tau_max=tau_max,
        taus=taus,
        rho={v: rho.get(v, {}) for v in VARIANTS},
        aup={v: {s: _aup(p, taus) for s, p in rho.get(v, {}).items()} for v in VARIANTS},
        ratios={v: {t: r for t, (r, _) in per_task.get(v, {}).items()} for v in VARIANTS},
    )


@dataclass(frozen=True)
class _Table:
    """The scores by variant, task and solver, with each task's direction."""

    scores: dict[Variant, dict[str, dict[str, float | None]]]
    directions: dict[str, Direction]
    solvers: list[str]

    @classmethod
    def of(cls, rows: Iterable[SolverScore]) -> _Table:
        scores: dict[Variant, dict[str, dict[str, float | None]]] = defaultdict(dict)
        directions: dict[str, Direction] = {}
        for row in rows:
            _check_row(row, directions)
            task = scores[row.variant].setdefault(row.task, {})
            if row.solver in task:
                raise ValueError(
                    f"Two scores for the task '{row.task}', solver '{row.solver}' and variant "
                    f"{row.variant}."
                )
            usable = row.score is not None and math.isfinite(row.score)
            task[row.solver] = row.score if usable else None
            directions[row.task] = row.direction
        solvers = sorted({s for tasks in scores.values() for t in tasks.values() for s in t})
        return cls(dict(scores), directions, solvers)

    def has(self, variant: Variant) -> bool:
        return variant in self.scores

    def ratios(self, variant: Variant) -> dict[str, tuple[dict[str, float], float | None]]:
        """Task -> (solver -> r, R), over every task of the input (None: nobody feasible)."""
        given = self.scores[variant]
        return {
            task: _task_ratios(given.get(task, {}), direction, self.solvers)
            for task, direction in sorted(self.directions.items())
        }


def _check_row(row: SolverScore, directions: Mapping[str, Direction]) -> None:
    if row.variant not in VARIANTS:
        raise ValueError(f"Unknown variant '{row.variant}': use one of {', '.join(VARIANTS)}.")
    if row.direction not in _DIRECTIONS:
        raise ValueError(f"Unknown direction '{row.direction}' of the task '{row.task}'.")
    known = directions.get(row.task, row.direction)
    if row.direction != known:
        raise ValueError(f"The task '{row.task}' has two directions: {known} and {row.direction}.")


def _task_ratios(
    scores: Mapping[str, float | None], direction: Direction, solvers: Sequence[str]
) -> tuple[dict[str, float], float | None]:
    """Every solver's ratio on one task, and R (None when nobody is feasible)."""
    feasible = _feasible(scores, direction)
    if not feasible:
        return {s: math.inf for s in solvers}, None
    best = max(feasible.values()) if direction == "max" else min(feasible.values())
    finite = {s: r for s, v in feasible.items() if math.isfinite(r := _ratio(best, v, direction))}
    worst = max(finite.values())  # the best is always finite: its ratio is 1
    return {s: finite.get(s, PENALTY * worst) for s in solvers}, worst


def _feasible(scores: Mapping[str, float | None], direction: Direction) -> dict[str, float]:
    """The feasible scores: >= 0 and not worse than the baseline (when it has a score)."""
    bar = scores.get(BASELINE)
    return {
        solver: score
        for solver, score in scores.items()
        if score is not None
        and score >= 0
        and (bar is None or (score >= bar if direction == "max" else score <= bar))
    }


def _ratio(best: float, score: float, direction: Direction) -> float:
    if score == best:
        return 1.0
    if direction == "max":
        ratio = best / score if score > 0 else math.inf
    else:
        ratio = score / best if best > 0 else math.inf
    return ratio if math.isfinite(PENALTY * ratio) else math.inf


def _derived_tau_max(worst_ratios: Iterable[float | None]) -> float:
    """ceil(10 * log10(max ceil(1.05 * R))) / 10, over the tasks that have an R."""
    top = max((math.ceil(PENALTY * r) for r in worst_ratios if r is not None), default=None)
    return math.ceil(10 * math.log10(top or math.ceil(PENALTY))) / 10


def _profile(ratios: Sequence[float], taus: Sequence[float]) -> list[float]:
    """The profile on the grid: the share of the ratios whose log10 is at most each tau."""
    logs = sorted(math.log10(r) for r in ratios)
    return [bisect_right(logs, tau) / len(logs) if logs else 0.0 for tau in taus]


def _aup(rho: Sequence[float], taus: Sequence[float]) -> float:
    """The left Riemann sum of rho over the grid, rounded to 3 decimals."""
    return round(math.fsum((taus[i + 1] - taus[i]) * rho[i] for i in range(len(taus) - 1)), 3)


def read_scores_csv(path: Path) -> list[SolverScore]:
    """Read a table of scores from a CSV file with the columns task,solver,variant,score,direction.

    ``variant`` is ``best_attempt`` or ``best_submission``, ``direction`` is ``max`` (higher is
    better) or ``min``, an empty score is a missing one, and the solver ``baseline`` is the
    task's baseline. Other columns are ignored.

    Args:
        path: The CSV file (UTF-8, a byte-order mark allowed).

    Returns:
        One score per data line, in the file's order.

    Raises:
        ConfigError: The file cannot be read, or it is not such a table: a column missing, an
            unknown variant or direction, a score that is not a finite number, two rows for the
            same task, solver and variant, a task given two directions, or a task with no
            baseline row for a variant that the file uses. The message names the file and line.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            try:
                return _read(path, reader)
            except csv.Error as error:
                raise _error(path, reader.line_num, f"not valid CSV: {error}") from error
    except OSError as error:
        raise ConfigError(f"Cannot read the scores file {path}: {error.strerror}.") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text ({error.reason}).") from error


def _read(path: Path, reader: csv.DictReader[str]) -> list[SolverScore]:
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if missing := [c for c in COLUMNS if c not in header]:
        problem = f"no column {', '.join(missing)}" if header else "the file is empty"
        raise _error(
            path, 1, f"{problem}: the first line must name the columns {','.join(COLUMNS)}"
        )
    reader.fieldnames = header
    rows = _Rows(path)
    for record in reader:
        rows.add(reader.line_num, _parse(path, reader.line_num, record))
    return rows.checked()


def _parse(path: Path, line: int, record: Mapping[str | None, Any]) -> SolverScore:
    if None in record:  # DictReader's key for the values beyond the header's columns
        raise _error(path, line, "more values than the header has columns")
    if any(record[column] is None for column in COLUMNS):
        raise _error(path, line, "fewer values than the header has columns")
    values = {column: str(record[column]).strip() for column in COLUMNS}
    for column in ("task", "solver"):
        if not values[column]:
            raise _error(path, line, f"the {column} is empty")
    variant, direction = values["variant"], values["direction"]
    if variant not in VARIANTS:
        raise _error(path, line, f"unknown variant '{variant}': use {' or '.join(VARIANTS)}")
    if direction not in _DIRECTIONS:
        raise _error(
            path, line, f"unknown direction '{direction}': use max (higher is better) or min"
        )
    return SolverScore(
        task=values["task"],
        solver=values["solver"],
        variant=variant,
        score=_score(path, line, values["score"]),
        direction=direction,
    )


def _score(path: Path, line: int, text: str) -> float | None:
    if not text:
        return None
    try:
        score = float(text)
    except ValueError:
        score = math.nan
    if not math.isfinite(score):
        raise _error(path, line, f"the score '{text}' is not a number (leave it empty if missing)")
    return score


class _Rows:
    """The rows of a scores file read so far, and the line each was read from."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[SolverScore] = []
        self.lines: dict[tuple[str, str, str], int] = {}
        self.first: dict[str, tuple[int, Direction]] = {}  # task -> its first line, direction

    def add(self, line: int, row: SolverScore) -> None:
        """Add a row, unless it repeats a task, solver and variant or changes a direction."""
        key = (row.task, row.solver, row.variant)
        if key in self.lines:
            raise _error(
                self.path,
                line,
                f"a second row for the task '{row.task}', solver '{row.solver}' and variant "
                f"{row.variant} (the first is on line {self.lines[key]})",
            )
        first, direction = self.first.setdefault(row.task, (line, row.direction))
        if row.direction != direction:
            raise _error(
                self.path,
                line,
                f"the task '{row.task}' has the direction {row.direction} here but "
                f"{direction} on line {first}",
            )
        self.lines[key] = line
        self.rows.append(row)

    def checked(self) -> list[SolverScore]:
        """The rows, once every task has a baseline row for every variant the file uses."""
        if not self.rows:
            raise _error(self.path, 2, "no scores: the file has a header but no rows")
        variants = [v for v in VARIANTS if any(r.variant == v for r in self.rows)]
        for task, (line, _) in self.first.items():
            for variant in variants:
                if (task, BASELINE, variant) not in self.lines:
                    raise _error(
                        self.path,
                        line,
                        f"the task '{task}' has no {BASELINE} row for {variant}: add one with "
                        f"the solver '{BASELINE}' and the task's baseline score",
                    )
        return self.rows


def _error(path: Path, line: int, problem: str) -> ConfigError:
    return ConfigError(f"{path}, line {line}: {problem}.")
