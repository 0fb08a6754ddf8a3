"""The Arrow schemas of every stored table: the one place a column is explained.

Each column carries its documentation as Arrow field metadata (``doc``), so that the DuckDB
tables, the Parquet files and ``researchgym sql --schema`` all describe themselves from here.
Column names follow the OpenTelemetry GenAI conventions where one exists
(``request_model``, ``input_tokens``, ``output_tokens``).

Every row of every table belongs to a run (``run_id``); rows of an episode carry its
``episode_id``. Typed tables (``messages``, ``tool_calls``, ``llm_calls``, ``scores``) link
to the ``events`` timeline by ``(episode_id, seq)``.
"""

from __future__ import annotations

from typing import Literal

import pyarrow as pa

__all__ = ["KEYS", "SCHEMAS", "TableName", "column_doc"]

TableName = Literal[
    "runs", "episodes", "agents", "events", "messages", "llm_calls", "tool_calls", "scores"
]
"""The name of a stored table."""

TIMESTAMP = pa.timestamp("us", tz="UTC")


def _col(name: str, type_: pa.DataType, doc: str, *, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"doc": doc})


def _run_id() -> pa.Field:
    return _col("run_id", pa.string(), "The run this row belongs to.", nullable=False)


def _episode_id() -> pa.Field:
    return _col("episode_id", pa.string(), "The episode this row belongs to.", nullable=False)


def _seq() -> pa.Field:
    return _col(
        "seq", pa.int64(), "Position in the episode's event timeline (events.seq).", nullable=False
    )


def _recorded_at() -> pa.Field:
    return _col(
        "recorded_at",
        TIMESTAMP,
        "When this row was last written: a run's and an episode's row are written when they "
        "start and again when they end (the last write wins).",
    )


RUNS = pa.schema(
    [
        _run_id(),
        _col("started_at", TIMESTAMP, "When the run started."),
        _col("ended_at", TIMESTAMP, "When the run ended (finished, failed or cancelled)."),
        _col(
            "status",
            pa.string(),
            "running, completed, failed or cancelled; a run whose process was killed stays "
            "running here (the report calls it interrupted) until it is resumed.",
        ),
        _col("episodes", pa.int64(), "Number of episodes the run planned."),
        _col("config", pa.string(), "The run configuration, as JSON."),
        _col("version", pa.string(), "The researchgym version that made the run."),
        _col("host", pa.string(), "The host the run's process ran on."),
        _col("pid", pa.int64(), "The run's process id on that host (last resumed by)."),
        _recorded_at(),
    ]
)

EPISODES = pa.schema(
    [
        _run_id(),
        _episode_id(),
        _col("task_id", pa.string(), "The task's id (task.yaml `id`)."),
        _col("agent", pa.string(), "The agent's label in the run configuration."),
        _col("attempt", pa.int64(), "Attempt number of this task and agent, from 1."),
        _col("sandbox", pa.string(), "The sandbox backend: local or docker."),
        _col(
            "exit_status",
            pa.string(),
            "How the episode ended: submitted, autosubmission (<reason>), "
            "submission_not_found (<reason>), evaluation_format_error (<reason>), "
            "early_exit, exit_error or cancelled; running while it runs, interrupted if its "
            "run's process was killed meanwhile (a resumed run tries it again).",
        ),
        _col("error", pa.string(), "The error that ended the episode, if any."),
        _col("steps", pa.int64(), "Number of actions the agent took."),
        _col("metric", pa.string(), "Name of the task's primary metric."),
        _col("direction", pa.string(), "max if higher scores are better, min if lower."),
        _col("baseline", pa.float64(), "The task's baseline score on its primary metric."),
        _col("started_at", TIMESTAMP, "When the episode started."),
        _col("ended_at", TIMESTAMP, "When the episode ended."),
        _col(
            "attempt_key",
            pa.string(),
            "The attempt's identity: a hash of the task's content, the agent's configuration "
            "and the attempt number, the same in every run, version and try.",
        ),
        _col(
            "try_number",
            pa.int64(),
            "Which try of the attempt this is, from 1; metrics count the last try of each.",
        ),
        _col("task_hash", pa.string(), "A hash of the task folder's content, as it ran."),
        _col(
            "retryable",
            pa.bool_(),
            "True if the episode ended by an infrastructure failure (the sandbox died, a "
            "daemon or model API error past its retries), which --retry-errors tries again; "
            "never for the agent's own doing.",
        ),
        _recorded_at(),
    ]
)

AGENTS = pa.schema(
    [
        _run_id(),
        _episode_id(),
        _col("name", pa.string(), "The participant's name on the episode's bus."),
        _col("kind", pa.string(), "The agent kind (its registry name): baseline, scripted, ..."),
        _col("role", pa.string(), "The participant's role in a team, or `agent` when alone."),
        _col("request_model", pa.string(), "The model the agent asks for, if it uses one."),
        _col("params", pa.string(), "The agent's construction arguments, as JSON."),
    ]
)

EVENTS = pa.schema(
    [
        _run_id(),
        _episode_id(),
        _seq(),
        _col("ts", TIMESTAMP, "When the event happened.", nullable=False),
        _col(
            "kind",
            pa.string(),
            "What happened: episode_start, episode_end, message, tool_call, score, ...",
            nullable=False,
        ),
        _col("agent", pa.string(), "The participant that caused the event, if any."),
        _col("span_id", pa.string(), "The span the event belongs to (a step, a request)."),
        _col("cause_seq", pa.int64(), "The seq of the event that caused this one, if any."),
        _col("payload", pa.string(), "Details of the event, as JSON."),
    ]
)

