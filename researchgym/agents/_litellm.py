"""Real models, through litellm: any provider, or an OpenAI-compatible server by api_base.

asyncio-only, as litellm is. litellm is imported at the first call, in a worker thread: the
import takes seconds and blocks. litellm's own retries are off (``num_retries=0``): each
request is retried here (``_retry``), so that every retry is counted in ``llm_calls``.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple
from weakref import WeakKeyDictionary

import anyio

from researchgym.agents._retry import (
    Failure,
    backoff,
    classify,
    describe,
    escape_surrogates,
    timed_out,
)
from researchgym.agents.models import ModelCall, ModelReply
from researchgym.errors import MissingApiKeyError, ResearchGymError, UnknownModelError

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from researchgym.agents.models import CallHook, ModelSettings

__all__ = ["MAX_RESPONSE_CHARS", "LiteLLMModel", "check", "load"]

_NO_KEY = "no-key"
"""The key sent to an api_base server when none is set: the OpenAI client refuses to send a
request without one, and a local server ignores it."""

_GRACE_S = 5.0
"""Seconds past the timeout before we cut a request ourselves: litellm's timeout is per read,
so a server that trickles its answer could otherwise hold a call for ever."""

MAX_RESPONSE_CHARS = 4_000_000
"""A reply longer than this is not a completion but a server gone wrong: no model writes
so much (128,000 tokens of output are some 500,000 characters). It is refused, and retried
as an answer that is not a completion is. litellm, the OpenAI client and httpx read a
response whole, with no limit of their own: the limit keeps what a call leaves behind (the
agent's conversation, the stored call) bounded; the timeout bounds the read."""

_LOCAL_PROVIDERS = frozenset({"ollama", "ollama_chat"})
"""Providers whose server has a default address (localhost): litellm asks for their
*_API_BASE variable all the same."""

UNKNOWN_PROVIDER = (
    "litellm knows no provider for it. Write provider/model, like openai/gpt-4o, "
    "anthropic/claude-sonnet-4-5 or ollama/llama3; for an OpenAI-compatible server, "
    "openai/<its model name> with an api_base; or mock, to run offline"
)

_litellm: Any = None


async def load() -> Any:
    """Return the litellm module, importing it in a worker thread the first time."""
    global _litellm
    if _litellm is None:
        _litellm = await anyio.to_thread.run_sync(_import)
    return _litellm


def _import() -> Any:
    # Without it, litellm downloads its price map from GitHub at import.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    module: Any = importlib.import_module("litellm")
    module.suppress_debug_info = True  # else it prints a "Give Feedback" banner at each error
    return module


class _Route(NamedTuple):
    """What a model string resolves to, once per model."""

    provider: str
    api_key: str | None
    priced: bool


def _route(lit: Any, model: str, api_base: str | None, api_key: str | None) -> _Route:
    """Resolve a model: its provider, the key to send, whether litellm prices it (blocking)."""
    try:
        provider = str(lit.get_llm_provider(model, api_base=api_base)[1])
    except Exception as e:  # litellm raises a BadRequestError, or worse
        raise UnknownModelError(model, UNKNOWN_PROVIDER) from e
    if api_key is None:
        missing = _missing_keys(lit, model, provider, api_base)
        if missing and api_base is None:
            raise MissingApiKeyError(model, missing)
        api_key = _NO_KEY if missing else None
    return _Route(provider, api_key, _priced(lit, model))


def _missing_keys(lit: Any, model: str, provider: str, api_base: str | None) -> list[str]:
    found = lit.validate_environment(model, api_base=api_base)
    missing = [str(k) for k in found.get("missing_keys", [])]
    if provider in _LOCAL_PROVIDERS:
        missing = [k for k in missing if not k.endswith("_API_BASE")]
    return missing


def _priced(lit: Any, model: str) -> bool:
    try:
        lit.cost_per_token(model=model, prompt_tokens=1, completion_tokens=1)
    except Exception:  # litellm raises when its price map lacks the model
        return False
    return True


async def check(model: str, *, api_base: str | None = None) -> None:
    """Check that litellm knows the model and that its key is set (see ``check_model``)."""
    lit = await load()
    await anyio.to_thread.run_sync(_route, lit, model, api_base, None)


_LIMITERS: WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[str, int], anyio.CapacityLimiter]
]
_LIMITERS = WeakKeyDictionary()
"""Per event loop (a limiter belongs to one), per provider and limit: the shared slots."""


def _slot(provider: str, settings: ModelSettings) -> AbstractAsyncContextManager[Any]:
    limits = settings.concurrency
    total = limits.get(provider, limits.get("default"))
    if total is None:
        return nullcontext()
    limiters = _LIMITERS.setdefault(asyncio.get_running_loop(), {})
    return limiters.setdefault((provider, total), anyio.CapacityLimiter(total))


class _Answer(NamedTuple):
    """A completion, read."""

    text: str
    response_model: str | None
    input_tokens: int
    output_tokens: int
    finish_reason: str | None
    cost_usd: float | None
    """None where litellm has no price for the model."""


class _Ended(NamedTuple):
    """How a call ended: its record, and the answer or the last failure."""

    call: ModelCall
    outcome: _Answer | Failure


@dataclass
class _Tally:
    """A call in progress: when its first request went, and its retries so far."""

    started_at: int = 0
    """Microseconds since the epoch; 0 until the first request."""
    clock: float = 0.0
    retries: int = 0

    def start(self) -> None:
        self.started_at, self.clock = time.time_ns() // 1000, time.monotonic()

    @property
    def latency(self) -> float:
        return time.monotonic() - self.clock


_CANCELLED = "Cancelled: the call was stopped before it ended (its episode ended, or the run)"
"""``llm_calls.error`` of a call cancelled in flight."""


