"""A tool context over a fresh local sandbox (and, for the Docker checks, a container)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from researchgym.sandboxes import (
    SandboxSpec,
    container_config,
    open_docker,
    open_local_sandbox,
    start_docker_sandbox,
)
from researchgym.tasks import Task, load_task
from tests.sandboxes.backends import TEST_LABELS
from tests.tasks.test_loader import make_task
from tests.tools.helpers import tool_context

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from researchgym.tools import ToolContext


@pytest.fixture
def task(tmp_path: Path) -> Task:
    return load_task(make_task(tmp_path / "toy", lambda s: s.update(timeouts={"command": 20})))


@pytest.fixture
async def context(task: Task, tmp_path: Path) -> AsyncIterator[ToolContext]:
    async with await open_local_sandbox(root=tmp_path) as sandbox:
        yield tool_context(sandbox, task)


@pytest.fixture
async def docker_context(task: Task, sandbox_image: str) -> AsyncIterator[ToolContext]:
    """A Docker sandbox's context: its shell runs as the unprivileged ``agent`` user.

    Tests that use it must pin ``anyio_backend`` to asyncio (aiodocker needs it).
    """
    config = container_config(SandboxSpec(memory="1g"), image=sandbox_image, labels=TEST_LABELS)
    async with (
        open_docker() as docker,
        await start_docker_sandbox(docker, config, memory="1g") as sandbox,
    ):
        yield tool_context(sandbox, task)