MESSAGES = pa.schema(
    [
        _run_id(),
        _episode_id(),
        _seq(),
        _col("message_id", pa.string(), "The envelope's id, unique in the run.", nullable=False),
        _col("correlation_id", pa.string(), "For a reply, the id of the request it answers."),
        _col("sender", pa.string(), "The participant that sent the message."),
        _col("recipient", pa.string(), "The participant it was sent to (direct messages)."),
        _col("topic", pa.string(), "The topic it was published on (published messages)."),
        _col("type", pa.string(), "The payload's type: ToolRequest, ToolReply, ..."),
        _col("sent_at", TIMESTAMP, "When it was sent."),
        _col("size_bytes", pa.int64(), "Size of the JSON payload in bytes."),
        _col("delivered", pa.bool_(), "False if the message could not be delivered."),
        _col("error", pa.string(), "Why it could not be delivered, if it was not."),
        _col("payload", pa.string(), "The message body, as JSON."),
    ]
)

LLM_CALLS = pa.schema(
    [
        _run_id(),
        _episode_id(),
        _seq(),
        _col("agent", pa.string(), "The participant that made the call."),
        _col("request_model", pa.string(), "The model asked for."),
        _col("response_model", pa.string(), "The model that answered, as the provider says."),
        _col("input_tokens", pa.int64(), "Tokens in the prompt."),
        _col("output_tokens", pa.int64(), "Tokens in the completion."),
        _col(
            "cost_usd",
            pa.float64(),
            "Cost of the call in US dollars, from litellm's price map (0 where `priced` is false).",
        ),
        _col(
            "priced",
            pa.bool_(),
            "False when litellm's price map has no price for the model (a local server, a "
            "new model): its cost_usd is 0 but not known to be free. True for mock models.",
        ),
        _col(
            "latency_s",
            pa.float64(),
            "Seconds from the first request to the full response (or the final failure), "
            "retries and their waits included.",
        ),
        _col("retries", pa.int64(), "Retries before the call succeeded or gave up."),
        _col("finish_reason", pa.string(), "Why the model stopped: stop, length, ..."),
        _col("error", pa.string(), "The error, if the call failed."),
        _col("started_at", TIMESTAMP, "When the first request was sent."),
        _col(
            "response",
            pa.string(),
            "The assistant's reply, as the model wrote it (null if the call failed); a "
            "replay model plays these back.",
        ),
    ]
)

TOOL_CALLS = pa.schema(
    [
        _run_id(),
        _episode_id(),
        _seq(),
        _col("step", pa.int64(), "The agent's step number, from 1."),
        _col("agent", pa.string(), "The participant that issued the command."),
        _col("command", pa.string(), "The command as the agent wrote it."),
        _col("tool", pa.string(), "The tool that ran it: bash, validate, submit, ..."),
        _col(
            "action_class",
            pa.string(),
            "Edit, View, Search, Validate, Submit, Python or Bash.",
        ),
        _col("exit_code", pa.int64(), "The command's exit code (bash commands)."),
        _col("duration_s", pa.float64(), "Seconds the command took."),
        _col("timed_out", pa.bool_(), "True if the command was cut at its timeout."),
        _col("truncated", pa.bool_(), "True if the output was cut to its head and tail."),
        _col("output", pa.string(), "The observation returned to the agent."),
        _col("started_at", TIMESTAMP, "When the command started."),
    ]
)

SCORES = pa.schema(
    [
        _run_id(),
        _episode_id(),
        _seq(),
        _col("step", pa.int64(), "The agent's step number when the score was taken."),
        _col("kind", pa.string(), "validate, submit or autosubmit."),
        _col("metric", pa.string(), "Name of the task's primary metric."),
        _col("score", pa.float64(), "Value of the primary metric."),
        _col("direction", pa.string(), "max if higher scores are better, min if lower."),
        _col("baseline", pa.float64(), "The task's baseline score on the primary metric."),
        _col("metrics", pa.string(), "Every metric the evaluator reported, as JSON."),
    ]
)

SCHEMAS: dict[TableName, pa.Schema] = {
    "runs": RUNS,
    "episodes": EPISODES,
    "agents": AGENTS,
    "events": EVENTS,
    "messages": MESSAGES,
    "llm_calls": LLM_CALLS,
    "tool_calls": TOOL_CALLS,
    "scores": SCORES,
}
"""Every stored table by name, in the order they are created."""

KEYS: dict[TableName, tuple[str, ...]] = {
    "runs": ("run_id",),
    "episodes": ("run_id", "episode_id"),
}
"""The tables whose rows are written more than once (when a run or an episode starts, and
when it ends), and the columns that name a row: the row written last (``recorded_at``)
stands. Every other table is append-only."""


def column_doc(table: TableName, column: str) -> str:
    """Return the documentation of a column.

    Args:
        table: A table name (a key of SCHEMAS).
        column: A column of that table.

    Returns:
        The column's doc string.

    Raises:
        KeyError: If the table or the column does not exist.
    """
    field = SCHEMAS[table].field(column)
    return bytes(field.metadata[b"doc"]).decode()
