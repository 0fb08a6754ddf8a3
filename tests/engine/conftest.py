"""The environment of one episode over a real bus, tool service, evaluator and local sandbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import pytest

from researchgym.engine import Evaluator, Recorder, ResearchEnv, ToolService, open_bus
from researchgym.sandboxes import open_local_sandbox
from researchgym.storage import NullSink, open_writer
from researchgym.tasks import Task, load_task
from tests.tasks.test_evaluator import SCORE_ANSWER
from tests.tasks.test_loader import make_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


@pytest.fixture
def task(tmp_path: Path) -> Task:
    root = make_task(tmp_path / "toy")
    (root / "eval" / "evaluate.py").write_text(SCORE_ANSWER)
    return load_task(root)


@pytest.fixture
async def env(task: Task) -> AsyncIterator[ResearchEnv]:
    async with (
        open_writer(NullSink()) as writer,
        await open_local_sandbox() as sandbox,
        open_bus(run_id="r") as bus,
        bus.endpoint("tools", episode_id="e") as tools,
        bus.endpoint("agent", episode_id="e") as agent,
        anyio.create_task_group() as tg,
    ):
        recorder = Recorder(writer, run_id="r")
        recorder.open_episode("e")
        evaluator = Evaluator(sandbox=sandbox, task=task, recorder=recorder, episode_id="e")
        service = ToolService(
            tools, sandbox=sandbox, task=task, recorder=recorder, evaluator=evaluator
        )
        await tg.start(service.serve)
        yield ResearchEnv(agent, task.spec, timeout=30, interrupt=service.interrupt)
        tg.cancel_scope.cancel()
