"""The plots of some runs, as PNG files: every number from the metrics (``metrics.py``).

``write_plots(con, runs, out)`` writes one file per name of ``PLOTS`` into ``out``:

```
profiles_best_attempt.png     performance profiles of Best Attempt@k (report.py's AUPs)
profiles_best_submission.png  ... of Best Submission@k, on the same tau grid
aup_vs_cost.png               each solver's two AUPs against its total cost in USD
exit_statuses_by_model.png    how the episodes of each model ended, as shares
failures_by_model.png         failed and incomplete episodes per model
failures_by_task.png          ... per task
actions_overall.png           steps per action class
actions_by_model.png          action-class shares per model
actions_by_task.png           ... per task
actions_by_step.png           ... per step index (binned beyond 60 steps)
```

A plot with nothing to show (no scores, no actions) is still written, saying so, so that the
same files always exist. Colours follow one solver, exit status or action class across
the plots. The drawing is in ``charts.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from researchgym.analysis import charts
from researchgym.analysis.charts import AupPoint, Counts
from researchgym.analysis.metrics import actions, exit_statuses, failures, profile_scores
from researchgym.analysis.profiles import BASELINE, VARIANTS, Profiles, performance_profiles
from researchgym.analysis.report import Report, report
from researchgym.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    import duckdb
    import pyarrow as pa

    from researchgym.analysis.profiles import Variant

__all__ = ["PLOTS", "write_plots"]

MAX_STEP_BARS = 60
"""More step indices than this are put in bins of equal width, at most this many."""

_NO_EPISODES = "No episodes in these runs."
_NO_ACTIONS = "No actions in these runs."

_NO_KEY = {"model": "(no model)", "task_id": "(no task)", "action_class": "(unclassified)"}
"""The label of a null key: episodes of agents that call no model (the baseline), ..."""


@dataclass(frozen=True)
class _Source:
    """Where the plots' numbers come from, each computed once."""

    con: duckdb.DuckDBPyConnection
    runs: list[str]
    k: int

    @cached_property
    def profiles(self) -> Profiles:
        return performance_profiles(profile_scores(self.con, self.runs, self.k))

    @cached_property
    def report(self) -> Report:
        return report(self.con, self.runs, k=self.k)

    @cached_property
    def actions(self) -> pa.Table:
        return actions(self.con, self.runs)

    @cached_property
    def action_colours(self) -> dict[str, Any]:
        return charts.palette(_labels(self.actions, "action_class"))

    @cached_property
    def solver_colours(self) -> dict[str, Any]:
        solvers = set(self.report.solvers.column("solver").to_pylist())
        solvers |= {s for v in VARIANTS for s in self.profiles.rho[v]}
        return charts.palette(sorted(solvers - {BASELINE})) | {BASELINE: "black"}

    def title(self, what: str) -> str:
        runs = ", ".join(self.runs) if len(self.runs) <= 3 else f"{len(self.runs)} runs"
        return f"{what}\nruns: {runs}"


