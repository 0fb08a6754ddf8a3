"""check_agent over every built-in agent kind and the example plug-in's, and over agent
kinds that break the contract."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from researchgym.agents import AGENTS
from researchgym.plugins import BUILT_IN as BUILT_IN_ORIGIN
from researchgym.testing import ConformanceError, check_agent

if TYPE_CHECKING:
    from researchgym.agents import AgentContext, Observation

BUILT_IN: dict[str, dict[str, Any]] = {
    "baseline": {},
    "scripted": {"commands": ["ls", "validate"]},
    "replay": {"actions": ["cat strategy.py"], "ending": "exit_cost"},
    "llm": {"model": "mock"},
    "planner-executor": {"planner": {"model": "mock"}, "executor": {"model": "mock"}},
}


def test_every_built_in_agent_kind_is_checked() -> None:
    assert set(BUILT_IN) == {e.name for e in AGENTS.entries() if e.origin == BUILT_IN_ORIGIN}


@pytest.mark.parametrize(("kind", "params"), list(BUILT_IN.items()), ids=list(BUILT_IN))
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_built_in_agent_kinds_keep_the_contract(kind: str, params: dict[str, Any]) -> None:
    await check_agent(kind, params)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_plug_in_s_agent_keeps_it_on_its_own_task() -> None:
    await check_agent("ask-model", {"model": "echo/echo 41 > answer.txt"}, task="example/guess")


class _Idle:
    """Never acts: its act raises at once."""

    async def act(self, observation: Observation) -> str:
        raise ValueError("nothing to say")


def idle(context: AgentContext) -> _Idle:
    return _Idle()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_an_agent_that_crashes_is_named() -> None:
    with pytest.raises(ConformanceError, match="without crashing") as crashed:
        await check_agent("tests.testing.test_agent:idle")
    assert "nothing to say" in str(crashed.value)
