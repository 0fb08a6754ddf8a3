"""Every sandbox backend behind one fixture, so that one suite checks them all alike.

A test that asks for ``any_sandbox`` runs three times: a local sandbox under asyncio and
under trio, and a Docker sandbox (asyncio only: aiodocker needs it) of the image that
``sandbox_image`` (conftest.py) builds. Each gets a fresh sandbox whose environment has
``GREETING=hi``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from researchgym.sandboxes import (
    Sandbox,
    SandboxSpec,
    container_config,
    open_docker,
    open_local_sandbox,
    start_docker_sandbox,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

KINDS = [
    pytest.param("asyncio", "local", id="local-asyncio"),
    pytest.param("trio", "local", id="local-trio"),
    pytest.param("asyncio", "docker", id="docker"),
]
TEST_LABELS = {"researchgym.managed": "1", "researchgym.run": "tests"}


def parametrize_backends(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses ``any_sandbox`` once per backend (``pytest_generate_tests``)."""
    if "any_sandbox" in metafunc.fixturenames:
        metafunc.parametrize(("anyio_backend", "sandbox_kind"), KINDS)


@pytest.fixture
async def any_sandbox(
    sandbox_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Sandbox]:
    if sandbox_kind == "local":
        async with await open_local_sandbox(root=tmp_path, env={"GREETING": "hi"}) as local:
            yield local
        return
    image: str = request.getfixturevalue("sandbox_image")
    config = container_config(SandboxSpec(memory="1g"), image=image, labels=TEST_LABELS)
    config["Env"] = ["GREETING=hi"]
    async with (
        open_docker() as docker,
        await start_docker_sandbox(docker, config, memory="1g") as docker_sandbox,
    ):
        yield docker_sandbox
