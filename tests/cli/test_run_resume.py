"""A real run killed with SIGKILL at several moments, then reported and resumed.

Each run is the CLI in a process of its own, on a toy task that scores what the agent writes
(7). The signal to kill comes from what the run does on this host: its first line printed, a
command of the agent running (``sleep 3.<token>``), its evaluator running, or many steps in
(while the writer flushes). Killed runs must open, report ``interrupted``, hold no row twice,
and resume to what an uninterrupted run of the same configuration stores.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from researchgym.storage import open_database, query
from tests.cli.helpers import CLI, cli, labelled
from tests.tasks.test_loader import make_task

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

ATTEMPTS = 3
FINISH = ["echo 7 > answer.txt", "validate"]
EVALUATE = """
import json, os, subprocess, sys
subprocess.run(["sleep", sys.argv[1]])
answer = open(os.environ["RGYM_SUBMISSION"]).read().strip()
json.dump({"Score": float(answer)}, open(os.environ["RGYM_RESULT"], "w"))
"""


def marks(moment: str) -> tuple[str, str, str]:
    """Distinct sleep durations, long enough to be seen: in the agent's command, in the
    evaluator, and mid-run; 0 where the moment does not look for them."""
    base = f"{os.getpid() % 1000:03d}{len(moment)}"
    wanted = {"episode": 0, "evaluation": 1, "flush": 2}.get(moment)
    return tuple(f"0.6{base}{i}" if i == wanted else "0" for i in range(3))  # type: ignore[return-value]


def setup(tmp_path: Path, moment: str, *, sandbox: str = "local", image: str = "") -> Path:
    agent_sleep, eval_sleep, mid_sleep = marks(moment)
    task = make_task(
        tmp_path / "toy",
        lambda s: s.update(evaluation={"command": ["python3", "evaluate.py", eval_sleep]}),
    )
    (task / "eval" / "evaluate.py").write_text(EVALUATE)
    commands = ["true"] * 20 + [f"sleep {mid_sleep}"] + ["true"] * 20 if moment == "flush" else []
    commands.insert(0, f"sleep {agent_sleep}")
    config = {
        "run_id": f"killed-{moment}",
        "resume": True,
        "tasks": [str(task)],
        "agents": [
            {
                "kind": "scripted",
                "params": {"commands": [*commands, "echo 7 > answer.txt", "validate"]},
            }
        ],
        "attempts": ATTEMPTS,
        "limits": {"concurrent_episodes": 2, "max_steps": 60},
        "sandbox": {"kind": sandbox, **({"image": image} if image else {})},
        "storage": {"path": str(tmp_path / "db.duckdb")},
    }
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def running(cmdline: str) -> bool:
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/cmdline", "rb") as file:
                if file.read() == cmdline.encode():
                    return True
        except (OSError, ValueError):
            continue
    return False


def start(config: Path, log: Path) -> subprocess.Popen[str]:
    with log.open("w") as out:
        return subprocess.Popen([CLI, "run", str(config)], stdout=out, stderr=out, text=True)


def kill_when(run: subprocess.Popen[str], log: Path, moment: str) -> None:
    agent_sleep, eval_sleep, mid_sleep = marks(moment)
    signs: dict[str, Callable[[], bool]] = {
        "start": lambda: "Run killed-start" in log.read_text(),
        "episode": lambda: running(f"sleep\0{agent_sleep}\0"),
        "evaluation": lambda: running(f"sleep\0{eval_sleep}\0"),
        "flush": lambda: running(f"sleep\0{mid_sleep}\0"),
    }
    ready = signs[moment]
    deadline = time.monotonic() + 300  # a loaded machine may take minutes to get there
    while not ready():
        assert run.poll() is None, f"the run ended before the kill: {log.read_text()}"
        assert time.monotonic() < deadline, f"never saw the moment {moment}"
        time.sleep(0.01)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)


def rows(db: Path, sql: str) -> list[dict[str, Any]]:
    with open_database(db) as con:
        result: list[dict[str, Any]] = query(con, sql).to_pylist()
        return result


def check_nothing_twice(db: Path) -> None:
    assert rows(db, "SELECT episode_id FROM episodes GROUP BY 1 HAVING count(*) > 1") == []
    assert rows(db, "SELECT run_id FROM runs GROUP BY 1 HAVING count(*) > 1") == []
    twice = "SELECT episode_id, seq FROM events GROUP BY ALL HAVING count(*) > 1"
    assert rows(db, twice) == []


def outcome(db: Path) -> dict[str, Any]:
    """What counts in a finished run: its attempts' last tries and their scores."""
    results = rows(db, "SELECT exit_status, scores FROM episode_results ORDER BY attempt")
    [run] = rows(db, "SELECT status, episodes FROM runs")
    return {"results": results, "run": run}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp_path = tmp_path_factory.mktemp("whole")
    done = cli("run", setup(tmp_path, "episode"))
    assert done.returncode == 0, done.stderr
    return outcome(tmp_path / "db.duckdb")


@pytest.mark.parametrize("moment", ["start", "episode", "evaluation", "flush"])
def test_a_run_killed_at_any_moment_reports_and_resumes(
    tmp_path: Path, moment: str, uninterrupted: dict[str, Any]
) -> None:
    config, db, log = setup(tmp_path, moment), tmp_path / "db.duckdb", tmp_path / "run.log"
    kill_when(start(config, log), log, moment)
    reported = cli("report", "--db", db)
    if moment == "start" and (not db.exists() or "No runs" in reported.stderr):
        pass  # killed before anything was stored: nothing to report, a plain run to resume
    else:
        assert reported.returncode == 0, reported.stderr
        assert reported.stdout.startswith(f"Runs: killed-{moment} (interrupted)")
        check_nothing_twice(db)
    resumed = cli("run", config)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    check_nothing_twice(db)
    assert outcome(db) == uninterrupted
    leftovers = [m for m in marks(moment) if m != "0" and running(f"sleep\0{m}\0")]
    assert leftovers == []


def test_a_docker_run_killed_mid_episode_leaves_no_container(
    tmp_path: Path, sandbox_image: str, uninterrupted: dict[str, Any]
) -> None:
    config = setup(tmp_path, "episode", sandbox="docker", image=sandbox_image)
    log = tmp_path / "run.log"
    kill_when(start(config, log), log, "episode")
    assert len(labelled("killed-episode")) == 2  # left by the killed process
    resumed = cli("run", config)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert labelled("killed-episode") == []
    assert outcome(tmp_path / "db.duckdb") == uninterrupted
