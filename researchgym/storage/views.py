"""The SQL views and table macros that turn the stored tables into the benchmark's metrics.

``open_database`` creates them, as temporary objects, on every connection it opens: a DuckDB
file opened read-only, one opened for writing, and a Parquet root alike. Being temporary,
they are never stored in a file, so an old database is always read with the current
definitions. Views have one row per episode, step, model call or team message; table
macros aggregate them and take ``runs := [...]`` (a list of run ids; every run if left out):

```
SELECT * FROM episode_results WHERE run_id = 'r1'
SELECT * FROM best_at_k(4, runs := ['r1', 'r2'])
SELECT * FROM failures_by_model()
```

``VIEWS`` documents every view and macro: what it is and each of its columns. It is the one
place they are explained (``researchgym sql --schema`` and the README print it).

What counts as ending in error follows the MLGym paper's failure analysis, whose termination
errors are the evaluation error, the missing submission, the context and cost limits, the
format error and runtime errors: every exit status except ``submitted``,
``autosubmission (max_steps)`` (the step budget ran out and the artefact was scored),
``cancelled`` (the user stopped the run), and ``running`` and ``interrupted`` (its run's
process was killed before it ended). A failed episode ended in error with no score, an
incomplete one ended in error with at least one.

An attempt (a task, an agent, an attempt number) may have been tried more than once: a run
resumed after a kill, or ``--retry-errors``. Every try is stored; ``episode_results``, and
every metric built on it, counts the last try of each attempt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NamedTuple

from researchgym.storage.duckdb import sql_identifier, sql_literal
from researchgym.storage.schema import column_doc
from researchgym.words import NOT_ERRORS

if TYPE_CHECKING:
    import duckdb

    from researchgym.storage.schema import TableName

__all__ = ["VIEWS", "Dimension", "ViewDoc", "create_views"]

Dimension = Literal["model", "task", "agent"]
"""What an aggregate is counted per: the model, the task, or the agent's label."""


class ViewDoc(NamedTuple):
    """The documentation of a view or table macro."""

    usage: str
    """How to select from it: the view's name, or the macro's call with its parameters."""
    summary: str
    """What one row is."""
    columns: dict[str, str]
    """Each column's doc, in the view's column order."""


_INFRASTRUCTURE = ("tools", "evaluator")
"""Bus endpoints the engine serves (commands, evaluations); every other party is a team member."""
_IN_RUNS = "(runs IS NULL OR list_contains(runs, run_id))"


def _list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(sql_literal(v) for v in values) + ")"


_EPISODE_MODELS = """
    SELECT run_id, episode_id,
           string_agg(DISTINCT request_model, ', ' ORDER BY request_model) AS models
    FROM agents WHERE request_model IS NOT NULL GROUP BY run_id, episode_id"""

_EPISODE_RESULTS = f"""
WITH s AS (
    SELECT run_id, episode_id, count(*) AS scores, max(score) AS high, min(score) AS low,
           arg_max(score, seq) AS last_score
    FROM scores WHERE score IS NOT NULL GROUP BY run_id, episode_id
), m AS ({_EPISODE_MODELS}
), c AS (
    SELECT run_id, episode_id, count(*) AS calls, sum(input_tokens) AS input_tokens,
           sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd
    FROM llm_calls GROUP BY run_id, episode_id
), e AS (
    SELECT * FROM episodes QUALIFY row_number() OVER (
        PARTITION BY run_id, task_id, agent, attempt
        ORDER BY coalesce(try_number, 1) DESC, started_at DESC) = 1
)
SELECT e.run_id, e.episode_id, e.task_id, e.agent, m.models, e.attempt, e.exit_status,
       CASE e.direction WHEN 'min' THEN s.low ELSE s.high END AS best_attempt,
       s.last_score AS last_submission,
       coalesce(s.scores, 0) AS scores,
       e.baseline, e.direction, e.metric, e.steps,
       coalesce(c.calls, 0) AS model_calls,
       coalesce(c.input_tokens, 0) AS input_tokens,
       coalesce(c.output_tokens, 0) AS output_tokens,
       coalesce(c.cost_usd, 0.0) AS cost_usd,
       e.started_at,
       date_diff('microsecond', e.started_at, e.ended_at) / 1e6 AS wall_s,
       e.error,
       coalesce(e.exit_status NOT IN {_list(NOT_ERRORS)}, false) AS ended_in_error,
       ended_in_error AND coalesce(s.scores, 0) = 0 AS failed,
       ended_in_error AND coalesce(s.scores, 0) > 0 AS incomplete
FROM e
LEFT JOIN s USING (run_id, episode_id)
LEFT JOIN m USING (run_id, episode_id)
LEFT JOIN c USING (run_id, episode_id)"""

