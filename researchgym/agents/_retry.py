"""Which litellm failures to retry, how long to wait, and which of our errors each becomes.

litellm maps every provider's errors onto OpenAI's exception classes; this module reads
them by class, most specific first. It never imports litellm: the caller hands it the module
(``lit``), loaded off the event loop.
"""

from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from researchgym.errors import (
    ApiKeyRejectedError,
    ContextWindowError,
    MalformedReplyError,
    ModelApiError,
    ResearchGymError,
    UnknownModelError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from researchgym.agents.models import ModelSettings

__all__ = ["Failure", "backoff", "classify", "describe", "escape_surrogates", "timed_out"]

FailureKind = Literal["transient", "malformed", "context", "auth", "unknown_model", "fatal"]
"""What a failed request means: ``transient`` and ``malformed`` are retried; the others are
not (the prompt is too long, the key is refused, no such model, anything else)."""

_MAX_DETAIL = 500
"""Characters of a provider's error message kept in our errors and in ``llm_calls.error``."""

_UNREADABLE = ("invalid response", "no 'choices'", "not a list", "codec can't decode")
"""What litellm's messages say of an answer that is not a completion (it reports those as a
500): with no exception of its own to tell them by, the words are all there is."""


class Failure(NamedTuple):
    """A failed request, read."""

    kind: FailureKind
    detail: str
    """The error in words, for ``llm_calls.error`` and our exception."""
    cause: BaseException | None = None
    """The exception it was read from, to chain ours to."""
    retry_after: float | None = None
    """Seconds the server asked us to wait (Retry-After), if it did."""

    @property
    def retryable(self) -> bool:
        """True if another request may succeed."""
        return self.kind in ("transient", "malformed")

    def error(self, model: str, attempts: int) -> ResearchGymError:
        """Our exception for this failure, after ``attempts`` requests."""
        if self.kind == "context":
            return ContextWindowError(model, self.detail)
        if self.kind == "auth":
            return ApiKeyRejectedError(model, self.detail)
        if self.kind == "unknown_model":
            return UnknownModelError(
                model,
                f"the provider answered: {self.detail}. Check the model's name (and the "
                "api_base, if one is given)",
            )
        if self.kind == "malformed":
            return MalformedReplyError(model, self.detail, attempts=attempts)
        return ModelApiError(model, attempts, self.detail)


def classify(lit: Any, error: Exception) -> Failure:
    """Read a litellm exception: whether to retry it, and what it says.

    Args:
        lit: The litellm module.
        error: What ``litellm.acompletion`` raised.
    """
    return Failure(_kind(lit, error), describe(error), error, _retry_after(error))


def _kind(lit: Any, error: Exception) -> FailureKind:
    if isinstance(error, lit.ContextWindowExceededError):
        return "context"
    if isinstance(error, lit.AuthenticationError | lit.PermissionDeniedError):
        return "auth"
    if isinstance(error, lit.NotFoundError):
        return "unknown_model"
    if isinstance(error, lit.BudgetExceededError):
        return "fatal"
    if isinstance(error, lit.RateLimitError):
        # OpenAI answers an account out of credit with a 429 too; waiting will not refill it.
        return "fatal" if _code(error) == "insufficient_quota" else "transient"
    if _caused_by(error, UnicodeEncodeError):
        return "fatal"  # our request holds text that UTF-8 cannot encode: it never will
    if _unreadable(error):
        return "malformed"
    status = getattr(error, "status_code", None)
    if (
        isinstance(error, lit.Timeout | lit.APIConnectionError)
        or status in (408, 409)
        or (isinstance(status, int) and status >= 500)
    ):
        return "transient"
    return "fatal"


def timed_out(timeout: float) -> Failure:
    """The failure of a request that we cut at its deadline (see ``LiteLLMModel``)."""
    return Failure("transient", f"Timeout: no full response within {timeout:g} s")


def backoff(retry: int, failure: Failure, settings: ModelSettings) -> float:
    """Seconds to wait before retry number ``retry`` (from 0).

    A server's Retry-After is honoured (up to ``backoff_max``) plus up to a tenth more, so
    that the clients it turned away do not all come back at once. Otherwise the wait doubles
    from ``backoff_base`` at each retry, up to ``backoff_max``, and is drawn between half of
    that and all of it ("equal jitter").
    """
    if failure.retry_after is not None:
        wait = min(failure.retry_after, settings.backoff_max)
        return wait * (1 + 0.1 * random.random())
    ceiling = min(settings.backoff_max, settings.backoff_base * 2.0**retry)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def describe(error: BaseException) -> str:
    """An exception in one line: its class and its message, cut to a readable length.

    A provider's message may quote what it was sent or what it answered: it comes out as
    text that UTF-8 can encode (``escape_surrogates``), as everything we keep must.
    """
    text = " ".join(str(error).split()).rstrip(".")  # our messages go on after it
    if len(text) > _MAX_DETAIL:
        text = text[: _MAX_DETAIL - 6] + " [...]"
    text = escape_surrogates(text)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def escape_surrogates(text: str) -> str:
    r"""Return ``text`` with each lone surrogate written as its escape, the text ``\ud800``.

    JSON can carry a lone surrogate (``"\ud800"``), and Python decodes it into a string that
    no UTF-8 encoder takes: not the next request's body, not an Arrow column. Every other
    character is kept as it is, NUL included.

    >>> escape_surrogates("a\ud800b")
    'a\\ud800b'
    """
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode()
    return text


def _code(error: Exception) -> str | None:
    body = getattr(error, "body", None)
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def _unreadable(error: BaseException) -> bool:
    """True if the server answered with something that is not a completion."""
    if _caused_by(error, UnicodeDecodeError) or _caused_by(error, "JSONDecodeError"):
        return True
    message = str(error).lower()
    return any(words in message for words in _UNREADABLE)


def _caused_by(error: BaseException, cause: type[BaseException] | str) -> bool:
    """True if ``error`` or an exception in its chain is a ``cause`` (a class or its name)."""
    seen: BaseException | None = error
    while seen is not None:
        if type(seen).__name__ == cause if isinstance(cause, str) else isinstance(seen, cause):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _retry_after(error: Exception) -> float | None:
    """The seconds a Retry-After (or Retry-After-Ms) header asks for, if any."""
    headers: Mapping[str, str] | None = getattr(error, "litellm_response_headers", None)
    if not headers:
        headers = getattr(getattr(error, "response", None), "headers", None)
    if not headers:
        return None
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    if "retry-after-ms" in lowered:
        return _seconds(lowered["retry-after-ms"], scale=0.001)
    if "retry-after" in lowered:
        return _seconds(lowered["retry-after"])
    return None


def _seconds(value: str, *, scale: float = 1.0) -> float | None:
    """A number of seconds (scaled), or an HTTP date; None if it is neither."""
    try:
        return max(0.0, float(value) * scale)
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