class LiteLLMModel:
    """A model called through litellm (``open_model`` opens one; see ``Model``).

    Args:
        name: A litellm model string (``openai/gpt-4o``).
        settings: Timeouts, retries, backoff, concurrency, sampling.
        hook: Receives every call.
        api_base: An OpenAI-compatible server to send requests to.
        api_key: The API key (default: the provider's environment variable).
    """

    def __init__(
        self,
        name: str,
        *,
        settings: ModelSettings,
        hook: CallHook | None = None,
        api_base: str | None = None,
        api_key: str | None = None,
    ) -> None:
        self.name = name
        self._settings = settings
        self._hook = hook
        self._api_base = api_base
        self._api_key = api_key
        self._route: _Route | None = None

    async def complete(self, messages: list[dict[str, str]]) -> ModelReply:
        """Answer a conversation (see ``Model.complete``, which lists what it raises)."""
        lit = await load()
        route = await self._resolve(lit)
        tally = _Tally()
        try:
            async with _slot(route.provider, self._settings):
                ended = await self._call(lit, route, messages, tally)
        except anyio.get_cancelled_exc_class():
            if tally.started_at:  # requests went out: a call, and the engine must see it
                call = self._failed(
                    _CANCELLED, tally.started_at, tally.latency, tally.retries, route.priced
                )
                with anyio.CancelScope(shield=True):
                    await self._record(call)
            raise
        await self._record(ended.call)  # out of the slot: the hook may wait on storage
        if isinstance(ended.outcome, Failure):
            attempts = ended.call.retries + 1
            raise ended.outcome.error(self.name, attempts) from ended.outcome.cause
        return ModelReply(ended.outcome.text, ended.call)

    async def _resolve(self, lit: Any) -> _Route:
        if self._route is None:
            try:
                self._route = await anyio.to_thread.run_sync(
                    _route, lit, self.name, self._api_base, self._api_key
                )
            except ResearchGymError as e:  # no key, no provider: a call all the same
                await self._record(self._failed(describe(e), time.time_ns() // 1000, 0.0, 0))
                raise
        return self._route

    async def _call(
        self, lit: Any, route: _Route, messages: list[dict[str, str]], tally: _Tally
    ) -> _Ended:
        """Request until an answer, a failure retrying cannot fix, or no retries left."""
        tally.start()
        while True:
            outcome = await self._attempt(lit, route, messages)
            started_at, latency, retries = tally.started_at, tally.latency, tally.retries
            if isinstance(outcome, _Answer):
                return _Ended(self._succeeded(outcome, started_at, latency, retries), outcome)
            if not outcome.retryable or retries >= self._settings.max_retries:
                call = self._failed(outcome.detail, started_at, latency, retries, route.priced)
                return _Ended(call, outcome)
            await anyio.sleep(backoff(retries, outcome, self._settings))
            tally.retries += 1

    async def _attempt(
        self, lit: Any, route: _Route, messages: list[dict[str, str]]
    ) -> _Answer | Failure:
        deadline = self._settings.timeout + _GRACE_S
        with anyio.move_on_after(deadline):
            try:
                response = await lit.acompletion(**self._params(route, messages))
            except Exception as e:  # litellm's errors, translated here and nowhere else
                return classify(lit, e)
            return _read(lit, response, route.priced)
        return timed_out(deadline)

    def _params(self, route: _Route, messages: list[dict[str, str]]) -> dict[str, Any]:
        settings = self._settings
        params: dict[str, Any] = {
            "model": self.name,
            "messages": messages,
            "timeout": settings.timeout,
            "num_retries": 0,  # litellm's
            "max_retries": 0,  # the OpenAI client's
            "drop_params": True,  # a setting a provider does not take is left out, not fatal
        }
        optional = {
            "api_base": self._api_base,
            "api_key": route.api_key,
            "max_tokens": settings.max_output_tokens,
            "temperature": settings.temperature,
        }
        params.update({k: v for k, v in optional.items() if v is not None})
        return params

    def _succeeded(
        self, answer: _Answer, started_at: int, latency: float, retries: int
    ) -> ModelCall:
        return ModelCall(
            request_model=self.name,
            response_model=answer.response_model,
            input_tokens=answer.input_tokens,
            output_tokens=answer.output_tokens,
            cost_usd=answer.cost_usd or 0.0,
            priced=answer.cost_usd is not None,
            latency_s=latency,
            retries=retries,
            finish_reason=answer.finish_reason,
            error=None,
            started_at=started_at,
            response=answer.text,
        )

    def _failed(
        self, error: str, started_at: int, latency: float, retries: int, priced: bool = False
    ) -> ModelCall:
        return ModelCall(
            request_model=self.name,
            response_model=None,
            input_tokens=0,
            output_tokens=0,
            cost_usd=0.0,
            priced=priced,
            latency_s=latency,
            retries=retries,
            finish_reason=None,
            error=error,
            started_at=started_at,
            response=None,
        )

    async def _record(self, call: ModelCall) -> None:
        if self._hook is not None:
            await self._hook(call)


def _read(lit: Any, response: Any, priced: bool) -> _Answer | Failure:
    """Read a completion; one without a first choice, or enormous, is not a completion.

    What the server wrote comes back as text that UTF-8 can encode (``escape_surrogates``):
    the agent sends its replies back in later requests, and the engine stores them.
    """
    try:
        choice = response.choices[0]
        text = choice.message.content
    except (AttributeError, IndexError, TypeError) as e:
        return Failure("malformed", f"no choice with a message in the answer ({describe(e)})", e)
    if not isinstance(text, str | None):
        return Failure("malformed", f"the reply's content is a {type(text).__name__}, not text")
    if text is not None and len(text) > MAX_RESPONSE_CHARS:
        return Failure(
            "malformed",
            f"the reply was {len(text):,} characters long, over the {MAX_RESPONSE_CHARS:,} "
            "that any model writes",
        )
    usage = getattr(response, "usage", None)
    return _Answer(
        text=escape_surrogates(text or ""),
        response_model=_text(getattr(response, "model", None)),
        input_tokens=_count(getattr(usage, "prompt_tokens", 0)),
        output_tokens=_count(getattr(usage, "completion_tokens", 0)),
        finish_reason=_text(getattr(choice, "finish_reason", None)),
        cost_usd=_cost(lit, response) if priced else None,
    )


def _text(value: Any) -> str | None:
    return None if value is None else escape_surrogates(str(value))


_MAX_COUNT = 2**63 - 1
"""The most tokens a call may count: the stored counts are 64-bit."""


def _count(value: Any) -> int:
    """A token count as the server gave it, within what a count can be (0 to ``_MAX_COUNT``)."""
    try:
        return min(max(int(value or 0), 0), _MAX_COUNT)
    except (TypeError, ValueError, OverflowError):  # not a number, NaN, infinite
        return 0


def _cost(lit: Any, response: Any) -> float | None:
    try:
        return float(lit.completion_cost(completion_response=response))
    except Exception:  # the price map knows the model, not the name it answered with
        return None