_STEPS = f"""
SELECT t.run_id, t.episode_id, e.task_id, e.agent, m.models, t.agent AS member, t.step, t.seq,
       t.command AS action, t.action_class, t.tool, t.exit_code, t.duration_s, t.timed_out,
       t.truncated, t.output AS observation, t.started_at
FROM tool_calls t
LEFT JOIN episodes e USING (run_id, episode_id)
LEFT JOIN ({_EPISODE_MODELS}) m USING (run_id, episode_id)"""

_MODEL_CALLS = """
SELECT c.run_id, c.episode_id, e.task_id, e.agent, c.agent AS member, c.seq, c.request_model,
       c.response_model, c.input_tokens, c.output_tokens, c.cost_usd, c.priced, c.latency_s,
       c.retries, c.finish_reason, c.error, c.started_at, c.response
FROM llm_calls c LEFT JOIN episodes e USING (run_id, episode_id)"""

_TEAM_MESSAGES = f"""
SELECT m.run_id, m.episode_id, e.task_id, e.agent, m.seq, m.message_id, m.correlation_id,
       m.sender, m.recipient, m.topic, m.type, m.sent_at, m.delivered, m.error, m.payload
FROM messages m LEFT JOIN episodes e USING (run_id, episode_id)
WHERE m.sender NOT IN {_list(_INFRASTRUCTURE)}
  AND coalesce(m.recipient, '') NOT IN {_list(_INFRASTRUCTURE)}"""

# Best Attempt@k and Best Submission@k, as the MLGym paper defines them: per task and agent,
# the first k episodes by attempt number (then by start, for several runs of the same attempt
# numbers); the best, by the task's direction, of their best attempts and of their last
# submissions. Episodes with no score count towards k but give no score.
_BEST_AT_K = f"""
WITH first_k AS (
    SELECT * FROM episode_results WHERE {_IN_RUNS}
    QUALIFY row_number() OVER (
        PARTITION BY task_id, agent ORDER BY attempt, started_at, episode_id) <= k
)
SELECT task_id, agent, any_value(metric) AS metric, any_value(direction) AS direction,
       any_value(baseline) AS baseline, count(*) AS attempts, count(best_attempt) AS scored,
       CASE any_value(direction) WHEN 'min' THEN min(best_attempt) ELSE max(best_attempt) END
           AS best_attempt_at_k,
       CASE any_value(direction) WHEN 'min' THEN min(last_submission)
           ELSE max(last_submission) END AS best_submission_at_k
FROM first_k GROUP BY task_id, agent ORDER BY task_id, agent"""

# The column each aggregate is counted per, in the view it reads.
_EPISODE_KEYS = {"model": "models", "task": "task_id", "agent": "agent"}
_STEP_KEYS = {**_EPISODE_KEYS, "step": "step"}
_CALL_KEYS = {"model": "request_model", "task": "task_id", "agent": "agent"}


def _key(by: str) -> str:
    return "task_id" if by == "task" else by


def _failures(column: str, key: str) -> str:
    return f"""
SELECT {column} AS {key}, count(*) AS episodes, count_if(ended_in_error) AS errors,
       count_if(failed) AS failed, count_if(incomplete) AS incomplete
FROM episode_results WHERE {_IN_RUNS} GROUP BY {column} ORDER BY {key} NULLS FIRST"""


