"""The metric views and macros, on two small runs written through the real sinks.

``write_runs`` writes the same rows to a DuckDB file or a Parquet root; every expectation
below is worked out by hand from the rows it writes (see its comments).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pytest

from researchgym.errors import StorageError
from researchgym.storage import (
    SCHEMAS,
    VIEWS,
    DuckDBSink,
    ParquetSink,
    TableName,
    open_database,
    query,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

T0 = 1_764_000_000_000_000  # microseconds
SECOND = 1_000_000

# (episode, run, task, agent, attempt, exit status, scores as (seq, kind, score)).
# Task "up": higher is better, baseline 1. Task "down": lower is better, baseline 10.
EPISODES: list[tuple[str, str, str, str, int, str, list[tuple[int, str, float]]]] = [
    ("e01", "r1", "up", "llm", 1, "submitted", [(2, "validate", 3.0), (4, "validate", 5.0),
                                                (6, "submit", 4.0)]),
    ("e02", "r1", "up", "llm", 2, "autosubmission (exit_cost)", [(3, "validate", 6.0)]),
    ("e03", "r1", "up", "llm", 3, "exit_error", []),
    ("e04", "r1", "up", "llm", 4, "submitted", [(2, "submit", 2.0)]),
    ("e05", "r1", "up", "llm", 5, "submitted", [(2, "submit", 9.0)]),
    ("e06", "r1", "down", "llm", 1, "autosubmission (max_steps)", [(2, "validate", 7.0),
                                                                   (5, "autosubmit", 8.0)]),
    ("e07", "r1", "down", "llm", 2, "submission_not_found (submit)", [(2, "validate", 9.5)]),
    ("e08", "r1", "down", "team", 1, "submitted", [(2, "validate", 3.0), (7, "submit", 12.0)]),
    ("e09", "r1", "up", "team", 1, "early_exit", []),
    ("e10", "r1", "up", "baseline", 1, "submitted", [(2, "submit", 1.0)]),
    ("e11", "r1", "up", "team", 2, "cancelled", []),
    ("e12", "r2", "up", "llm", 1, "submitted", [(2, "submit", 7.0)]),
]  # fmt: skip
TASKS = {"up": ("Score", "max", 1.0), "down": ("Loss", "min", 10.0)}
# The llm agent asks for m1; the team's planner m2 and its executor m1; the baseline none.
MEMBERS: dict[str, list[tuple[str, str | None]]] = {
    "llm": [("agent", "m1")],
    "team": [("agent", None), ("planner", "m2"), ("executor", "m1")],
    "baseline": [("agent", None)],
}
# (episode, step, action class): e01 and e08 of r1, e12 of r2.
STEPS = [("e01", 1, "View"), ("e01", 2, "Edit"), ("e01", 3, "Validate"), ("e01", 4, "Submit"),
         ("e08", 1, "Bash"), ("e08", 2, "Edit"), ("e12", 1, "Python")]  # fmt: skip
# (episode, member, model, input tokens, output tokens, cost, priced).
CALLS = [("e01", "agent", "m1", 100, 10, 0.5, True), ("e01", "agent", "m1", 200, 20, 1.0, True),
         ("e08", "planner", "m2", 50, 5, 0.0, False),
         ("e08", "executor", "m1", 30, 3, 0.25, True),
         ("e12", "agent", "m1", 1000, 100, 5.0, True)]  # fmt: skip
# (seq, sender, recipient, type, correlation id): e08's bus; only Report and Plan are team talk.
MESSAGES = [(1, "agent", "tools", "ToolRequest", None), (2, "tools", "agent", "ToolReply", "m-1"),
            (3, "executor", "planner", "Report", None), (4, "planner", "executor", "Plan", "m-3"),
            (5, "tools", "evaluator", "EvaluationRequest", None),
            (6, "evaluator", "tools", "EvaluationResult", "m-5")]  # fmt: skip


def _rows() -> dict[TableName, list[dict[str, Any]]]:
    rows: dict[TableName, list[dict[str, Any]]] = {t: [] for t in SCHEMAS}
    run_of = {e[0]: e[1] for e in EPISODES}
    for n, (ep, run, task, agent, attempt, status, scores) in enumerate(EPISODES):
        metric, direction, baseline = TASKS[task]
        start = T0 + n * 10 * SECOND
        rows["episodes"].append(
            {"run_id": run, "episode_id": ep, "task_id": task, "agent": agent,
             "attempt": attempt, "exit_status": status, "steps": 4, "metric": metric,
             "direction": direction, "baseline": baseline, "started_at": start,
             "ended_at": start + 2_500_000, "error": "boom" if status == "exit_error" else None}
        )  # fmt: skip
        rows["agents"] += [
            {"run_id": run, "episode_id": ep, "name": name, "request_model": model}
            for name, model in MEMBERS[agent]
        ]
        rows["scores"] += [
            {"run_id": run, "episode_id": ep, "seq": seq, "kind": kind, "score": score,
             "metric": metric, "direction": direction, "baseline": baseline}
            for seq, kind, score in scores
        ]  # fmt: skip
    for seq, (ep, step, action_class) in enumerate(STEPS, start=100):
        rows["tool_calls"].append(
            {"run_id": run_of[ep], "episode_id": ep, "seq": seq, "step": step, "agent": "agent",
             "command": f"{action_class.lower()} {step}", "action_class": action_class,
             "exit_code": 0, "duration_s": 0.5, "output": f"did {step}"}
        )  # fmt: skip
    for seq, (ep, member, model, tokens_in, tokens_out, cost, priced) in enumerate(CALLS, 200):
        rows["llm_calls"].append(
            {"run_id": run_of[ep], "episode_id": ep, "seq": seq, "agent": member,
             "request_model": model, "input_tokens": tokens_in, "output_tokens": tokens_out,
             "cost_usd": cost, "priced": priced}
        )  # fmt: skip
    for seq, sender, recipient, type_, correlation in MESSAGES:
        rows["messages"].append(
            {"run_id": "r1", "episode_id": "e08", "seq": seq, "message_id": f"m-{seq}",
             "correlation_id": correlation, "sender": sender, "recipient": recipient,
             "type": type_, "payload": "{}"}
        )  # fmt: skip
    return rows


def write_runs(target: Path, kind: str) -> Path:
    """Write the runs above with a DuckDBSink (kind "duckdb") or a ParquetSink, at target."""
    path = target / "runs.duckdb" if kind == "duckdb" else target / "parquet"
    sink = DuckDBSink(path) if kind == "duckdb" else ParquetSink(path)
    for table, rows in _rows().items():
        if rows:
            sink.write(table, pa.Table.from_pylist(rows, schema=SCHEMAS[table]))
    sink.close()
    return path


@pytest.fixture(params=["duckdb", "parquet"])
def con(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The runs above, opened read-only from a DuckDB file, or from a Parquet root."""
    with open_database(write_runs(tmp_path, request.param)) as connection:
        yield connection


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = query(con, sql).to_pylist()
    return result


