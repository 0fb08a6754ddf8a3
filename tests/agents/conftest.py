"""Fixtures of the agents' tests: an episode's ``AgentContext`` without an engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from researchgym.agents import AgentContext, ModelCall, ModelSettings, open_model
from researchgym.tasks import resolve_task
from researchgym.tools import command_docs

if TYPE_CHECKING:
    from researchgym.agents import Channel, Model


class Lent:
    """What an engine would lend an agent, keeping every model call it is handed."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ModelCall]] = []

    def open_model(self, name: str, *, member: str = "agent", api_base: str | None = None) -> Model:
        async def hook(call: ModelCall) -> None:
            self.calls.append((member, call))

        return open_model(name, settings=ModelSettings(), hook=hook, api_base=api_base)

    def open_channel(self, name: str) -> Channel:
        raise AssertionError(f"no bus here: {name} asked for a channel")

    def start_soon(self, member: Any) -> None:
        raise AssertionError("no task group here")

    def context(self) -> AgentContext:
        return AgentContext(
            task=resolve_task("prisoners_dilemma").spec,
            command_docs=command_docs(),
            max_steps=10,
            open_model=self.open_model,
            open_channel=self.open_channel,
            start_soon=self.start_soon,
        )


@pytest.fixture
def lent() -> Lent:
    return Lent()


@pytest.fixture
def context(lent: Lent) -> AgentContext:
    return lent.context()
