"""check_env over the public environment on every sandbox backend, with its limits, and
over an environment that breaks the contract."""

from __future__ import annotations

from typing import Any

import pytest
from typing_extensions import override

import researchgym
from researchgym.engine import StepResult, Wrapper
from researchgym.testing import ConformanceError, check_env


@pytest.mark.parametrize("sandbox", ["local", "counted-local"])
async def test_the_environment_keeps_the_contract(sandbox: str) -> None:
    async with researchgym.open_env("prisoners_dilemma", sandbox=sandbox) as env:
        await check_env(env)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_environment_keeps_it_in_docker(sandbox_image: str) -> None:
    limits = {"max_steps": 5, "max_wall_s": 600}
    async with researchgym.open_env("example/guess", sandbox="docker", limits=limits) as env:
        await check_env(env)


class _Generous(Wrapper):
    """Rewards every step with infinity."""

    @override
    async def step(self, action: str) -> StepResult:
        result = await super().step(action)
        return result._replace(reward=float("inf"))


class _Forgetful(Wrapper):
    """Forgets the scores in the first observation's info."""

    @override
    async def reset(self) -> tuple[str, dict[str, Any]]:
        observation, _ = await super().reset()
        return observation, {}


async def test_an_environment_that_breaks_a_promise_is_named() -> None:
    async with researchgym.open_env("prisoners_dilemma", sandbox="local") as env:
        with pytest.raises(ConformanceError, match="finite float"):
            await check_env(_Generous(env))
    async with researchgym.open_env("prisoners_dilemma", sandbox="local") as env:
        with pytest.raises(ConformanceError, match="empty score list"):
            await check_env(_Forgetful(env))
