"""A synthetic database of plausible runs, for the metrics' benchmark and tests.

``write_synthetic(path, episodes=...)`` writes a DuckDB file with every table of SCHEMAS:
one run of ``agents`` LLM agents on ``tasks`` tasks, as many attempts as it takes to make
``episodes`` episodes, and ``events_per_episode`` events in each (tool calls, model calls,
bus messages, scores, start and end). Everything is derived from the episode number by
hashing, so the same arguments always give the same rows. DuckDB generates the rows
itself, so a million events take a few seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from researchgym.storage.duckdb import connect_file, create_table_sql, sql_literal
from researchgym.storage.schema import SCHEMAS

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ["SYNTHETIC_AGENTS", "SYNTHETIC_TASKS", "write_synthetic"]

SYNTHETIC_TASKS = [
    ("prisoners_dilemma", "Score", "max", 2.64),
    ("colonel_blotto", "Score", "max", -0.08),
    ("sat_heuristic", "Time", "min", 11.1),
    ("diabetes_regression", "RMSE", "min", 56.1),
    ("digits_classification", "Accuracy", "max", 0.91),
    ("mountain_car_continuous", "Reward", "max", 36.5),
    ("char_lm", "BPC", "min", 2.57),
    ("battle_of_sexes", "Score", "max", 0.72),
]
"""(task, metric, direction, baseline) of the synthetic tasks."""

SYNTHETIC_AGENTS = [
    ("gpt", "openai/gpt-4o", 2.5e-6, 0.5),
    ("claude", "anthropic/claude-sonnet-4-5", 3e-6, 0.6),
    ("llama", "ollama/llama3", 0.0, 0.2),
    ("team", "openai/gpt-4o-mini", 1.5e-7, 0.4),
    ("mock", "mock", 0.0, 0.0),
]
"""(agent label, model, dollars per token, skill) of the synthetic agents: the higher the
skill, the more its scores beat the baseline."""

_STATUSES = [
    ("submitted", 70),
    ("autosubmission (max_steps)", 12),
    ("autosubmission (exit_cost)", 4),
    ("autosubmission (exit_format)", 3),
    ("submission_not_found (exit_context)", 3),
    ("evaluation_format_error (exit_api)", 2),
    ("early_exit", 2),
    ("exit_error", 4),
]
_ACTIONS = ["Edit", "View", "Search", "Python", "Bash", "Bash", "Python", "Edit"]


def write_synthetic(
    path: Path, *, episodes: int = 10_000, events_per_episode: int = 100, run_id: str = "synthetic"
) -> None:
    """Write a synthetic database to ``path`` (a new DuckDB file).

    Per episode: ``events_per_episode`` events, of which up to 4 scores (3 validates and a
    submission: no submission where the episode's exit status says there was none, no score
    at all for early exits and half of the errors), about a third tool calls, a third model
    calls and the rest bus messages, plus its start and end.
    """
    con = connect_file(path, read_only=False)
    try:
        for table in SCHEMAS:
            con.execute(create_table_sql(table))
        con.execute(_setup_sql(episodes, run_id))
        steps = max(1, (events_per_episode - 6) // 3)
        for statement in _fill_sql(steps, events_per_episode):
            con.execute(statement)
    finally:
        con.close()


def _values(rows: Sequence[tuple[object, ...]]) -> str:
    def literal(value: object) -> str:
        return sql_literal(value) if isinstance(value, str) else repr(value)

    return ", ".join("(" + ", ".join(map(literal, row)) + ")" for row in rows)


def _setup_sql(episodes: int, run_id: str) -> str:
    cumulative, statuses = 0, []
    for status, weight in _STATUSES:
        cumulative += weight
        statuses.append((status, cumulative))
    return f"""
CREATE TEMP TABLE t(i, task_id, metric, direction, baseline) AS
    SELECT row_number() OVER () - 1, * FROM (VALUES {_values(SYNTHETIC_TASKS)});
CREATE TEMP TABLE a(i, agent, model, per_token, skill) AS
    SELECT row_number() OVER () - 1, * FROM (VALUES {_values(SYNTHETIC_AGENTS)});
