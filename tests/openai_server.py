"""A real OpenAI-compatible HTTP server on 127.0.0.1, playing a script, for tests.

It serves ``POST /v1/chat/completions`` (non-streaming) and ``GET /v1/models``. Each request
to the completions endpoint takes the next step of the script:

- ``Reply``: a completion (content, token usage, finish reason); content with a lone
  surrogate or a NUL goes out escaped in the JSON (``"\\ud800"``, ``"\\u0000"``), as JSON
  writes them;
- ``Fail``: an HTTP error status, in OpenAI's error format, with optional headers (the
  helpers ``rate_limited``, ``server_error``, ``unauthorized``, ``model_not_found`` and
  ``context_length_exceeded`` build the usual ones);
- ``Delay``: wait, then play another step (longer than the client's timeout: a timeout);
- ``Raw``: any bytes as the body (``not_json``, ``no_choices``, ``invalid_utf8``);
  ``enormous`` makes a completion of 50 MB when asked;
- a function of the ``Received`` request that returns one of the above (it may be async).

Once the script is played out, the ``default`` step answers (a ``Fail(500)`` naming the
problem if there is none, and ``unscripted`` counts it). Every request is recorded in
``requests``; ``max_in_flight`` is the most requests it ever handled at once.

>>> async with OpenAIServer([Reply("hello")]) as server:  # doctest: +SKIP
...     server.url  # 'http://127.0.0.1:PORT/v1', for api_base
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NamedTuple

from aiohttp import web

__all__ = [
    "Delay",
    "Fail",
    "OpenAIServer",
    "Raw",
    "Received",
    "Reply",
    "Step",
    "context_length_exceeded",
    "empty_content",
    "enormous",
    "invalid_utf8",
    "model_not_found",
    "no_choices",
    "not_json",
    "rate_limited",
    "server_error",
    "unauthorized",
]


class Received(NamedTuple):
    """A request the server received."""

    model: str
    messages: list[dict[str, Any]]
    body: dict[str, Any]
    headers: dict[str, str]
    at: float
    """``time.monotonic()`` when it arrived."""


class Reply(NamedTuple):
    """A completion."""

    content: str | None = "I will look around.\n```\nls\n```"
    prompt_tokens: int = 10
    completion_tokens: int = 5
    finish_reason: str = "stop"
    model: str | None = None
    """The model the reply names (default: the model asked for)."""


class Fail(NamedTuple):
    """An HTTP error: a status, an OpenAI-style error body, headers."""

    status: int
    message: str = "error"
    type: str = "server_error"
    code: str | None = None
    headers: dict[str, str] = {}


class Raw(NamedTuple):
    """Any body, as bytes."""

    body: bytes
    status: int = 200
    content_type: str = "application/json"


class Delay(NamedTuple):
    """Wait, then play ``then``."""

    seconds: float
    then: Step | None = None


Step = Reply | Fail | Raw | Delay | Callable[[Received], "Step | Awaitable[Step]"]
"""What the server does with one request."""


def rate_limited(retry_after: float | None = 1) -> Fail:
    """A 429, with a Retry-After header (seconds) unless None."""
    headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
    return Fail(429, "Rate limit reached", "requests", "rate_limit_exceeded", headers)


def server_error(status: int = 500) -> Fail:
    """A 5xx."""
    return Fail(status, "The server had an error while processing your request.")


def unauthorized() -> Fail:
    """A 401: a wrong API key."""
    return Fail(
        401, "Incorrect API key provided: sk-wrong.", "invalid_request_error", "invalid_api_key"
    )


def model_not_found(model: str = "no-such-model") -> Fail:
    """A 404: no such model."""
    return Fail(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    )


def context_length_exceeded() -> Fail:
    """A 400 as OpenAI answers a prompt over the model's context window."""
    return Fail(
        400,
        "This model's maximum context length is 128000 tokens. However, your messages "
        "resulted in 200000 tokens. Please reduce the length of the messages.",
        "invalid_request_error",
        "context_length_exceeded",
    )


def not_json() -> Raw:
    """A 200 whose body is not JSON."""
    return Raw(b"<html>Bad gateway</html>", content_type="text/html")


def no_choices() -> Raw:
    """A 200 whose JSON has no choices."""
    return Raw(json.dumps({"id": "x", "object": "chat.completion", "created": 0}).encode())


def invalid_utf8() -> Raw:
    """A 200 completion whose content holds bytes that are not UTF-8."""
    body = json.dumps(_completion(Reply("PLACEHOLDER"), "m")).encode()
    return Raw(body.replace(b"PLACEHOLDER", b"caf\xe9 \xff\xfe"))


def empty_content(content: str | None = "") -> Reply:
    """A 200 completion with empty (or null) content."""
    return Reply(content, completion_tokens=0)


def enormous(chars: int = 50_000_000) -> Step:
    """A 200 completion of ``chars`` characters, made when it is asked for."""
    return lambda received: Reply("x" * chars)


class OpenAIServer:
    """The server: an async context manager that listens on a free port of 127.0.0.1.

    Args:
        script: The steps, in order.
        default: What to answer once the script is played out.
    """

    def __init__(self, script: Iterable[Step] = (), *, default: Step | None = None) -> None:
        self._script = list(script)
        self.default = default
        self.requests: list[Received] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.unscripted = 0
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The base URL of the API, as ``api_base`` wants it."""
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *steps: Step) -> None:
        """Add steps to the end of the script."""
        self._script.extend(steps)

    async def __aenter__(self) -> OpenAIServer:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        # handler_cancellation: a client that timed out cancels its delayed reply, so that
        # closing the server does not wait for it.
        self._runner = web.AppRunner(
            app, shutdown_timeout=0.5, handler_cancellation=True, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "local-model"}]})

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        received = Received(
            body.get("model", ""),
            body.get("messages", []),
            body,
            dict(request.headers),
            time.monotonic(),
        )
        self.requests.append(received)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._play(self._next(), received)
        finally:
            self.in_flight -= 1

    def _next(self) -> Step:
        if self._script:
            return self._script.pop(0)
        if self.default is not None:
            return self.default
        self.unscripted += 1
        return server_error()._replace(message="the test server's script is played out")

    async def _play(self, step: Step, received: Received) -> web.StreamResponse:
        if isinstance(step, Delay):
            await asyncio.sleep(step.seconds)
            return await self._play(step.then or Reply(), received)
        if isinstance(step, Reply):
            return web.json_response(_completion(step, received.model))
        if isinstance(step, Fail):
            error = {"message": step.message, "type": step.type, "param": None, "code": step.code}
            return web.json_response({"error": error}, status=step.status, headers=step.headers)
        if isinstance(step, Raw):
            return web.Response(body=step.body, status=step.status, content_type=step.content_type)
        made = step(received)
        return await self._play(await made if inspect.isawaitable(made) else made, received)


def _completion(reply: Reply, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": reply.model or model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "finish_reason": reply.finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }
