"""researchgym sql and report, run as a user runs them: a real process, real files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from researchgym.storage import SCHEMAS, VIEWS, column_doc
from tests.cli.helpers import cli
from tests.storage.test_views import EPISODES, write_runs

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with one default run (baseline, offline LLM agent) of the Prisoner's
    Dilemma, made by the CLI."""
    path = tmp_path_factory.mktemp("cli") / "runs.duckdb"
    done = cli(
        "run", "--task", "prisoners_dilemma", "--attempts", "2", "--sandbox", "local", "--db", path
    )
    assert done.returncode == 0, done.stderr
    assert "4 episodes (0 crashed), 12 steps." in done.stdout
    assert f"Report: researchgym report --db {path}" in done.stdout
    assert "To run a real model: researchgym run --model openai/gpt-4o" in done.stdout
    return path


def test_report_shows_scores_at_k_aup_failures_and_statuses(db: Path) -> None:
    done = cli("report", "--db", db, "--k", "1")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.index("Best Attempt@1") < out.index("Best Submission@1") < out.index("AUP")
    # The mock LLM agent lists the workspace, validates and submits it unchanged: every score
    # is the baseline's (validate 2.635, submit 2.643). Columns: task, metric, the task's
    # baseline, the baseline agent, the LLM agent.
    scores = [line.split() for line in out.splitlines() if "prisoners_dilemma" in line]
    assert scores == [["prisoners_dilemma", "Score", "↑", "2.643", "2.643", "2.643"]] * 2
    # All tie for the best: every ratio is 1, so tau_max = ceil(10 log10 ceil(1.05)) / 10 and
    # every AUP is tau_max. Then episodes, failed, incomplete, calls, unpriced, tokens, cost.
    assert "AUP (tau_max 0.4)" in out
    section = out[out.index("AUP") : out.index("Exit statuses")]
    assert re.search(r"^ *baseline +0\.4 +0\.4 +- +- +- ", section, re.MULTILINE)
    assert re.search(r"^ *baseline \(agent\) +0\.4 +0\.4 +2 +0 +0 +0 ", section, re.MULTILINE)
    assert re.search(r"^ *llm-mock +0\.4 +0\.4 +2 +0 +0 +6 +0 ", section, re.MULTILINE)
    assert re.search(r"llm-mock\s+submitted\s+2\s+1\s*$", out, re.MULTILINE)


def test_report_as_json_has_every_table_at_full_precision(db: Path) -> None:
    done = cli("report", "--db", db, "--format", "json")
    report = json.loads(done.stdout)
    assert list(report) == [
        "runs", "states", "k", "tau_max", "scores", "solvers", "exit_statuses"
    ]  # fmt: skip
    assert (report["k"], report["tau_max"]) == (4, 0.4)
    assert report["states"] == {report["runs"][0]: "completed"}
    baseline, llm = report["scores"]
    assert (baseline["agent"], llm["agent"]) == ("baseline", "llm-mock")
    assert baseline["best_attempt_at_k"] == baseline["baseline"] == 2.64314
    assert (llm["attempts"], llm["scored"], llm["best_submission_at_k"]) == (2, 2, 2.64314)
    assert [s["solver"] for s in report["solvers"]] == ["baseline", "baseline (agent)", "llm-mock"]
    assert {(r["agent"], r["exit_status"], r["episodes"]) for r in report["exit_statuses"]} == {
        ("baseline", "submitted", 2),
        ("llm-mock", "submitted", 2),
    }


def test_report_as_csv_is_the_scores_per_task_and_agent(db: Path) -> None:
    lines = cli("report", "--db", db, "--format", "csv", "--k", "1").stdout.splitlines()
    assert lines == [
        '"task_id","agent","metric","direction","baseline","attempts","scored",'
        '"best_attempt_at_k","best_submission_at_k"',
        '"prisoners_dilemma","baseline","Score","max",2.64314,1,1,2.64314,2.64314',
        '"prisoners_dilemma","llm-mock","Score","max",2.64314,1,1,2.64314,2.64314',
    ]


def test_sql_schema_documents_every_table_and_view(tmp_path: Path) -> None:
    done = cli("sql", "--schema", "--format", "json", "--db", tmp_path / "none.duckdb")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert {r["name"] for r in listed} == {*SCHEMAS, *(v.usage for v in VIEWS.values())}
    assert {
        "name": "best_at_k(k, runs := NULL)",
        "kind": "macro",
        "column": "best_attempt_at_k",
        "doc": VIEWS["best_at_k"].columns["best_attempt_at_k"],
    } in listed
    assert {
        "name": "episodes",
        "kind": "table",
        "column": "exit_status",
        "doc": column_doc("episodes", "exit_status"),
    } in listed
    assert all(r["doc"] for r in listed)
    table = cli("sql", "--schema")
    assert re.search(r"^\s*team_messages\s+view\s+correlation_id\s", table.stdout, re.MULTILINE)


