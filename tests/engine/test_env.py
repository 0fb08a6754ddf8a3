"""The Gym-style API over a real bus, tool service, evaluator and local sandbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio
import pytest

from researchgym.engine import (
    Env,
    EvaluatorService,
    Recorder,
    ResearchEnv,
    StepLimit,
    ToolService,
    open_bus,
)
from researchgym.sandboxes import open_local_sandbox
from researchgym.storage import Sink, TableName, open_writer
from researchgym.tasks import Task, load_task
from tests.tasks.test_evaluator import SCORE_ANSWER
from tests.tasks.test_loader import make_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


class MemorySink(Sink):
    """Keeps every row it is given."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {}

    def write(self, table: TableName, batch: Any) -> None:
        self.rows.setdefault(table, []).extend(batch.to_pylist())

    def close(self) -> None:
        pass


@pytest.fixture
def task(tmp_path: Path) -> Task:
    root = make_task(tmp_path / "toy")
    (root / "eval" / "evaluate.py").write_text(SCORE_ANSWER)
    return load_task(root)


@pytest.fixture
async def env(task: Task) -> AsyncIterator[ResearchEnv]:
    async with (
        open_writer(MemorySink()) as writer,
        await open_local_sandbox() as sandbox,
        open_bus(run_id="r") as bus,
        bus.endpoint("tools", episode_id="e") as tools,
        bus.endpoint("evaluator", episode_id="e") as evaluator,
        bus.endpoint("agent", episode_id="e") as agent,
        anyio.create_task_group() as tg,
    ):
        recorder = Recorder(writer, run_id="r")
        recorder.open_episode("e")
        await tg.start(ToolService(tools, sandbox=sandbox, task=task, recorder=recorder).serve)
        await tg.start(
            EvaluatorService(evaluator, sandbox=sandbox, task=task, recorder=recorder).serve
        )
        yield ResearchEnv(agent, task.spec, timeout=30)
        tg.cancel_scope.cancel()


async def test_reset_gives_the_task_and_the_commands(env: ResearchEnv) -> None:
    observation, info = await env.reset()
    assert observation.startswith("Make answer.txt say 42.\n\nCOMMANDS:\n")
    assert "validate\n" in observation and "submit\n" in observation
    assert info == {"task_id": "toy", "score": []}


async def test_step_unpacks_like_gym_and_collects_scores(env: ResearchEnv) -> None:
    await env.reset()
    _observation, reward, terminated, truncated, info = await env.step("echo 3 > answer.txt")
    assert (reward, terminated, truncated, info["score"]) == (0.0, False, False, [])
    result = await env.step("validate")
    assert result.info["score"] == [{"Score": 3.0, "Twice": 6.0}]
    await env.step("echo 5 > answer.txt")
    final = await env.step("submit")
    assert final.terminated and not final.truncated
    assert final.info["score"] == [{"Score": 3.0, "Twice": 6.0}, {"Score": 5.0, "Twice": 10.0}]
    assert final.info["exit_status"] == "submitted"
    assert (env.steps, env.exit_status) == (4, "submitted")


async def test_step_info_carries_the_open_file_and_the_working_directory(
    env: ResearchEnv,
) -> None:
    await env.reset()
    first = await env.step("ls")
    workspace = first.info["cwd"]
    assert first.info == {"score": [], "open_file": None, "cwd": workspace}
    await env.step("mkdir -p sub && echo 1 > sub/a.txt && cd sub")
    opened = await env.step("open a.txt")
    assert opened.info["open_file"] == f"{workspace}/sub/a.txt"
    assert opened.info["cwd"] == f"{workspace}/sub"
    assert (await env.step("validate")).info["open_file"] == f"{workspace}/sub/a.txt"


async def test_order_is_enforced(env: ResearchEnv) -> None:
    with pytest.raises(RuntimeError, match=r"^Call reset\(\) before step\(\)\.$"):
        await env.step("ls")
    await env.reset()
    with pytest.raises(RuntimeError, match=r"^An environment runs one episode"):
        await env.reset()
    await env.step("submit")
    with pytest.raises(
        RuntimeError, match=r"^The episode is over \(submission_not_found \(submit\)\)\.$"
    ):
        await env.step("ls")


async def test_step_limit_truncates_with_an_autosubmission(env: ResearchEnv) -> None:
    limited: Env = StepLimit(env, max_steps=2)
    await limited.reset()
    first = await limited.step("echo 9 > answer.txt")
    assert not (first.terminated or first.truncated)
    last = await limited.step("ls")
    assert last.truncated and not last.terminated
    assert last.info["exit_status"] == "autosubmission (max_steps)"
    assert last.info["score"] == [{"Score": 9.0, "Twice": 18.0}]
    assert last.observation.startswith("answer.txt\n\n\n[Step limit reached.]\n")


def test_step_limit_needs_a_step() -> None:
    with pytest.raises(ValueError, match=r"^max_steps must be at least 1, not 0\.$"):
        StepLimit(None, max_steps=0)  # type: ignore[arg-type]