CREATE TEMP TABLE s(status, upto) AS SELECT * FROM (VALUES {_values(statuses)});
CREATE TEMP TABLE e AS
    SELECT n, {sql_literal(run_id)} AS run_id, 'ep-' || n AS episode_id,
           t.task_id, t.metric, t.direction, t.baseline, a.agent, a.model, a.per_token,
           n // ({len(SYNTHETIC_TASKS)} * {len(SYNTHETIC_AGENTS)}) + 1 AS attempt,
           (SELECT status FROM s WHERE upto > hash(n, 'status') % 100 ORDER BY upto LIMIT 1)
               AS exit_status,
           a.skill + (hash(n, 'skill') % 1000) / 2000.0 AS skill,
           TIMESTAMPTZ '2026-11-27 00:00:00+00' + to_seconds(n * 3) AS started_at
    FROM range({episodes}) r(n)
    JOIN t ON t.i = n % {len(SYNTHETIC_TASKS)}
    JOIN a ON a.i = (n // {len(SYNTHETIC_TASKS)}) % {len(SYNTHETIC_AGENTS)};
INSERT INTO runs BY NAME SELECT {sql_literal(run_id)} AS run_id,
    TIMESTAMPTZ '2026-11-27 00:00:00+00' AS started_at,
    TIMESTAMPTZ '2026-11-28 00:00:00+00' AS ended_at, 'completed' AS status,
    {episodes} AS episodes, '{{}}' AS config, 'synthetic' AS version;
"""


def _fill_sql(steps: int, events_per_episode: int) -> list[str]:
    messages = events_per_episode - 2 * steps - 6
    actions = "[" + ", ".join(sql_literal(a) for a in _ACTIONS) + "]"
    # no score: early exits, and half of the errors; the others end in error with scores
    failed = "(e.exit_status = 'exit_error' AND e.n % 2 = 1)"
    final = "(e.exit_status = 'submitted' OR e.exit_status LIKE 'autosubmission%')"
    return [
        f"""INSERT INTO episodes BY NAME SELECT run_id, episode_id, task_id, agent, attempt,
            'docker' AS sandbox, exit_status,
            CASE WHEN exit_status = 'exit_error' THEN 'RuntimeError: synthetic' END AS error,
            {steps} AS steps, metric, direction, baseline, started_at,
            started_at + to_seconds(60 + hash(n, 'wall') % 600) AS ended_at,
            md5(task_id || agent || attempt) AS attempt_key, 1 AS try_number
        FROM e""",
        """INSERT INTO agents BY NAME SELECT run_id, episode_id, 'agent' AS name, 'llm' AS kind,
            'agent' AS role, model AS request_model, '{}' AS params FROM e""",
        f"""INSERT INTO tool_calls BY NAME SELECT e.run_id, e.episode_id, 1 + k AS seq,
            1 + k AS step, 'agent' AS agent, 'python3 train.py' AS command, 'bash' AS tool,
            {actions}[(1 + hash(e.n, k) % {len(_ACTIONS)})::BIGINT] AS action_class,
            CASE WHEN hash(e.n, k, 'x') % 10 = 0 THEN 1 ELSE 0 END AS exit_code,
            (hash(e.n, k, 'd') % 1000) / 100.0 AS duration_s, false AS timed_out,
            false AS truncated, 'output of step ' || k AS output,
            e.started_at + to_seconds(k) AS started_at
        FROM e, range({steps}) r(k)""",
        f"""INSERT INTO llm_calls BY NAME SELECT e.run_id, e.episode_id,
            1 + {steps} + k AS seq, 'agent' AS agent, e.model AS request_model,
            e.model AS response_model, 1000 + hash(e.n, k, 'i') % 4000 AS input_tokens,
            50 + hash(e.n, k, 'o') % 400 AS output_tokens,
            (1000 + hash(e.n, k, 'i') % 4000 + 50 + hash(e.n, k, 'o') % 400) * e.per_token
                AS cost_usd,
            e.per_token > 0 OR e.model = 'mock' AS priced,
            (hash(e.n, k, 'l') % 5000) / 1000.0 AS latency_s, 0 AS retries,
            'stop' AS finish_reason, e.started_at + to_seconds(k) AS started_at
        FROM e, range({steps}) r(k)""",
        f"""INSERT INTO messages BY NAME SELECT e.run_id, e.episode_id,
            1 + 2 * {steps} + k AS seq, e.episode_id || '-m' || k AS message_id,
            CASE WHEN k % 2 = 1 THEN e.episode_id || '-m' || (k - 1) END AS correlation_id,
            CASE WHEN k % 2 = 0 THEN 'agent' ELSE 'tools' END AS sender,
            CASE WHEN k % 2 = 0 THEN 'tools' ELSE 'agent' END AS recipient,
            CASE WHEN k % 2 = 0 THEN 'ToolRequest' ELSE 'ToolReply' END AS type,
            e.started_at + to_seconds(k) AS sent_at, 120 AS size_bytes, true AS delivered,
            '{{}}' AS payload
        FROM e, range({max(messages, 0)}) r(k)""",
        f"""INSERT INTO scores BY NAME SELECT e.run_id, e.episode_id,
            1 + 2 * {steps} + {max(messages, 0)} + k AS seq, {steps} * (k + 1) // 4 AS step,
            CASE WHEN k = 3 THEN 'submit' ELSE 'validate' END AS kind, e.metric,
            e.baseline + CASE e.direction WHEN 'max' THEN 1 ELSE -1 END
                * abs(e.baseline) * (e.skill - 0.3 + (hash(e.n, k, 's') % 100) / 500.0)
                AS score,
            e.direction, e.baseline, '{{}}' AS metrics
        FROM e, range(4) r(k)
        WHERE CASE WHEN k = 3 THEN {final}
                   ELSE e.exit_status <> 'early_exit' AND NOT {failed} END""",
        f"""INSERT INTO events BY NAME
            SELECT e.run_id, e.episode_id, k AS seq, e.started_at + to_seconds(k) AS ts,
                CASE WHEN k = 0 THEN 'episode_start'
                     WHEN k = {events_per_episode - 1} THEN 'episode_end'
                     WHEN k <= {steps} THEN 'tool_call'
                     WHEN k <= 2 * {steps} THEN 'llm_call'
                     WHEN k < {events_per_episode - 5} THEN 'message'
                     ELSE 'score' END AS kind,
                'agent' AS agent, NULL AS span_id, NULL AS cause_seq, '{{}}' AS payload
            FROM e, range({events_per_episode}) r(k)""",
    ]
