"""The run report: the benchmark's headline numbers for a selection of runs.

Per task and agent, Best Attempt@k and Best Submission@k beside the task's baseline; per
solver (each agent label, and the baseline), the AUP of both performance profiles, with the
agent's failed and incomplete episodes, tokens and cost; and how the episodes ended. Every
number comes from the views (``storage/views.py``) through ``metrics.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from researchgym.analysis.metrics import best_at_k, exit_statuses, profile_scores, solver_name
from researchgym.analysis.profiles import BASELINE, VARIANTS, performance_profiles
from researchgym.storage import query, run_state

if TYPE_CHECKING:
    from collections.abc import Sequence

    import duckdb

    from researchgym.analysis.profiles import Variant

__all__ = ["Report", "latest_run_id", "report"]

_AGENTS_SQL = """
SELECT f.agent, f.episodes, f.failed, f.incomplete,
       coalesce(c.calls, 0) AS model_calls, coalesce(c.unpriced_calls, 0) AS unpriced_calls,
       coalesce(c.input_tokens, 0) AS input_tokens, coalesce(c.output_tokens, 0) AS output_tokens,
       coalesce(c.cost_usd, 0.0) AS cost_usd
FROM failures_by_agent(runs := $runs) f LEFT JOIN costs_by_agent(runs := $runs) c USING (agent)
"""

_SOLVER_SCHEMA = pa.schema(
    [
        ("solver", pa.string()),
        ("aup_best_attempt", pa.float64()),
        ("aup_best_submission", pa.float64()),
        ("episodes", pa.int64()),
        ("failed", pa.int64()),
        ("incomplete", pa.int64()),
        ("model_calls", pa.int64()),
        ("unpriced_calls", pa.int64()),
        ("input_tokens", pa.int64()),
        ("output_tokens", pa.int64()),
        ("cost_usd", pa.float64()),
    ]
)


@dataclass(frozen=True)
class Report:
    """The report of some runs (``report()``)."""

    runs: list[str]
    """The run ids it covers."""
    states: dict[str, str]
    """Each run's status (``run_state``): running, completed, failed, cancelled, or
    interrupted for a run whose process is gone."""
    k: int
    """Attempts counted per task and agent: the first k by attempt number."""
    scores: pa.Table
    """Per task and agent: the rows of the ``best_at_k`` macro."""
    tau_max: float
    """The right end of the performance profiles' grid, derived from the scores."""
    solvers: pa.Table
    """Per solver: ``aup_best_attempt``, ``aup_best_submission``, then (agents only; null for
    the baseline) episodes, failed, incomplete, model_calls, unpriced_calls, input_tokens,
    output_tokens and cost_usd."""
    exit_statuses: pa.Table
    """Per agent and exit status: the rows of the ``exit_statuses_by_agent`` macro."""

    def by_task(self, variant: Variant) -> pa.Table:
        """Return one variant's scores with a row per task and a column per solver.

        The columns are ``task``, ``metric`` (its name and ↑ if higher is better, ↓ if
        lower), ``baseline`` (the task's), then one per agent, named by ``solver_name``.
        """
        agents = sorted({solver_name(a) for a in self.scores.column("agent").to_pylist()})
        rows: dict[str, dict[str, object]] = {}
        for r in self.scores.to_pylist():
            arrow = "↑" if r["direction"] == "max" else "↓"
            row = rows.setdefault(
                r["task_id"],
                {"task": r["task_id"], "metric": f"{r['metric']} {arrow}",
                 "baseline": r["baseline"], **dict.fromkeys(agents)},
            )  # fmt: skip
            row[solver_name(r["agent"])] = r[f"{variant}_at_k"]
        fields = [("task", pa.string()), ("metric", pa.string()), ("baseline", pa.float64())]
        schema = pa.schema(fields + [(a, pa.float64()) for a in agents])
        return pa.Table.from_pylist(list(rows.values()), schema=schema)


_LATEST_RUN = """
SELECT run_id FROM (
    SELECT run_id, started_at FROM runs
    UNION ALL SELECT run_id, min(started_at) FROM episodes GROUP BY run_id
) GROUP BY run_id ORDER BY min(started_at) DESC LIMIT 1"""


def latest_run_id(con: duckdb.DuckDBPyConnection) -> str | None:
    """Return the id of the run that started last, or None if there is none."""
    rows = query(con, _LATEST_RUN).to_pylist()
    return str(rows[0]["run_id"]) if rows else None


def report(con: duckdb.DuckDBPyConnection, runs: Sequence[str], *, k: int = 4) -> Report:
    """Compute the report of the given runs.

    Args:
        con: A connection from open_database.
        runs: The run ids to cover.
        k: Attempts counted per task and agent (the first k by attempt number).

    Raises:
        ValueError: If k is below 1.
        QueryError: If the database lacks the tables or views (not opened by open_database).
    """
    profiles = performance_profiles(profile_scores(con, runs, k))
    agents = {
        solver_name(r["agent"]): r for r in query(con, _AGENTS_SQL, {"runs": runs}).to_pylist()
    }
    solvers = [
        {
            "solver": s,
            **{f"aup_{v}": profiles.aup[v].get(s) for v in VARIANTS},
            **{c: v for c, v in agents.get(s, {}).items() if c != "agent"},
        }
        for s in [BASELINE, *sorted(agents)]
    ]
    stored = query(con, "SELECT * FROM runs WHERE list_contains($runs, run_id)", {"runs": runs})
    states = {str(row["run_id"]): run_state(row) for row in stored.to_pylist()}
    return Report(
        runs=list(runs),
        states={run: states.get(run, "interrupted") for run in runs},
        k=k,
        scores=best_at_k(con, runs, k),
        tau_max=profiles.tau_max,
        solvers=pa.Table.from_pylist(solvers, schema=_SOLVER_SCHEMA),
        exit_statuses=exit_statuses(con, runs, by="agent"),
    )