def _call(name: str) -> str:
    """A select from every view or macro (best_at_k with k = 1)."""
    if name == "best_at_k":
        return "best_at_k(1)"
    return name if VIEWS[name].usage == name else f"{name}()"


def test_every_view_has_its_documented_columns(con: duckdb.DuckDBPyConnection) -> None:
    for name, view in VIEWS.items():
        described = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {_call(name)}").fetchall()]
        assert described == list(view.columns), name
        assert all(doc.strip() for doc in view.columns.values()), name


def test_views_carry_their_docs_as_column_comments(con: duckdb.DuckDBPyConnection) -> None:
    for name in ["episode_results", "steps", "model_calls", "team_messages"]:
        comments = con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ? "
            "ORDER BY column_index",
            [name],
        ).fetchall()
        assert dict(comments) == VIEWS[name].columns


def test_the_macros_documented_are_the_macros_there(con: duckdb.DuckDBPyConnection) -> None:
    made = rows(
        con,
        "SELECT DISTINCT function_name AS name FROM duckdb_functions() "
        "WHERE function_type = 'table_macro' AND NOT internal ORDER BY name",
    )
    documented = sorted(name for name, view in VIEWS.items() if view.usage != name)
    assert [r["name"] for r in made] == documented
    assert {
        "best_at_k", "action_classes", "action_classes_by_step", "action_classes_by_model",
        "action_classes_by_task", "failures_by_model", "failures_by_task",
        "exit_statuses_by_model", "costs_by_model", "costs_by_task",
    } <= set(documented)  # fmt: skip