def write_plots(
    con: duckdb.DuckDBPyConnection,
    runs: Sequence[str],
    out: Path,
    *,
    k: int = 4,
    on_written: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Write every plot of PLOTS for the given runs, as PNG files in ``out``.

    Args:
        con: A connection from open_database.
        runs: The run ids to cover.
        out: The folder to write into; made if missing. Files of the same names are replaced.
        k: Attempts counted per task and agent in the performance profiles.
        on_written: Called with each file's path once it is written (for progress).

    Returns:
        The files written, in the order of PLOTS.

    Raises:
        ValueError: If k is below 1.
        QueryError: If the database lacks the tables or views (not opened by open_database).
        StorageError: If ``out`` cannot be made or a file in it cannot be written.
    """
    if k < 1:
        raise ValueError(f"k counts attempts: it must be 1 or more, not {k}.")
    source = _Source(con, list(runs), k)
    written: list[Path] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, draw in _PLOTS.items():
            draw(source, out / name)
            written.append(out / name)
            if on_written is not None:
                on_written(out / name)
    except OSError as error:
        raise StorageError(f"Cannot write the plots to {out}: {error.strerror}.") from error
    return written


def _profiles(variant: Variant, source: _Source, path: Path) -> None:
    profiles = source.profiles
    title = source.title(f"Performance profiles: {_shown(variant)}@{source.k}")
    if not profiles.rho[variant]:
        charts.no_data(path, title=title, note=_NO_EPISODES)
        return
    charts.profiles(
        path,
        title=title,
        taus=profiles.taus,
        curves=profiles.rho[variant],
        aup=profiles.aup[variant],
        colours=source.solver_colours,
        dashed=BASELINE,
    )


def _aup_vs_cost(source: _Source, path: Path) -> None:
    rows = source.report.solvers.to_pylist()
    title = source.title(f"AUP against cost (k = {source.k})")
    points = [
        AupPoint(
            r["solver"],
            r["cost_usd"] or 0.0,
            _cost_note(r),
            {_shown(v): r[f"aup_{v}"] for v in VARIANTS},
        )
        for r in rows
        if any(r[f"aup_{v}"] is not None for v in VARIANTS)
    ]
    if not points:
        charts.no_data(path, title=title, note=_NO_EPISODES)
        return
    charts.aup_against_cost(path, title=title, points=points, colours=source.solver_colours)


def _cost_note(solver: dict[str, Any]) -> str | None:
    """Why a solver's cost is 0 or only part of it; None when every call was priced."""
    if not solver["model_calls"]:
        return "no model calls"
    if solver["unpriced_calls"]:
        return "cost unknown" if not solver["cost_usd"] else "some calls unpriced"
    return None if solver["cost_usd"] else "$0 model"


def _exit_statuses(source: _Source, path: Path) -> None:
    table = exit_statuses(source.con, source.runs, by="model")
    title = source.title("Exit statuses per model")
    if table.num_rows == 0:
        charts.no_data(path, title=title, note=_NO_EPISODES)
        return
    counts = _pivot(table, "model", "exit_status", "episodes")
    colours = charts.palette(counts.columns)
    charts.stacked_shares(
        path, title=title, counts=counts, colours=colours, unit="episodes", legend="exit status"
    )


def _failures(by: str, source: _Source, path: Path) -> None:
    table = failures(source.con, source.runs, by="task" if by == "task_id" else "model")
    per = "task" if by == "task_id" else "model"
    title = source.title(f"Failed and incomplete episodes per {per}")
    if table.num_rows == 0:
        charts.no_data(path, title=title, note=_NO_EPISODES)
        return
    rows = table.to_pylist()
    counts = Counts(
        rows=[f"{_key(r[by], by)} ({r['episodes']:,} episodes)" for r in rows],
        columns=["failed", "incomplete"],
        values=[[int(r["failed"]), int(r["incomplete"])] for r in rows],
    )
    charts.grouped_counts(
        path,
        title=title,
        counts=counts,
        colours={"failed": "tab:red", "incomplete": "tab:orange"},
        xlabel="episodes ended in error: failed with no score, incomplete with some score",
    )


def _actions_overall(source: _Source, path: Path) -> None:
    table = source.actions
    total = sum(table.column("steps").to_pylist())
    title = source.title(f"Action classes over all {total:,} steps")
    if table.num_rows == 0:
        charts.no_data(path, title=title, note=_NO_ACTIONS)
        return
    charts.count_bars(
        path,
        title=title,
        labels=_labels(table, "action_class"),
        counts=table.column("steps").to_pylist(),
        colours=source.action_colours,
        ylabel="steps",
    )


def _actions_by(by: str, source: _Source, path: Path) -> None:
    per = "task" if by == "task_id" else by
    table = actions(source.con, source.runs, by="task" if by == "task_id" else "model")
    title = source.title(f"Action classes per {per}")
    if table.num_rows == 0:
        charts.no_data(path, title=title, note=_NO_ACTIONS)
        return
    counts = _pivot(
        table, by, "action_class", "steps", order=_labels(source.actions, "action_class")
    )
    charts.stacked_shares(
        path,
        title=title,
        counts=counts,
        colours=source.action_colours,
        unit="steps",
        legend="action class",
    )


def _actions_by_step(source: _Source, path: Path) -> None:
    every = actions(source.con, source.runs, by="step").to_pylist()
    rows = [r for r in every if r["step"] is not None]
    title = source.title("Action classes per step")
    if not rows:
        charts.no_data(path, title=title, note=_NO_ACTIONS)
        return
    order = _labels(source.actions, "action_class")
    first, last = min(r["step"] for r in rows), max(r["step"] for r in rows)
    width = math.ceil((last - first + 1) / MAX_STEP_BARS)
    starts = list(range(first, last + 1, width))
    values = [[0.0] * len(order) for _ in starts]
    for r in rows:
        column = order.index(_key(r["action_class"], "action_class"))
        values[(r["step"] - first) // width][column] += r["steps"]
    counts = Counts([str(s) for s in starts], order, values)
    charts.shares_by_step(
        path, title=title, starts=starts, width=width, counts=counts, colours=source.action_colours
    )


def _shown(variant: Variant) -> str:
    return variant.replace("_", " ").title()


def _key(value: object, column: str) -> str:
    return _NO_KEY.get(column, "(none)") if value is None else str(value)


def _labels(table: pa.Table, column: str) -> list[str]:
    """A column's distinct values as labels, in the table's order."""
    return list(dict.fromkeys(_key(v, column) for v in table.column(column).to_pylist()))


def _pivot(
    table: pa.Table, row: str, column: str, value: str, *, order: list[str] | None = None
) -> Counts:
    """A long table (row key, column key, count) as Counts; columns by ``order`` or by total."""
    cells: dict[tuple[str, str], float] = {}
    for r in table.to_pylist():
        cells[_key(r[row], row), _key(r[column], column)] = float(r[value])
    rows = _labels(table, row)
    if order is None:
        totals: dict[str, float] = {}
        for (_, c), v in cells.items():
            totals[c] = totals.get(c, 0.0) + v
        order = sorted(totals, key=lambda c: (-totals[c], c))
    return Counts(rows, order, [[cells.get((r, c), 0.0) for c in order] for r in rows])


_PLOTS: dict[str, Callable[[_Source, Path], None]] = {
    "profiles_best_attempt.png": partial(_profiles, "best_attempt"),
    "profiles_best_submission.png": partial(_profiles, "best_submission"),
    "aup_vs_cost.png": _aup_vs_cost,
    "exit_statuses_by_model.png": _exit_statuses,
    "failures_by_model.png": partial(_failures, "model"),
    "failures_by_task.png": partial(_failures, "task_id"),
    "actions_overall.png": _actions_overall,
    "actions_by_model.png": partial(_actions_by, "model"),
    "actions_by_task.png": partial(_actions_by, "task_id"),
    "actions_by_step.png": _actions_by_step,
}

PLOTS: tuple[str, ...] = tuple(_PLOTS)
"""The files write_plots writes, in order."""
