"""``check_model``: whether a model keeps the ``Model`` contract.

What the agents and the engine rely on: ``complete`` answers a conversation with text, and
hands the call's record to the hook before it returns (the record the reply carries), and
what the hook raises comes out of ``complete`` (that is how a budget stops an agent).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from researchgym.agents import ModelCall, ModelSettings, open_model
from researchgym.testing.base import expect

if TYPE_CHECKING:
    from researchgym.agents import CallHook, Model, ModelFactory

__all__ = ["check_model"]

_CONVERSATION = [
    {"role": "system", "content": "You are checked. Answer with one command in a code block."},
    {"role": "user", "content": "The workspace holds train.py. What next?"},
]


class _Stop(Exception):
    """What the checking hook raises on its second model."""


async def check_model(
    name: str,
    *,
    factory: ModelFactory | None = None,
    api_base: str | None = None,
    settings: ModelSettings | None = None,
) -> None:
    """Open ``name`` twice, call it, and check the contract.

    It sends two requests, so a real model costs a little.

    Args:
        name: A model as ``open_model`` takes it (``mock``, a plug-in's, a litellm string).
        factory: Open it with this factory (a plug-in's, before it is installed) instead of
            as ``open_model`` would.
        api_base: An OpenAI-compatible server.
        settings: How to call it (default: ``ModelSettings()``).

    Raises:
        ConformanceError: Naming the first promise the model breaks.
        ModelError, ConfigError: If the model cannot be called at all.
    """
    component = f"model '{name}'"
    calls: list[ModelCall] = []

    async def record(call: ModelCall) -> None:
        calls.append(call)

    async def stop(call: ModelCall) -> None:
        raise _Stop

    settings = settings or ModelSettings()

    def opened(hook: CallHook) -> Model:
        if factory is not None:
            return factory(name, settings=settings, hook=hook, api_base=api_base, api_key=None)
        return open_model(name, settings=settings, hook=hook, api_base=api_base)

    model = opened(record)
    expect(
        model.name == name, component, f"its name is the name it was opened with ({model.name!r})"
    )
    before = time.time()
    reply = await model.complete(_CONVERSATION)
    expect(isinstance(reply.text, str), component, "a reply's text is a str")
    expect(len(calls) == 1, component, f"each call reaches the hook once ({len(calls)} times)")
    _check_call(calls[0], reply.call, before, component)
    try:
        await opened(stop).complete(_CONVERSATION)
    except _Stop:
        return
    expect(False, component, "what the hook raises comes out of complete")


def _check_call(call: ModelCall, carried: ModelCall, before: float, component: str) -> None:
    expect(call == carried, component, "the reply carries the record the hook received")
    expect(call.error is None, component, f"a successful call records no error ({call.error!r})")
    counts = (call.input_tokens, call.output_tokens, call.cost_usd, call.latency_s, call.retries)
    expect(min(counts) >= 0, component, f"tokens, cost, latency and retries are >= 0 {counts}")
    started = call.started_at / 1_000_000
    expect(
        before - 5 <= started <= time.time() + 5,
        component,
        f"started_at is the call's start in microseconds since the epoch ({call.started_at})",
    )
