"""The model provider ``echo``: ``echo/<command>`` answers ``<command>``, then ``submit``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from researchgym.agents import ModelCall, ModelReply

if TYPE_CHECKING:
    from researchgym.agents import CallHook, ModelSettings


class EchoModel:
    """Answers its command first and ``submit`` from then on; every call goes to the hook."""

    def __init__(self, name: str, hook: CallHook) -> None:
        self.name = name
        self._command = name.partition("/")[2] or "ls"
        self._hook = hook
        self._calls = 0

    async def complete(self, messages: list[dict[str, str]]) -> ModelReply:
        """The next answer, recorded through the hook first."""
        started = time.time_ns() // 1000
        text = self._command if self._calls == 0 else "submit"
        self._calls += 1
        tokens_in = sum(len(m["content"].split()) for m in messages)
        call = ModelCall(
            request_model=self.name,
            response_model=self.name,
            input_tokens=tokens_in,
            output_tokens=len(text.split()),
            cost_usd=0.0,
            priced=True,
            latency_s=0.0,
            retries=0,
            finish_reason="stop",
            error=None,
            started_at=started,
            response=text,
        )
        await self._hook(call)
        return ModelReply(text, call)


def open_echo(
    name: str,
    *,
    settings: ModelSettings,
    hook: CallHook,
    api_base: str | None,
    api_key: str | None,
) -> EchoModel:
    """Open ``echo/<command>`` (nothing to contact)."""
    return EchoModel(name, hook)