def test_a_database_file_stores_them_for_any_duckdb_client(tmp_path: Path) -> None:
    path = write_runs(tmp_path, "duckdb")
    with duckdb.connect(str(path), read_only=True) as plain:  # not open_database
        views = plain.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary"
        ).fetchall()
        assert sorted(v for (v,) in views) == sorted(
            name for name, view in VIEWS.items() if view.usage == name
        )
        assert plain.execute("SELECT count(*) FROM best_at_k(1)").fetchone() == (
            plain.execute("SELECT count(DISTINCT (task_id, agent)) FROM episodes").fetchone()
        )


def test_episode_results_has_one_row_per_episode(con: duckdb.DuckDBPyConnection) -> None:
    results = rows(con, "SELECT * FROM episode_results ORDER BY episode_id")
    assert [r["episode_id"] for r in results] == [e[0] for e in EPISODES]
    by_id = {r["episode_id"]: r for r in results}
    e01 = by_id["e01"]
    assert {k: v for k, v in e01.items() if k != "started_at"} == {
        "run_id": "r1", "episode_id": "e01", "task_id": "up", "agent": "llm", "models": "m1",
        "attempt": 1, "exit_status": "submitted", "best_attempt": 5.0, "last_submission": 4.0,
        "scores": 3, "baseline": 1.0, "direction": "max", "metric": "Score", "steps": 4,
        "model_calls": 2, "input_tokens": 300, "output_tokens": 30, "cost_usd": 1.5,
        "wall_s": 2.5, "error": None, "ended_in_error": False, "failed": False,
        "incomplete": False,
    }  # fmt: skip
    # Lower is better: the best attempt is the lowest score, the last submission the last.
    assert (by_id["e08"]["best_attempt"], by_id["e08"]["last_submission"]) == (3.0, 12.0)
    assert (by_id["e06"]["best_attempt"], by_id["e06"]["last_submission"]) == (7.0, 8.0)
    # A team's models are its members' models; the baseline agent uses none.
    assert (by_id["e08"]["models"], by_id["e10"]["models"]) == ("m1, m2", None)
    assert by_id["e08"]["model_calls"] == 2 and by_id["e08"]["cost_usd"] == 0.25
    assert by_id["e10"]["model_calls"] == by_id["e10"]["input_tokens"] == 0
    assert by_id["e10"]["cost_usd"] == 0.0
    assert (by_id["e03"]["best_attempt"], by_id["e03"]["scores"]) == (None, 0)


def test_ending_in_error_and_failed_and_incomplete(con: duckdb.DuckDBPyConnection) -> None:
    flags = {
        r["episode_id"]: (r["ended_in_error"], r["failed"], r["incomplete"])
        for r in rows(con, "SELECT * FROM episode_results")
    }
    ok, failed, incomplete = (False, False, False), (True, True, False), (True, False, True)
    assert flags == {
        "e01": ok, "e02": incomplete, "e03": failed, "e04": ok, "e05": ok,
        "e06": ok,  # the step limit: scored, not an error
        "e07": incomplete, "e08": ok, "e09": failed, "e10": ok,
        "e11": ok,  # cancelled by the user: not an error
        "e12": ok,
    }  # fmt: skip


