"""Resuming a stored run through the Runner, and retrying infrastructure failures."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

import anyio
import pyarrow as pa
import pytest

from researchgym._host import hostname
from researchgym.agents import agent
from researchgym.engine import Runner
from researchgym.errors import ConfigError
from researchgym.sandboxes import open_docker
from researchgym.storage import SCHEMAS, DuckDBSink
from tests.engine.test_runner import config, sql, toy_task

if TYPE_CHECKING:
    from pathlib import Path

    from researchgym.agents import AgentContext, Observation

WRITE_7 = {"kind": "scripted", "params": {"commands": ["echo 7 > answer.txt", "validate"]}}


def resumable(tmp_path: Path, **data: Any) -> Any:
    data.setdefault("tasks", [toy_task(tmp_path / "toy")])
    return config(tmp_path, run_id="r", resume=True, agents=[WRITE_7], **data)


async def test_resuming_runs_only_what_was_added(tmp_path: Path) -> None:
    first = await Runner(resumable(tmp_path, attempts=2)).run()
    assert [o.exit_status for o in first] == ["submitted"] * 2
    again = await Runner(resumable(tmp_path, attempts=2)).run()
    assert again == []  # everything ended: nothing runs
    more = await Runner(resumable(tmp_path, attempts=3)).run()
    assert [o.exit_status for o in more] == ["submitted"]
    rows = await sql(resumable(tmp_path), "SELECT attempt, try_number FROM episodes ORDER BY 1")
    assert rows == [{"attempt": n, "try_number": 1} for n in (1, 2, 3)]
    [run] = await sql(resumable(tmp_path), "SELECT status, episodes FROM runs")
    assert run == {"status": "completed", "episodes": 3}


async def test_a_changed_task_or_agent_is_refused_unless_forced(tmp_path: Path) -> None:
    await Runner(resumable(tmp_path, attempts=2)).run()
    before = (await sql(resumable(tmp_path), "SELECT task_hash FROM episodes"))[0]["task_hash"]
    await anyio.Path(tmp_path / "toy" / "workspace" / "notes.txt").write_text("changed")
    task = await anyio.to_thread.run_sync(
        lambda: __import__("researchgym").tasks.load_task(tmp_path / "toy")
    )
    with pytest.raises(
        ConfigError,
        match=r"^The run 'r' cannot be resumed as configured: the task toy changed \(its "
        + re.escape(f"content hash was {before[:12]}, it is now {task.content_hash[:12]})")
        + r"\. Its episodes that ended were made with the old ones; pass --force",
    ):
        await Runner(resumable(tmp_path, attempts=3)).run()
    forced = await Runner(resumable(tmp_path, attempts=3), force=True).run()
    assert len(forced) == 1  # only the new attempt: the two that ended are kept
    other = {"kind": "scripted", "label": "scripted", "params": {"commands": ["true"]}}
    with pytest.raises(ConfigError, match=r"the agent scripted changed \(it was .*echo 7"):
        await Runner(config(tmp_path, run_id="r", resume=True, agents=[other], attempts=3,
                            tasks=[str(tmp_path / "toy")])).run()  # fmt: skip


async def test_a_run_still_going_on_is_not_resumed(tmp_path: Path) -> None:
    cfg = resumable(tmp_path)
    row = {"run_id": "r", "status": "running", "host": hostname(), "pid": os.getpid()}
    sink = await anyio.to_thread.run_sync(DuckDBSink, cfg.storage.path)
    await anyio.to_thread.run_sync(
        sink.write, "runs", pa.Table.from_pylist([row], schema=SCHEMAS["runs"])
    )
    await anyio.to_thread.run_sync(sink.close)
    with pytest.raises(
        ConfigError, match=rf"is still going on \(process {os.getpid()} on this host\)"
    ):
        await Runner(cfg).run()


async def test_a_reused_run_id_without_resume_is_refused(tmp_path: Path) -> None:
    cfg = resumable(tmp_path, attempts=1)
    await Runner(cfg).run()
    with pytest.raises(ConfigError, match=r"or resume it: researchgym run --resume r\.$"):
        await Runner(cfg.model_copy(update={"resume": False})).run()


async def test_the_agents_own_exit_is_never_tried_again(tmp_path: Path) -> None:
    leaving = {"kind": "scripted", "params": {"commands": ["exit"]}}
    cfg = config(tmp_path, tasks=[toy_task(tmp_path / "toy")], agents=[leaving], attempts=1,
                 retry_errors=2)  # fmt: skip
    [outcome] = await Runner(cfg).run()
    assert (outcome.exit_status, outcome.retryable) == ("early_exit", False)
    assert await sql(cfg, "SELECT try_number, retryable FROM episodes") == [
        {"try_number": 1, "retryable": False}
    ]


_KILLED: set[str] = set()


class ContainerKiller:
    """Kills every container of its run from outside at its first step, once per run."""

    def __init__(self, run: str) -> None:
        self._run = run
        self._commands = ["echo 7 > answer.txt", "validate"]

    async def act(self, observation: Observation) -> str:
        if self._run not in _KILLED:
            _KILLED.add(self._run)
            async with open_docker() as docker:
                label = f"researchgym.run={self._run}"
                for container in await docker.containers.list(filters={"label": [label]}):
                    await container.kill()
            return "echo after"
        return self._commands.pop(0) if self._commands else "submit"


@agent("test-container-killer")
def _killer(context: AgentContext, *, run: str) -> ContainerKiller:
    return ContainerKiller(run)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_sandbox_that_dies_once_is_tried_again(tmp_path: Path, sandbox_image: str) -> None:
    run_id = f"retry-{os.getpid()}"
    killer = {"kind": "test-container-killer", "params": {"run": run_id}}
    docker = {"kind": "docker", "image": sandbox_image}
    cfg = config(tmp_path, run_id=run_id, tasks=[toy_task(tmp_path / "toy")], agents=[killer],
                 attempts=1, retry_errors=1, sandbox=docker)  # fmt: skip
    [outcome] = await Runner(cfg).run()
    assert outcome.exit_status == "submitted"
    tries = await sql(
        cfg, "SELECT try_number, exit_status, retryable, error FROM episodes ORDER BY 1"
    )
    assert [(t["try_number"], t["exit_status"], t["retryable"]) for t in tries] == [
        (1, "early_exit", True),
        (2, "submitted", False),
    ]
    assert "the sandbox was killed (exit 137)" in tries[0]["error"]
    results = await sql(cfg, "SELECT exit_status, best_attempt FROM episode_results")
    assert results == [{"exit_status": "submitted", "best_attempt": 7.0}]  # the last try counts
