"""Admission: the open-file limit raised at start, no more episodes at once than its
descriptors allow (and said so), and a run whose episodes ran out of files never called
completed."""

from __future__ import annotations

import errno
import json
import os
import resource
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from researchgym.agents import agent
from researchgym.engine import DESCRIPTORS_PER_EPISODE, RESERVED_DESCRIPTORS, Runner
from researchgym.storage import open_database, query
from tests.cli.helpers import CLI
from tests.engine.test_runner import config, sql, toy_task

if TYPE_CHECKING:
    from pathlib import Path

    from researchgym.agents import AgentContext, Observation

EACH = DESCRIPTORS_PER_EPISODE["local"]
ADMIT = "import json; from researchgym.engine import admit; print(json.dumps(admit(64, 'local')))"


def limited(
    args: list[str], soft: int, hard: int, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a child process under these open-file limits."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    return subprocess.run(
        args, preexec_fn=apply, capture_output=True, text=True, timeout=120, env=env
    )


def test_the_soft_limit_is_raised_to_the_hard_one() -> None:
    done = limited([sys.executable, "-c", ADMIT], 300, 8192)
    assert done.returncode == 0, done.stderr
    episodes, open_files, note = json.loads(done.stdout)
    assert (episodes, open_files, note) == (64, 8192, None)


def test_no_more_episodes_than_the_descriptors_allow_and_it_says_so() -> None:
    hard = RESERVED_DESCRIPTORS + EACH * 3
    done = limited([sys.executable, "-c", ADMIT], hard, hard)
    assert done.returncode == 0, done.stderr
    episodes, open_files, note = json.loads(done.stdout)
    assert (episodes, open_files) == (3, hard)
    assert note.startswith(
        f"3 episodes run at once, not the 64 asked: this process may open {hard}"
    )


def test_a_run_under_a_low_limit_runs_fewer_at_once_and_completes(tmp_path: Path) -> None:
    hard = RESERVED_DESCRIPTORS + EACH * 2
    db = tmp_path / "db.duckdb"
    args = [CLI, "run", "--task", toy_task(tmp_path / "toy"), "--agent", "baseline"]
    args += ["--attempts", "4", "--concurrency", "16", "--sandbox", "local", "--db", str(db)]
    env = {**os.environ, "COLUMNS": "200"}
    done = limited(args, hard, hard, env)
    assert done.returncode == 0, done.stderr
    assert "2 episodes run at once, not the 16 asked" in " ".join(done.stdout.split())
    with open_database(db) as con:
        rows = query(con, "SELECT exit_status, count(*) AS n FROM episodes GROUP BY 1").to_pylist()
        runs = query(con, "SELECT status FROM runs").to_pylist()
    assert rows == [{"exit_status": "submitted", "n": 4}]
    assert runs == [{"status": "completed"}]


class OutOfFiles:
    async def act(self, observation: Observation) -> str:
        raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))


@agent("test-out-of-files")
def _out_of_files(context: AgentContext) -> OutOfFiles:
    return OutOfFiles()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_run_whose_episodes_ran_out_of_files_is_failed(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        tasks=[toy_task(tmp_path / "toy")],
        agents=[{"kind": "baseline"}, {"kind": "test-out-of-files"}],
        attempts=1,
    )
    runner = Runner(cfg)
    outcomes = {o.exit_status: o for o in await runner.run()}
    starved = outcomes["exit_error"]
    assert (starved.exhausted, starved.retryable) == (True, True)
    assert "Too many open files" in str(starved.error)
    assert not outcomes["submitted"].exhausted
    assert runner.statistics().exhausted == 1
    assert await sql(cfg, "SELECT status FROM runs") == [{"status": "failed"}]
