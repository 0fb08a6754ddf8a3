"""The benchmark's metrics, as Arrow tables: thin calls of the views' table macros.

Each function selects runs (``runs``: run ids; None for every run) and returns what its
macro of ``storage/views.py`` returns, so the numbers are the same ones SQL gives::

    best_at_k(con, ["r1"], k=4)            # SELECT * FROM best_at_k(4, runs := ['r1'])
    failures(con, ["r1"], by="task")       # SELECT * FROM failures_by_task(runs := ['r1'])

``profile_scores`` turns Best Attempt@k and Best Submission@k into the input of
``performance_profiles``: one solver per agent label, and the tasks' baselines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args

from researchgym.analysis.profiles import BASELINE, VARIANTS, SolverScore
from researchgym.storage import Dimension, query

if TYPE_CHECKING:
    from collections.abc import Sequence

    import duckdb
    import pyarrow as pa

__all__ = [
    "ActionDimension",
    "actions",
    "best_at_k",
    "costs",
    "exit_statuses",
    "failures",
    "profile_scores",
    "solver_name",
]

ActionDimension = Literal["all", "model", "task", "agent", "step"]
"""What action classes are counted per: nothing (overall), model, task, agent or step index."""

_DIMENSIONS: tuple[str, ...] = get_args(Dimension)
_ACTION_DIMENSIONS: tuple[str, ...] = get_args(ActionDimension)


def best_at_k(con: duckdb.DuckDBPyConnection, runs: Sequence[str] | None, k: int) -> pa.Table:
    """Best Attempt@k and Best Submission@k per task and agent (the ``best_at_k`` macro).

    Raises:
        ValueError: If k is below 1.
        QueryError: If the database lacks the views (not opened by open_database).
    """
    if k < 1:
        raise ValueError(f"k counts attempts: it must be 1 or more, not {k}.")
    return query(con, "SELECT * FROM best_at_k($k, runs := $runs)", {"k": k, "runs": runs})


def failures(
    con: duckdb.DuckDBPyConnection, runs: Sequence[str] | None, *, by: Dimension = "model"
) -> pa.Table:
    """Episodes, failed and incomplete ones per model, task or agent (``failures_by_<by>``).

    Raises:
        ValueError: If ``by`` is not a Dimension.
        QueryError: If the database lacks the views.
    """
    return _by(con, "failures", by, _DIMENSIONS, runs)


def exit_statuses(
    con: duckdb.DuckDBPyConnection, runs: Sequence[str] | None, *, by: Dimension = "model"
) -> pa.Table:
    """How many episodes ended with each exit status, per model, task or agent.

    Raises:
        ValueError: If ``by`` is not a Dimension.
        QueryError: If the database lacks the views.
    """
    return _by(con, "exit_statuses", by, _DIMENSIONS, runs)


def actions(
    con: duckdb.DuckDBPyConnection, runs: Sequence[str] | None, *, by: ActionDimension = "all"
) -> pa.Table:
    """Steps per action class: overall, or per model, task, agent or step index.

    Raises:
        ValueError: If ``by`` is not an ActionDimension.
        QueryError: If the database lacks the views.
    """
    if by == "all":
        return query(con, "SELECT * FROM action_classes(runs := $runs)", {"runs": runs})
    return _by(con, "action_classes", by, _ACTION_DIMENSIONS, runs)


def costs(
    con: duckdb.DuckDBPyConnection, runs: Sequence[str] | None, *, by: Dimension = "model"
) -> pa.Table:
    """Model calls, tokens and cost per model (as asked for), task or agent.

    Raises:
        ValueError: If ``by`` is not a Dimension.
        QueryError: If the database lacks the views.
    """
    return _by(con, "costs", by, _DIMENSIONS, runs)


def _by(
    con: duckdb.DuckDBPyConnection,
    name: str,
    by: str,
    allowed: tuple[str, ...],
    runs: Sequence[str] | None,
) -> pa.Table:
    if by not in allowed:
        raise ValueError(f"{name} are counted by {', '.join(allowed)}, not '{by}'.")
    return query(con, f"SELECT * FROM {name}_by_{by}(runs := $runs)", {"runs": runs})


def solver_name(agent: str) -> str:
    """Return the solver name of an agent label in performance profiles.

    An agent may be labelled ``baseline`` (the baseline agent is, by default), but that
    solver name is the tasks' own baseline scores; such an agent becomes ``baseline (agent)``.
    """
    return f"{agent} (agent)" if agent == BASELINE else agent


def profile_scores(
    con: duckdb.DuckDBPyConnection, runs: Sequence[str] | None, k: int
) -> list[SolverScore]:
    """Return the scores that performance profiles rank: Best Attempt@k and Best Submission@k.

    One solver per agent label (see ``solver_name``), with both variants of each task it ran
    (None where it has no score), and ``baseline`` with each task's baseline score. An agent
    that never ran a task has no row there, which performance_profiles counts as missing.

    Raises:
        ValueError: If k is below 1.
        QueryError: If the database lacks the views.
    """
    rows = best_at_k(con, runs, k).to_pylist()
    tasks = {r["task_id"]: r for r in rows}  # any row of a task has its baseline and direction
    baselines = [
        SolverScore(task, BASELINE, variant, row["baseline"], row["direction"])
        for task, row in sorted(tasks.items())
        for variant in VARIANTS
    ]
    return baselines + [
        SolverScore(
            r["task_id"], solver_name(r["agent"]), variant, r[f"{variant}_at_k"], r["direction"]
        )
        for r in rows
        for variant in VARIANTS
    ]