def test_steps_have_the_action_and_its_episode(con: duckdb.DuckDBPyConnection) -> None:
    steps = rows(con, "SELECT * FROM steps WHERE episode_id = 'e08' ORDER BY step")
    assert [
        (s["task_id"], s["agent"], s["models"], s["member"], s["step"], s["action"],
         s["action_class"], s["exit_code"], s["duration_s"], s["observation"])
        for s in steps
    ] == [
        ("down", "team", "m1, m2", "agent", 1, "bash 1", "Bash", 0, 0.5, "did 1"),
        ("down", "team", "m1, m2", "agent", 2, "edit 2", "Edit", 0, 0.5, "did 2"),
    ]  # fmt: skip
    assert rows(con, "SELECT count(*) AS n FROM steps") == [{"n": len(STEPS)}]


def test_model_calls_name_the_task_agent_and_member(con: duckdb.DuckDBPyConnection) -> None:
    calls = rows(con, "SELECT * FROM model_calls WHERE episode_id = 'e08' ORDER BY seq")
    assert [
        (c["task_id"], c["agent"], c["member"], c["request_model"], c["priced"]) for c in calls
    ] == [("down", "team", "planner", "m2", False), ("down", "team", "executor", "m1", True)]


def test_team_messages_leave_out_the_tools_and_the_evaluator(
    con: duckdb.DuckDBPyConnection,
) -> None:
    messages = rows(con, "SELECT * FROM team_messages ORDER BY seq")
    assert [
        (m["task_id"], m["agent"], m["sender"], m["recipient"], m["type"], m["correlation_id"])
        for m in messages
    ] == [
        ("down", "team", "executor", "planner", "Report", None),
        ("down", "team", "planner", "executor", "Plan", "m-3"),
    ]


def test_best_at_k_in_sql(con: duckdb.DuckDBPyConnection) -> None:
    # r1's llm on "up", first 4 attempts: best attempts 5, 6, none, 2; last submissions 4,
    # 6, none, 2. The fifth attempt (9) is beyond k.
    up = rows(con, "SELECT * FROM best_at_k(4, runs := ['r1']) WHERE task_id = 'up'")
    assert up == [
        {"task_id": "up", "agent": "baseline", "metric": "Score", "direction": "max",
         "baseline": 1.0, "attempts": 1, "scored": 1, "best_attempt_at_k": 1.0,
         "best_submission_at_k": 1.0},
        {"task_id": "up", "agent": "llm", "metric": "Score", "direction": "max",
         "baseline": 1.0, "attempts": 4, "scored": 3, "best_attempt_at_k": 6.0,
         "best_submission_at_k": 6.0},
        {"task_id": "up", "agent": "team", "metric": "Score", "direction": "max",
         "baseline": 1.0, "attempts": 2, "scored": 0, "best_attempt_at_k": None,
         "best_submission_at_k": None},
    ]  # fmt: skip


def test_a_file_opened_for_writing_has_the_views_too(tmp_path: Path) -> None:
    path = write_runs(tmp_path, "duckdb")
    with open_database(path, read_only=False) as con:
        assert rows(con, "SELECT count(*) AS n FROM episode_results") == [{"n": len(EPISODES)}]


def test_an_old_database_whose_tables_lack_columns_says_so(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    DuckDBSink(path).close()
    with duckdb.connect(str(path)) as old:
        old.execute("ALTER TABLE llm_calls DROP COLUMN priced")
    with pytest.raises(StorageError) as caught:
        open_database(path)
    assert re.fullmatch(
        re.escape(f"Cannot create the metric views over {path}: ")
        + r"Binder Error: .*priced.* "
        + re.escape(
            "Its tables lack what the views read: it was written by an older researchgym. "
            "Pass a newer database with --db."
        ),
        str(caught.value),
    )