def _exit_statuses(column: str, key: str) -> str:
    return f"""
SELECT {column} AS {key}, exit_status, count(*) AS episodes,
       count(*) / sum(count(*)) OVER (PARTITION BY {column}) AS share
FROM episode_results WHERE {_IN_RUNS}
GROUP BY {column}, exit_status ORDER BY {key} NULLS FIRST, episodes DESC, exit_status"""


_ACTION_CLASSES = f"""
SELECT action_class, count(*) AS steps, count(*) / sum(count(*)) OVER () AS share
FROM steps WHERE {_IN_RUNS} GROUP BY action_class ORDER BY steps DESC, action_class"""


def _action_classes(column: str, key: str) -> str:
    return f"""
SELECT {column} AS {key}, action_class, count(*) AS steps,
       count(*) / sum(count(*)) OVER (PARTITION BY {column}) AS share
FROM steps WHERE {_IN_RUNS}
GROUP BY {column}, action_class ORDER BY {key} NULLS FIRST, steps DESC, action_class"""


def _costs(column: str, key: str) -> str:
    return f"""
SELECT {column} AS {key}, count(DISTINCT (run_id, episode_id)) AS episodes, count(*) AS calls,
       count_if(NOT priced) AS unpriced_calls, sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd
FROM model_calls WHERE {_IN_RUNS} GROUP BY {column} ORDER BY {key} NULLS FIRST"""


_VIEW_SQL: dict[str, str] = {
    "episode_results": _EPISODE_RESULTS,
    "steps": _STEPS,
    "model_calls": _MODEL_CALLS,
    "team_messages": _TEAM_MESSAGES,
}
_MACRO_SQL: dict[str, tuple[str, str]] = {
    "best_at_k": ("k, runs := NULL", _BEST_AT_K),
    "action_classes": ("runs := NULL", _ACTION_CLASSES),
    **{
        f"{name}_by_{by}": ("runs := NULL", sql(column, _key(by)))
        for name, keys, sql in [
            ("failures", _EPISODE_KEYS, _failures),
            ("exit_statuses", _EPISODE_KEYS, _exit_statuses),
            ("action_classes", _STEP_KEYS, _action_classes),
            ("costs", _CALL_KEYS, _costs),
        ]
        for by, column in keys.items()
    },
}


def create_views(con: duckdb.DuckDBPyConnection, *, stored: bool = False) -> None:
    """Create every view and table macro of VIEWS on a connection.

    Each column of a view gets its doc as a DuckDB column comment.

    Args:
        con: A connection that has every table of SCHEMAS.
        stored: Store them in the database, for any DuckDB client that opens the file (the
            sink does so). By default they are temporary objects of the connection, which
            need no write access and shadow stored ones of an older version.

    Raises:
        duckdb.Error: If a table is missing or lacks a column a view reads.
    """
    temp = "" if stored else "TEMP "
    statements = [
        f"CREATE OR REPLACE {temp}VIEW {name} AS {sql}" for name, sql in _VIEW_SQL.items()
    ]
    statements += [
        f"COMMENT ON COLUMN {name}.{sql_identifier(column)} IS {sql_literal(doc)}"
        for name in _VIEW_SQL
        for column, doc in VIEWS[name].columns.items()
    ]
    statements += [
        f"CREATE OR REPLACE {temp}MACRO {name}({params}) AS TABLE {sql}"
        for name, (params, sql) in _MACRO_SQL.items()
    ]
    con.execute(";\n".join(statements))


# Documentation. Columns passed through from a table keep that table's doc (schema.py).