def test_sql_needs_a_statement_or_schema(db: Path) -> None:
    done = cli("sql", "--db", db)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "Give a SQL statement, or --schema to list the tables and views.\n"


def test_sql_table_csv_and_json(db: Path) -> None:
    statement = "SELECT kind, count(*) AS n FROM events GROUP BY kind ORDER BY kind"
    table = cli("sql", statement, "--db", db)
    assert re.search(r"tool_call\s+12\b", table.stdout)
    csv = cli("sql", statement, "--db", db, "--format", "csv")
    assert csv.stdout.splitlines()[0] == '"kind","n"'
    assert '"tool_call",12' in csv.stdout.splitlines()
    as_json = json.loads(cli("sql", statement, "--db", db, "--format", "json").stdout)
    assert {"kind": "tool_call", "n": 12} in as_json


def test_sql_error_is_duckdbs_message_without_traceback(db: Path) -> None:
    done = cli("sql", "SELECT nope FROM events", "--db", db)
    assert done.returncode == 1
    assert done.stderr.startswith("error: The query failed: Binder Error: Referenced column")
    assert "Traceback" not in done.stderr


def refused(what: str, detail: str) -> str:
    """The whole error line of a refused query, whitespace collapsed, as a regex."""
    return re.escape(
        f"error: researchgym's SQL only reads the stored runs: {what} is refused ({detail}). "
        "It runs SELECT (DESCRIBE, SHOW and SUMMARIZE too) and EXPLAIN of a SELECT, over the "
        "tables and views of the database, and opens no other file. To save a result in a "
        "file, print it as csv or json and redirect it: "
        'researchgym sql "SELECT ..." --format csv > result.csv'
    )


def test_sql_refuses_a_write_in_one_message(db: Path, tmp_path: Path) -> None:
    # The brackets would be rich markup, and a closing tag that opens nothing a traceback.
    statement = "COPY (SELECT '[/x] [bold]' AS a) TO 'evil.csv'"
    done = cli("sql", statement, "--db", db, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (1, "")
    assert re.fullmatch(refused("a COPY statement", statement), " ".join(done.stderr.split()))
    assert list(tmp_path.iterdir()) == []


def test_sql_refuses_other_files(db: Path) -> None:
    done = cli("sql", "SELECT * FROM read_csv('/etc/passwd')", "--db", db)
    assert (done.returncode, done.stdout) == (1, "")
    duckdbs = (
        'Permission Error: Cannot access file "/etc/passwd" - file system operations are '
        "disabled by configuration"
    )
    assert re.fullmatch(refused("file access", duckdbs), " ".join(done.stderr.split()))


def test_report_and_sql_read_a_parquet_root_and_write_nothing(tmp_path: Path) -> None:
    root = write_runs(tmp_path, "parquet").relative_to(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    report = cli("report", "--db", root, "--run", "r1", "--format", "json", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert {r["task_id"] for r in json.loads(report.stdout)["scores"]} == {"up", "down"}
    statement = "SELECT count(*) AS n FROM episode_results"
    counted = cli("sql", statement, "--db", root, "--format", "json", cwd=tmp_path)
    assert json.loads(counted.stdout) == [{"n": len(EPISODES)}]
    statement = f"COPY (SELECT 1 AS a) TO '{root}/scores/evil.parquet'"
    done = cli("sql", statement, "--db", root, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (1, "")
    assert re.fullmatch(refused("a COPY statement", statement), " ".join(done.stderr.split()))
    assert sorted(tmp_path.rglob("*")) == before


def test_missing_database_says_how_to_make_one(tmp_path: Path) -> None:
    done = cli("report", "--db", tmp_path / "none.duckdb")
    assert done.returncode == 1
    assert "researchgym run" in done.stderr and "Traceback" not in done.stderr


def test_locked_database_says_who_holds_it(db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "held.duckdb"
    copy.write_bytes(db.read_bytes())
    with subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(copy)!r}); "
         "print('ready', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:  # fmt: skip
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
            done = cli("sql", "SELECT 1", "--db", copy)
        finally:
            holder.kill()
    assert done.returncode == 1
    expected = (
        f"error: The database {copy} is in use by another process (PID {holder.pid}). Wait "
        "for that run to finish, or pass another database with --db."
    )
    assert " ".join(done.stderr.split()) == expected
