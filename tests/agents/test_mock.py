"""Mock and replay models: deterministic, offline, and recorded like real ones."""

from __future__ import annotations

import re

import pytest

from researchgym.agents.mock import MOCK_SCRIPTS, MockModel, ReplayModel
from researchgym.agents.models import Model, ModelCall, ModelSettings, check_model, open_model
from researchgym.agents.reply import FormatError, parse_reply
from researchgym.errors import (
    ContextWindowError,
    ModelApiError,
    RepliesExhaustedError,
    UnknownModelError,
)

ASK = [
    {"role": "system", "content": "You are an agent."},
    {"role": "user", "content": "Solve the task, please"},
]


class Hook:
    def __init__(self) -> None:
        self.calls: list[ModelCall] = []

    async def __call__(self, call: ModelCall) -> None:
        self.calls.append(call)


def after(*replies: str) -> list[dict[str, str]]:
    """A conversation in which the model already said ``replies``."""
    said = [{"role": "assistant", "content": r} for r in replies]
    return ASK + [m for r in said for m in (r, {"role": "user", "content": "output"})]


async def test_scripted_replies_in_order_then_an_error() -> None:
    hook = Hook()
    model = MockModel(["one two", "three"], hook=hook)
    assert isinstance(model, Model)
    assert [(await model.complete(ASK)).text for _ in range(2)] == ["one two", "three"]
    with pytest.raises(RepliesExhaustedError) as caught:
        await model.complete(ASK)
    assert str(caught.value) == (
        "The model 'mock' has no reply left: all 2 were used. Script more replies, or give a "
        "function of the messages."
    )
    assert len(hook.calls) == 3
    assert hook.calls[2].error is not None
    assert hook.calls[2].error.startswith("RepliesExhaustedError: The model 'mock'")


async def test_a_call_counts_words_as_tokens_and_costs_nothing() -> None:
    hook = Hook()
    reply = await MockModel(["I look.\n```\nls -la\n```"], hook=hook).complete(ASK)
    call = reply.call
    assert hook.calls == [call]
    assert call._replace(started_at=0) == ModelCall(
        request_model="mock",
        response_model="mock",
        input_tokens=8,  # "You are an agent." + "Solve the task, please"
        output_tokens=6,  # I, look., ```, ls, -la, ```
        cost_usd=0.0,
        priced=True,
        latency_s=0.0,
        retries=0,
        finish_reason="stop",
        error=None,
        started_at=0,
        response=reply.text,
    )
    assert call.started_at > 0


async def test_a_scripted_error_is_raised_and_recorded() -> None:
    hook = Hook()
    model = MockModel(["fine", ContextWindowError("mock", "too long")], hook=hook)
    await model.complete(ASK)
    with pytest.raises(ContextWindowError):
        await model.complete(ASK)
    assert [c.error is None for c in hook.calls] == [True, False]
    assert hook.calls[1].response is None


async def test_replies_as_a_function_of_the_messages() -> None:
    model = MockModel(lambda messages: messages[-1]["content"].upper(), name="mock:shout")
    reply = await model.complete(ASK)
    assert (reply.text, reply.call.request_model) == ("SOLVE THE TASK, PLEASE", "mock:shout")


async def test_the_demo_lists_validates_and_submits_then_repeats() -> None:
    hook = Hook()
    model = open_model("mock", settings=ModelSettings(), hook=hook)
    replies: list[str] = []
    for _ in range(4):
        replies.append((await model.complete(after(*replies))).text)
    assert [parse_reply(r).command for r in replies] == ["ls", "validate", "submit", "submit"]
    assert len(hook.calls) == 4


@pytest.mark.parametrize("script", ["demo", "submit"])
async def test_offline_scripts_follow_the_reply_format(script: str) -> None:
    reply = await open_model(f"mock:{script}", settings=ModelSettings(), hook=Hook()).complete(ASK)
    parse_reply(reply.text)


async def test_scripts_that_fail() -> None:
    settings = ModelSettings()
    malformed = await open_model("mock:malformed", settings=settings, hook=Hook()).complete(ASK)
    with pytest.raises(FormatError):
        parse_reply(malformed.text)
    with pytest.raises(ContextWindowError):
        await open_model("mock:context-full", settings=settings, hook=Hook()).complete(ASK)
    with pytest.raises(ModelApiError):
        await open_model("mock:api-down", settings=settings, hook=Hook()).complete(ASK)


async def test_an_unknown_script_is_an_unknown_model() -> None:
    message = re.escape(
        "Unknown model 'mock:nope': there is no such mock model. Choose one of: "
        + ", ".join(f"mock:{k}" for k in MOCK_SCRIPTS)
    )
    with pytest.raises(UnknownModelError, match=f"^{message}$"):
        open_model("mock:nope", settings=ModelSettings(), hook=Hook())
    with pytest.raises(UnknownModelError, match=f"^{message}$"):
        await check_model("mock:nope")


async def test_replay_plays_the_stored_replies_then_stops() -> None:
    hook = Hook()
    model = open_model("replay", settings=ModelSettings(), hook=hook, replies=["a", "b c"])
    assert isinstance(model, ReplayModel)
    assert [(await model.complete(ASK)).text for _ in range(2)] == ["a", "b c"]
    with pytest.raises(RepliesExhaustedError) as caught:
        await model.complete(ASK)
    assert str(caught.value) == (
        "The model 'replay' has no reply left: all 2 were used. The agent asked for more "
        "replies than the stored episode had: the replay took another course than the "
        "original (a different observation, say)."
    )
    assert [c.output_tokens for c in hook.calls] == [1, 2, 0]


def test_replay_needs_its_replies() -> None:
    with pytest.raises(ValueError, match="needs the stored replies"):
        open_model("replay", settings=ModelSettings(), hook=Hook())