_RUNS_PARAM = "runs: the run ids to count (default: every run)."
_EPISODE = {
    "run_id": column_doc("episodes", "run_id"),
    "episode_id": column_doc("episodes", "episode_id"),
    "task_id": column_doc("episodes", "task_id"),
    "agent": column_doc("episodes", "agent"),
}
_MODELS = (
    "The models the episode's participants asked for (agents.request_model), distinct, "
    "sorted and joined by ', '; null if none uses a model (the baseline, scripted agents)."
)
_KEY_DOCS = {
    "model": _MODELS,
    "task_id": column_doc("episodes", "task_id"),
    "agent": column_doc("episodes", "agent"),
    "step": column_doc("tool_calls", "step"),
}
_CALL_MODEL = "The model asked for (llm_calls.request_model)."

_FAILURES = {
    "episodes": "Episodes.",
    "errors": "Episodes that ended in error (episode_results.ended_in_error).",
    "failed": "Episodes that ended in error with no score.",
    "incomplete": "Episodes that ended in error with at least one score.",
}
_COSTS = {
    "episodes": "Episodes with at least one model call.",
    "calls": "Model calls.",
    "unpriced_calls": "Calls of models that litellm has no price for: their cost is unknown.",
    "input_tokens": column_doc("llm_calls", "input_tokens") + " Summed.",
    "output_tokens": column_doc("llm_calls", "output_tokens") + " Summed.",
    "cost_usd": "Cost in US dollars, summed (unpriced calls count 0).",
}


def _docs_of(table: TableName, columns: str) -> dict[str, str]:
    """The docs of some columns (named in one string) of a table, by column."""
    return {column: column_doc(table, column) for column in columns.split()}


def _by_docs(by: str, columns: dict[str, str], *, call_model: bool = False) -> dict[str, str]:
    key = _key(by)
    doc = _CALL_MODEL if call_model and by == "model" else _KEY_DOCS[key]
    return {key: doc, **{c: d.format(key=by) for c, d in columns.items()}}


