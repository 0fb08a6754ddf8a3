"""The run report: per task and agent, the best scores, steps and exit statuses.

One row per task and agent: the metric (with ↑ if higher is better, ↓ if lower), the
number of episodes, the best attempt (the best score logged by any validate or submission of
any episode), the best submission (the best, over episodes, of each episode's last logged
score; both as the MLGym paper defines them, over every attempt of the selected runs), the
task's baseline, the mean steps per episode and how the episodes ended. Episodes with no
score count towards neither score.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from researchgym.storage.database import query

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

__all__ = ["latest_run_id", "report"]

_REPORT_SQL = """
WITH per_episode AS (
    SELECT e.task_id, e.agent, e.metric, e.direction, e.baseline, e.steps, e.exit_status,
           CASE e.direction WHEN 'max' THEN max(s.score) ELSE min(s.score) END AS best,
           arg_max(s.score, s.seq) AS last
    FROM episodes e LEFT JOIN scores s USING (run_id, episode_id)
    WHERE list_contains($runs, e.run_id)
    GROUP BY e.run_id, e.episode_id, e.task_id, e.agent, e.metric, e.direction, e.baseline,
             e.steps, e.exit_status
),
statuses AS (
    SELECT task_id, agent,
           string_agg(exit_status || ' x' || n, ', ' ORDER BY n DESC, exit_status) AS statuses
    FROM (SELECT task_id, agent, exit_status, count(*) AS n FROM per_episode GROUP BY ALL)
    GROUP BY ALL
)
SELECT p.task_id AS task,
       p.agent,
       any_value(p.metric) || CASE any_value(p.direction) WHEN 'max' THEN ' ↑' ELSE ' ↓' END
           AS metric,
       count(*) AS episodes,
       CASE any_value(p.direction) WHEN 'max' THEN max(p.best) ELSE min(p.best) END
           AS best_attempt,
       CASE any_value(p.direction) WHEN 'max' THEN max(p.last) ELSE min(p.last) END
           AS best_submission,
       any_value(p.baseline) AS baseline,
       round(avg(p.steps), 1) AS steps,
       any_value(st.statuses) AS exit_statuses
FROM per_episode p JOIN statuses st USING (task_id, agent)
GROUP BY p.task_id, p.agent
ORDER BY task, agent
"""


def latest_run_id(con: duckdb.DuckDBPyConnection) -> str | None:
    """Return the id of the run whose first episode started last, or None if there is none."""
    rows = query(
        con, "SELECT run_id FROM episodes GROUP BY run_id ORDER BY min(started_at) DESC LIMIT 1"
    ).to_pylist()
    return str(rows[0]["run_id"]) if rows else None


def report(con: duckdb.DuckDBPyConnection, run_ids: list[str]) -> pa.Table:
    """Return the report table of the given runs.

    Raises:
        QueryError: If the database lacks the tables (not a researchgym database).
    """
    return query(con, _REPORT_SQL, {"runs": run_ids})
