"""The Model contract: messages in, one reply out, and a record of every call.

```
open_model(name, settings=..., hook=...)   ->  Model
    "mock", "mock:<script>"                    MockModel     (mock.py: offline, no network)
    "replay" (with replies=[...])              ReplayModel   (mock.py: a stored episode's replies)
    "<plug-in>/...", "<plug-in>:..."           what the plug-in's factory opens (MODELS)
    anything else: a litellm model string      LiteLLMModel  (_litellm.py: any provider)
```

``MODELS`` holds the model providers by the part of a model's name before its first ``/``
or ``:``; plug-ins add theirs by entry points of the group ``researchgym.models``, each a
``ModelFactory``. ``researchgym.testing.check_model`` says whether a model keeps the
contract.

A real model is any model litellm knows by its string (``openai/gpt-4o``,
``anthropic/claude-sonnet-4-5``, ``ollama/llama3``), or any OpenAI-compatible server
through ``api_base`` (``openai/<its model>`` with ``api_base="http://127.0.0.1:8000/v1"``).
litellm is imported at the first call of a real model, in a worker thread, never at package
import: it takes seconds.

Every call, successful or failed, is handed to the ``hook`` as a ``ModelCall`` before
``complete`` returns or raises: the engine stores it in ``llm_calls`` and charges it to the
episode's budget, and may raise from the hook to stop the agent.

What ``complete`` does with what the server sends:

- A completion is returned as the model wrote it, whatever its content: empty (a null
  content is ``""``), very long, or without a command. Judging it is the agent's work (the
  LLM agent's parser makes such a reply a format error and asks again). Only what no UTF-8
  text can hold is changed: a lone surrogate (JSON may carry ``"\ud800"``) comes back as
  the six characters of its escape, ``\ud800``; NUL and the rest come back as they are.
- A rate limit (429), a timeout, a refused or dropped connection, a server error (5xx), or
  an answer that is not a completion at all (not JSON, not UTF-8, no choices, a reply of
  more than 4,000,000 characters, more than any model writes) is retried with exponential
  backoff and jitter, honouring Retry-After, up to ``ModelSettings.max_retries`` times. Then
  ``MalformedReplyError`` if the last answer was not a completion, else ``ModelApiError``.
- A request cut by ``ModelSettings.timeout`` is a failed request like the others; a call
  cancelled from outside (the episode's wall time ran out) is handed to the hook all the
  same, as a failed call, before the cancellation goes on.
- Errors that retrying cannot fix are raised at once: ``ContextWindowError``,
  ``UnknownModelError`` (404, no such provider), ``MissingApiKeyError``,
  ``ApiKeyRejectedError`` (401, 403), and ``ModelApiError`` for the rest (a bad request, an
  exhausted quota or budget, a conversation whose text UTF-8 cannot encode).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, runtime_checkable

import anyio

# Re-exported: what a caller of ``complete`` catches.
from researchgym.errors import (
    ContextWindowError,
    MalformedReplyError,
    ModelApiError,
    ModelError,
)
from researchgym.plugins import Registry

__all__ = [
    "MODELS",
    "CallHook",
    "ContextWindowError",
    "MalformedReplyError",
    "Model",
    "ModelApiError",
    "ModelCall",
    "ModelError",
    "ModelFactory",
    "ModelReply",
    "ModelSettings",
    "check_model",
    "open_model",
]


class ModelCall(NamedTuple):
    """One model call, as ``llm_calls`` stores it (``storage/schema.py`` explains each field)."""

    request_model: str
    response_model: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    priced: bool
    latency_s: float
    retries: int
    finish_reason: str | None
    error: str | None
    started_at: int
    """Microseconds since the epoch (UTC)."""
    response: str | None


class ModelReply(NamedTuple):
    """What a model answered, and the record of the call."""

    text: str
    call: ModelCall


CallHook = Callable[[ModelCall], Awaitable[None]]
"""Receives every call, successful or failed, before ``complete`` returns or raises. It may
raise (a budget that ran out, say): its exception then comes out of ``complete``."""


@dataclass(frozen=True)
class ModelSettings:
    """How models are called (the run configuration's ``models``)."""

    timeout: float = 300.0
    """Seconds one request may take."""
    max_retries: int = 5
    """Retries of a request that failed for a reason retrying can fix (see the module)."""
    backoff_base: float = 1.0
    """The longest wait before the first retry, in seconds; it doubles at each retry. The
    wait is drawn between half of it and all of it (jitter)."""
    backoff_max: float = 60.0
    """The longest wait before a retry, a server's Retry-After included."""
    concurrency: Mapping[str, int] = field(default_factory=dict)
    """Requests in flight at once per provider, as litellm names providers (``{"openai":
    8}``), shared by every model of the provider in the process; ``default`` for the
    providers not named; no limit where neither is given. A call holds its provider's slot
    from its first request to its end, retries and their waits included."""
    max_output_tokens: int | None = None
    """The longest completion to ask for (the provider's default if None)."""
    temperature: float | None = None
    """Sampling temperature (the provider's default if None)."""


@runtime_checkable
class Model(Protocol):
    """A language model that answers a conversation with one reply."""

    name: str
    """The model string it was opened with (``openai/gpt-4o``, ``mock``)."""

    async def complete(self, messages: list[dict[str, str]]) -> ModelReply:
        """Answer a conversation; the hook receives the call first, successful or not.

        Args:
            messages: OpenAI-style messages (``role``: system, user or assistant;
                ``content``), oldest first.

        Returns:
            The reply's text (possibly empty: see the module) and the call's record.

        Raises:
            ContextWindowError: The conversation is over the model's context window.
            MalformedReplyError: The server kept answering with something that is not a
                completion (a ``ModelApiError``).
            ModelApiError: The API kept failing after every retry, or failed in a way
                retrying cannot fix.
            UnknownModelError: No provider knows the model, or the provider says there is
                no such model.
            MissingApiKeyError: The provider's API key is not set.
            ApiKeyRejectedError: The provider refused the key.
            RepliesExhaustedError: A scripted or replayed model has no reply left.
            Exception: Whatever the hook raises.
        """
        ...


class ModelFactory(Protocol):
    """Opens a model of a provider by its whole name (``echo/small``); a model plug-in."""

    def __call__(
        self,
        name: str,
        *,
        settings: ModelSettings,
        hook: CallHook,
        api_base: str | None,
        api_key: str | None,
    ) -> Model:
        """Open the model; contact nothing before its first call.

        Raises:
            UnknownModelError: If the provider has no model of that name.
        """
        ...


def _open_mock(
    name: str,
    *,
    settings: ModelSettings,
    hook: CallHook,
    api_base: str | None,
    api_key: str | None,
) -> Model:
    from researchgym.agents import mock

    return mock.open_mock(name, hook=hook)


MODELS = Registry[ModelFactory](
    "model provider",
    "researchgym.models",
    accepts=callable,
    expected="a callable (name, *, settings, hook, api_base, api_key) -> Model",
)
"""Model providers by name: built in (mock), and from plug-ins; litellm serves the rest."""
MODELS.add("mock", _open_mock)


def provider_of(name: str) -> str:
    """The part of a model's name that names its provider: before its first ``/`` or ``:``."""
    return re.split(r"[/:]", name, maxsplit=1)[0]


def open_model(
    name: str,
    *,
    settings: ModelSettings,
    hook: CallHook,
    api_base: str | None = None,
    api_key: str | None = None,
    replies: Sequence[str] | None = None,
) -> Model:
    """Open a model by its name. Nothing is imported or contacted until its first call.

    Args:
        name: ``mock`` or ``mock:<script>`` (see ``MOCK_SCRIPTS``), ``replay``, or a litellm
            model string.
        settings: How to call it (real models only).
        hook: Receives every call.
        api_base: An OpenAI-compatible server to send requests to (real models only).
        api_key: The API key (default: the provider's environment variable; none needed
            with an ``api_base``).
        replies: The stored replies that ``replay`` plays back.

    Raises:
        UnknownModelError: For ``mock:<script>`` with no such script.
        ValueError: For ``replay`` without replies.
    """
    # Imported here: each is a module of its own, and the litellm one is asyncio-only.
    from researchgym.agents import _litellm, mock

    if name == "replay":
        if replies is None:
            raise ValueError("open_model('replay') needs the stored replies: replies=[...]")
        return mock.ReplayModel(replies, hook=hook)
    if provider_of(name) in MODELS.builtin_names():
        factory = MODELS.get(provider_of(name))
        return factory(name, settings=settings, hook=hook, api_base=api_base, api_key=api_key)

    def open_with(factory: ModelFactory | None) -> Model:
        if factory is not None:
            return factory(name, settings=settings, hook=hook, api_base=api_base, api_key=api_key)
        return _litellm.LiteLLMModel(
            name, settings=settings, hook=hook, api_base=api_base, api_key=api_key
        )

    return _Routed(name, open_with)


class _Routed:
    """A model whose provider is settled at its first call, in a worker thread.

    Finding the installed plug-ins reads files; the event loop must not wait for them. The
    provider is a plug-in's where one claims the name, else litellm.
    """

    def __init__(self, name: str, open_with: Callable[[ModelFactory | None], Model]) -> None:
        self.name = name
        self._open_with = open_with
        self._model: Model | None = None

    async def complete(self, messages: list[dict[str, str]]) -> ModelReply:
        """Answer through the provider's model (see ``Model.complete``)."""
        if self._model is None:
            factory = await anyio.to_thread.run_sync(_plugin_factory, provider_of(self.name))
            self._model = self._model or self._open_with(factory)
        return await self._model.complete(messages)


def _plugin_factory(provider: str) -> ModelFactory | None:
    return MODELS.get(provider) if provider in MODELS else None


async def check_model(name: str, *, api_base: str | None = None) -> None:
    """Check, before a run, that a model can be called: it exists and its key is set.

    It contacts no server. A real model's check imports litellm (in a worker thread), a
    plug-in's imports the plug-in.

    Args:
        name: As for ``open_model``.
        api_base: As for ``open_model``: with one, no API key is needed.

    Raises:
        UnknownModelError: If litellm knows no provider for the model (or no mock script has
            the name), naming the model and what would work.
        MissingApiKeyError: If the provider's API key is not set, naming the variable.
        PluginError: If the model's provider is a plug-in that cannot be used.
    """
    from researchgym.agents import _litellm, mock

    if name == "replay":
        return
    if mock.is_mock(name):
        mock.mock_script(name)
        return
    provider = provider_of(name)
    if await anyio.to_thread.run_sync(_plugin_factory, provider) is None:
        await _litellm.check(name, api_base=api_base)
