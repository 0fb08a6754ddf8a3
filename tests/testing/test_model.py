"""check_model over the mock model, litellm against a local OpenAI-compatible server, the
example plug-in's model, and models that break the contract."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from rgym_example.model import EchoModel

from researchgym.testing import ConformanceError, check_model
from tests.openai_server import Reply

if TYPE_CHECKING:
    from researchgym.agents import CallHook, ModelCall, ModelSettings
    from tests.openai_server import OpenAIServer


@pytest.mark.parametrize("name", ["mock", "mock:demo", "echo/ls"])
async def test_offline_models_keep_the_contract(name: str) -> None:
    await check_model(name)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_litellm_keeps_the_contract(openai_server: OpenAIServer) -> None:
    openai_server.script(Reply("```\nls\n```"), Reply("```\nls\n```"))
    await check_model("openai/local-model", api_base=openai_server.url)


async def ignore(call: ModelCall) -> None:
    """A hook that does nothing."""


def secretive(
    name: str, *, settings: ModelSettings, hook: CallHook, api_base: str | None, api_key: str | None
) -> EchoModel:
    """A model that answers but never tells the hook."""
    return EchoModel(name, ignore)


def renamed(
    name: str, *, settings: ModelSettings, hook: CallHook, api_base: str | None, api_key: str | None
) -> EchoModel:
    """A model that calls itself by another name."""
    return EchoModel("echo/other", hook)


async def test_models_that_break_a_promise_are_named() -> None:
    with pytest.raises(ConformanceError, match="reaches the hook once"):
        await check_model("echo/ls", factory=secretive)
    with pytest.raises(ConformanceError, match="its name is the name it was opened with"):
        await check_model("echo/ls", factory=renamed)
