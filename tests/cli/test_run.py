"""researchgym run, as a user runs it: what it says when it cannot, Ctrl-C, no Docker."""

from __future__ import annotations

import json
import os
import subprocess
import time
from typing import TYPE_CHECKING

import yaml

from tests.cli.helpers import CLI, cli, interrupt, rows
from tests.tasks.test_loader import make_task

if TYPE_CHECKING:
    from pathlib import Path


def test_broken_task_names_file_and_key(tmp_path: Path) -> None:
    broken = make_task(tmp_path / "broken", lambda spec: spec["metric"].pop("name"))
    done = cli("run", "--task", broken, "--db", tmp_path / "db.duckdb")
    assert done.returncode == 1
    message = " ".join(done.stderr.split())
    assert message == f"error: Broken task: {broken / 'task.yaml'}: key 'metric.name': is missing"
    assert not (tmp_path / "db.duckdb").exists()


def test_unknown_agent_lists_known_ones(tmp_path: Path) -> None:
    done = cli("run", "--agent", "gpt-9", "--db", tmp_path / "db.duckdb")
    assert done.returncode == 2  # a usage error, as for any bad option
    message = " ".join(done.stderr.split())
    assert "Invalid value for '--agent': no agent kind is called 'gpt-9' (known: " in message
    assert (
        "ask-model, baseline, llm, planner-executor, replay, scripted)" in message
    )  # a plug-in's too
    assert not (tmp_path / "db.duckdb").exists()
    in_a_file = tmp_path / "run.yaml"
    in_a_file.write_text("agents: [{kind: gpt-9}]\n")
    done = cli("run", in_a_file, "--db", tmp_path / "db.duckdb")
    assert done.returncode == 1
    assert done.stderr.startswith("error: Unknown agent kind 'gpt-9'. Choose one of: ask-model,")


def stepped(db: Path) -> int:
    """Episodes with a step stored under ``db`` (a Parquet root that a run is writing)."""
    if not list(db.glob("tool_calls/*/*.parquet")):
        return 0
    [count] = rows(db, "SELECT count(DISTINCT episode_id) AS n FROM tool_calls")
    n = count["n"]
    assert isinstance(n, int)
    return n


def test_ctrl_c_stores_everything_recorded(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "tasks": ["prisoners_dilemma"],
                "agents": [{"kind": "scripted", "params": {"commands": ["sleep 0.05"] * 1000}}],
                "attempts": 3,
                "limits": {"max_steps": 2000},
            }
        )
    )
    db = tmp_path / "parquet"  # readable while the run writes, unlike a DuckDB file
    run = subprocess.Popen(
        [CLI, "run", str(config), "--sandbox", "local", "--parquet", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300  # a loaded machine may take minutes to get there
    while stepped(db) < 3:  # every episode has steps recorded and flushed
        assert time.monotonic() < deadline and run.poll() is None, "no steps were stored"
        time.sleep(0.1)
    stderr = interrupt(run)
    assert run.returncode == 130, stderr
    assert "Cancelled. Everything recorded so far is stored." in stderr
    assert rows(db, "SELECT status, episodes FROM runs") == [{"status": "cancelled", "episodes": 3}]
    episodes = rows(db, "SELECT exit_status, error, steps FROM episodes")
    assert [(e["exit_status"], e["error"]) for e in episodes] == [("cancelled", None)] * 3
    assert all(isinstance(e["steps"], int) and e["steps"] > 0 for e in episodes)
    # every step that was recorded is there in full: its event, its row and both messages
    [counts] = rows(
        db,
        "SELECT (SELECT count(*) FROM events WHERE kind = 'tool_call') AS events, "
        "(SELECT count(*) FROM tool_calls) AS tool_calls, "
        "(SELECT sum(steps) FROM episodes) AS steps, "
        "(SELECT count(*) FROM events WHERE kind = 'episode_end') AS ends",
    )
    assert counts["events"] == counts["tool_calls"] == counts["steps"]
    assert counts["ends"] == 3
    gaps = rows(db, "SELECT max(seq) - count(*) AS gap FROM events GROUP BY episode_id")
    assert gaps == [{"gap": 0}] * 3


def test_db_and_parquet_together_are_refused(tmp_path: Path) -> None:
    done = cli("run", "--db", tmp_path / "a.duckdb", "--parquet", tmp_path / "pq")
    assert (done.returncode, done.stderr.strip()) == (
        1,
        "error: Pass --db or --parquet, not both: a run is stored in one place.",
    )


def test_missing_image_says_which_command_builds_it(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text(
        yaml.safe_dump({"sandbox": {"kind": "docker", "image": "researchgym/sandbox:nope"}})
    )
    done = cli("run", config, "--db", tmp_path / "db.duckdb")
    assert done.returncode == 1
    assert " ".join(done.stderr.split()) == (
        "error: The sandbox image researchgym/sandbox:nope is not built. "
        "Build it with: researchgym sandbox build"
    )


def test_no_daemon_falls_back_to_local_or_says_so(tmp_path: Path) -> None:
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock", "COLUMNS": "200"}
    args = [
        CLI,
        "run",
        "--task",
        "prisoners_dilemma",
        "--attempts",
        "1",
        "--agent",
        "baseline",
        "--db",
    ]
    auto = subprocess.run(
        [*args, str(tmp_path / "a.duckdb")], capture_output=True, text=True, env=env, timeout=120
    )
    assert auto.returncode == 0, auto.stderr
    no_daemon = "auto: no Docker daemon answers, nothing listens on unix:///nonexistent/docker.sock"
    first = " ".join(auto.stdout.splitlines()[0].split())
    assert first.startswith(f"Sandboxes: local ({no_daemon}); ")
    assert rows(tmp_path / "a.duckdb", "SELECT sandbox FROM episodes") == [{"sandbox": "local"}]
    [stored] = rows(tmp_path / "a.duckdb", "SELECT config->'sandbox' AS box FROM runs")
    box = json.loads(str(stored["box"]))
    assert (box["kind"], box["chosen"]) == ("local", no_daemon)
    docker = subprocess.run(
        [*args, str(tmp_path / "d.duckdb"), "--sandbox", "docker"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert docker.returncode == 1
    assert " ".join(docker.stderr.split()).startswith(
        "error: Cannot reach the Docker daemon: nothing listens on unix:///nonexistent/docker.sock."
    )