VIEWS: dict[str, ViewDoc] = {
    "episode_results": ViewDoc(
        "episode_results",
        "One row per attempt, its last try (the episode metrics count): how it ended, its "
        "scores, steps, tokens, cost and time.",
        {
            **_EPISODE,
            "models": _MODELS,
            "attempt": column_doc("episodes", "attempt"),
            "exit_status": column_doc("episodes", "exit_status"),
            "best_attempt": "The best score of any validate or (auto)submission of the "
            "episode, by the task's direction; null if none gave a score.",
            "last_submission": "The episode's last score, by seq (its final submission if "
            "that was scored); null if none.",
            "scores": "Scores logged in the episode (validates and submissions that scored).",
            "baseline": column_doc("episodes", "baseline"),
            "direction": column_doc("episodes", "direction"),
            "metric": column_doc("episodes", "metric"),
            "steps": column_doc("episodes", "steps"),
            "model_calls": "Model calls of the episode's participants.",
            "input_tokens": "Prompt tokens of those calls, summed (0 without calls).",
            "output_tokens": "Completion tokens of those calls, summed (0 without calls).",
            "cost_usd": "Cost of those calls in US dollars, summed (0 without calls; an "
            "unpriced model counts 0).",
            "started_at": column_doc("episodes", "started_at"),
            "wall_s": "Seconds from the episode's start to its end.",
            "error": column_doc("episodes", "error"),
            "ended_in_error": "True unless the exit status is submitted, autosubmission "
            "(max_steps) or cancelled.",
            "failed": "Ended in error with no score.",
            "incomplete": "Ended in error with at least one score.",
        },
    ),
    "steps": ViewDoc(
        "steps",
        "One row per agent action: the command, what it did, and the observation.",
        {
            **_EPISODE,
            "models": _MODELS,
            "member": "The participant that issued the command (tool_calls.agent).",
            "step": column_doc("tool_calls", "step"),
            "seq": column_doc("tool_calls", "seq"),
            "action": column_doc("tool_calls", "command"),
            "action_class": column_doc("tool_calls", "action_class"),
            "tool": column_doc("tool_calls", "tool"),
            "exit_code": column_doc("tool_calls", "exit_code"),
            "duration_s": column_doc("tool_calls", "duration_s"),
            "timed_out": column_doc("tool_calls", "timed_out"),
            "truncated": column_doc("tool_calls", "truncated"),
            "observation": column_doc("tool_calls", "output"),
            "started_at": column_doc("tool_calls", "started_at"),
        },
    ),
    "model_calls": ViewDoc(
        "model_calls",
        "One row per model call, with its episode's task and agent.",
        {
            **_EPISODE,
            "member": "The participant that made the call (llm_calls.agent): `agent`, or a "
            "team member's name.",
            **_docs_of(
                "llm_calls",
                "seq request_model response_model input_tokens output_tokens cost_usd priced "
                "latency_s retries finish_reason error started_at response",
            ),
        },
    ),
    "team_messages": ViewDoc(
        "team_messages",
        "One row per message between team members (not the commands to the tools nor the "
        "evaluations), with its episode's task and agent.",
        {
            **_EPISODE,
            **_docs_of(
                "messages",
                "seq message_id correlation_id sender recipient topic type sent_at delivered "
                "error payload",
            ),
        },
    ),
    "best_at_k": ViewDoc(
        "best_at_k(k, runs := NULL)",
        "One row per task and agent: Best Attempt@k and Best Submission@k over its first k "
        f"episodes by attempt number. {_RUNS_PARAM}",
        {
            "task_id": column_doc("episodes", "task_id"),
            "agent": column_doc("episodes", "agent"),
            "metric": column_doc("episodes", "metric"),
            "direction": column_doc("episodes", "direction"),
            "baseline": column_doc("episodes", "baseline"),
            "attempts": "Episodes counted: the first k by attempt number (fewer if fewer ran).",
            "scored": "Of those, the episodes with at least one score.",
            "best_attempt_at_k": "The best of their best_attempt values, by the task's "
            "direction; null if none scored.",
            "best_submission_at_k": "The best of their last_submission values; null if none "
            "scored.",
        },
    ),
    "action_classes": ViewDoc(
        "action_classes(runs := NULL)",
        f"One row per action class: how often agents used it. {_RUNS_PARAM}",
        {
            "action_class": column_doc("tool_calls", "action_class"),
            "steps": "Steps of that class.",
            "share": "steps / all steps.",
        },
    ),
    **{
        f"failures_by_{by}": ViewDoc(
            f"failures_by_{by}(runs := NULL)",
            f"One row per {by}: episodes, and those that failed or were incomplete. " + _RUNS_PARAM,
            _by_docs(by, _FAILURES),
        )
        for by in _EPISODE_KEYS
    },
    **{
        f"exit_statuses_by_{by}": ViewDoc(
            f"exit_statuses_by_{by}(runs := NULL)",
            f"One row per {by} and exit status: how many episodes ended so. {_RUNS_PARAM}",
            _by_docs(
                by,
                {
                    "exit_status": column_doc("episodes", "exit_status"),
                    "episodes": "Episodes that ended so.",
                    "share": "episodes / all episodes of the same {key}.",
                },
            ),
        )
        for by in _EPISODE_KEYS
    },
    **{
        f"action_classes_by_{by}": ViewDoc(
            f"action_classes_by_{by}(runs := NULL)",
            f"One row per {by} and action class. {_RUNS_PARAM}",
            _by_docs(
                by,
                {
                    "action_class": column_doc("tool_calls", "action_class"),
                    "steps": "Steps of that class.",
                    "share": "steps / all steps of the same {key}.",
                },
            ),
        )
        for by in _STEP_KEYS
    },
    **{
        f"costs_by_{by}": ViewDoc(
            f"costs_by_{by}(runs := NULL)",
            f"One row per {by} with model calls: calls, tokens and cost. {_RUNS_PARAM}",
            _by_docs(by, _COSTS, call_model=True),
        )
        for by in _CALL_KEYS
    },
}
"""Every view and table macro that create_views makes, by name."""
