r"""Models without a network: scripted replies for tests and the offline run, and replays.

A ``MockModel`` answers from a list of replies, in order, or from a function of the
messages. A scripted item may be a ``ModelError`` instead of a text: it is raised, as a
real model's failure would be. Tokens are whitespace-separated words; a mock costs nothing
and is priced (its price, zero, is known). Like a real model, it hands every call to its
hook before it returns or raises.

>>> import anyio
>>> model = MockModel(["Looking first.\n```\nls\n```"])
>>> anyio.run(model.complete, [{"role": "user", "content": "Solve the task"}]).call.input_tokens
3

``open_model("mock:<script>")`` opens one of ``MOCK_SCRIPTS`` (``mock`` is ``mock:demo``).
Each is a function of the conversation, so it never runs out: its n-th reply answers a
conversation holding n - 1 of the model's replies, and the last repeats.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from researchgym.agents._retry import describe
from researchgym.agents.models import ModelCall, ModelReply
from researchgym.errors import (
    ContextWindowError,
    ModelApiError,
    ModelError,
    RepliesExhaustedError,
    UnknownModelError,
)

if TYPE_CHECKING:
    from researchgym.agents.models import CallHook

__all__ = [
    "MOCK_SCRIPTS",
    "MockModel",
    "ReplayModel",
    "Script",
    "is_mock",
    "mock_script",
    "open_mock",
]

Messages = list[dict[str, str]]
Script = Callable[[Messages], str]
"""A mock's replies as a function of the conversation; it may raise a ``ModelError``."""


def _reply(discussion: str, command: str) -> str:
    return f"{discussion}\n```\n{command}\n```"


def _in_turn(*replies: str) -> Script:
    """The n-th reply for a conversation holding n - 1 assistant messages; then the last."""

    def script(messages: Messages) -> str:
        said = sum(1 for m in messages if m.get("role") == "assistant")
        return replies[min(said, len(replies) - 1)]

    return script


def _failing(error: Callable[[], ModelError]) -> Script:
    """Every call fails with a fresh ``error()``."""

    def script(messages: Messages) -> str:
        raise error()

    return script


MOCK_SCRIPTS: dict[str, Script] = {
    "demo": _in_turn(
        _reply("First I will see what the workspace holds.", "ls"),
        _reply("Now I will score the baseline as it is.", "validate"),
        _reply("This is as far as a mock model goes; I submit it.", "submit"),
    ),
    "submit": _in_turn(_reply("I submit the baseline as it is.", "submit")),
    "malformed": _in_turn("I will not follow the reply format."),
    "context-full": _failing(lambda: ContextWindowError("mock:context-full", "scripted")),
    "api-down": _failing(lambda: ModelApiError("mock:api-down", 1, "scripted")),
}
"""The mock models ``open_model`` knows, by script: ``demo`` lists the workspace, validates
and submits; ``submit`` submits at once; ``malformed`` never writes a command;
``context-full`` and ``api-down`` fail as a full context window and a dead API do."""


def is_mock(name: str) -> bool:
    """True for ``mock`` and ``mock:<script>``."""
    return name == "mock" or name.startswith("mock:")


def mock_script(name: str) -> Script:
    """The script of ``mock`` or ``mock:<script>``.

    Raises:
        UnknownModelError: If there is no such script.
    """
    key = name.removeprefix("mock").removeprefix(":") or "demo"
    if key not in MOCK_SCRIPTS:
        known = ", ".join(f"mock:{k}" for k in MOCK_SCRIPTS)
        raise UnknownModelError(name, f"there is no such mock model. Choose one of: {known}")
    return MOCK_SCRIPTS[key]


def open_mock(name: str, *, hook: CallHook | None = None) -> MockModel:
    """Open ``mock`` or ``mock:<script>``.

    Raises:
        UnknownModelError: If there is no such script.
    """
    return MockModel(mock_script(name), name=name, hook=hook)


class MockModel:
    """A deterministic model: scripted replies, or a function of the conversation.

    Args:
        replies: Replies in order (a ``ModelError`` among them is raised at its turn), or a
            function of the messages.
        name: What it calls itself (``request_model`` and ``response_model``).
        hook: Receives every call.
    """

    def __init__(
        self,
        replies: Sequence[str | ModelError] | Script,
        *,
        name: str = "mock",
        hook: CallHook | None = None,
    ) -> None:
        self.name = name
        self._replies = replies if callable(replies) else list(replies)
        self._hook = hook
        self.calls = 0
        """Calls made so far."""

    _exhausted_hint = "Script more replies, or give a function of the messages."

    async def complete(self, messages: list[dict[str, str]]) -> ModelReply:
        """Answer with the next scripted reply (see ``Model.complete``).

        Raises:
            ModelError: The scripted one, if the script says to fail now.
            RepliesExhaustedError: If a list of replies is used up.
            Exception: Whatever the hook raises.
        """
        started_at = time.time_ns() // 1000
        self.calls += 1
        try:
            text = self._next(messages)
        except ModelError as e:
            await self._record(messages, None, started_at, error=describe(e))
            raise
        call = await self._record(messages, text, started_at)
        return ModelReply(text, call)

    def _next(self, messages: Messages) -> str:
        if callable(self._replies):
            return self._replies(messages)
        if self.calls > len(self._replies):
            raise RepliesExhaustedError(self.name, len(self._replies), self._exhausted_hint)
        reply = self._replies[self.calls - 1]
        if isinstance(reply, ModelError):
            raise reply
        return reply

    async def _record(
        self, messages: Messages, text: str | None, started_at: int, *, error: str | None = None
    ) -> ModelCall:
        call = ModelCall(
            request_model=self.name,
            response_model=None if text is None else self.name,
            input_tokens=sum(_words(m.get("content", "")) for m in messages),
            output_tokens=_words(text or ""),
            cost_usd=0.0,
            priced=True,
            latency_s=0.0,
            retries=0,
            finish_reason=None if text is None else "stop",
            error=error,
            started_at=started_at,
            response=text,
        )
        if self._hook is not None:
            await self._hook(call)
        return call


def _words(text: str) -> int:
    return len(text.split())


class ReplayModel(MockModel):
    """A stored episode's replies (``llm_calls.response``), in order; then an error.

    Args:
        replies: The replies, oldest first.
        hook: Receives every call.
    """

    def __init__(self, replies: Sequence[str], *, hook: CallHook | None = None) -> None:
        super().__init__(replies, name="replay", hook=hook)

    _exhausted_hint = (
        "The agent asked for more replies than the stored episode had: the replay took "
        "another course than the original (a different observation, say)."
    )
