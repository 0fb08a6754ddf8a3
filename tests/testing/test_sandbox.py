"""check_sandbox over every sandbox backend, the example plug-in's included, and over one
that breaks the contract."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import pytest

from researchgym.sandboxes import LocalSandbox, LocalSandboxes, SandboxProvider
from researchgym.testing import ConformanceError, check_sandbox

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from researchgym.sandboxes import ProviderOptions, SandboxSpec


@pytest.mark.parametrize("backend", ["local", "counted-local"])
async def test_local_backends_keep_the_contract(backend: str) -> None:
    await check_sandbox(backend)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_docker_keeps_the_contract(sandbox_image: str) -> None:
    await check_sandbox("docker")


class _Forgetful(LocalSandboxes):
    """Local sandboxes whose file API loses the last byte of what it reads."""

    async def open(self, spec: SandboxSpec, *, name: str | None = None) -> LocalSandbox:
        sandbox = await super().open(spec, name=name)
        read = sandbox.read_file

        async def forgetful(path: str, *, limit: int = 1 << 20) -> bytes:
            return (await read(path, limit=limit))[:-1]

        sandbox.read_file = forgetful  # type: ignore[method-assign]
        return sandbox


@asynccontextmanager
async def forgetful(options: ProviderOptions) -> AsyncIterator[SandboxProvider]:
    async with _Forgetful() as provider:
        yield provider


async def test_a_backend_that_breaks_a_promise_is_named() -> None:
    with pytest.raises(ConformanceError, match="read back byte for byte") as broken:
        await check_sandbox(forgetful)
    assert broken.value.component == "sandbox provider 'forgetful'"
