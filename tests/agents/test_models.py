"""Real models through litellm, against a real OpenAI-compatible server on 127.0.0.1.

Each test scripts the server, calls the model, and checks what the hook received (what the
engine stores in ``llm_calls``), not only what came back.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from researchgym.agents._litellm import MAX_RESPONSE_CHARS, load
from researchgym.agents._retry import Failure, backoff
from researchgym.agents.models import Model, ModelCall, ModelSettings, check_model, open_model
from researchgym.errors import (
    ApiKeyRejectedError,
    ContextWindowError,
    MalformedReplyError,
    MissingApiKeyError,
    ModelApiError,
    UnknownModelError,
)
from tests.conftest import FAST
from tests.openai_server import (
    Delay,
    Fail,
    Received,
    Reply,
    Step,
    context_length_exceeded,
    empty_content,
    enormous,
    invalid_utf8,
    model_not_found,
    no_choices,
    not_json,
    rate_limited,
    server_error,
    unauthorized,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.openai_server import OpenAIServer

MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say hello."},
]


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    """litellm and aiohttp run on asyncio only."""
    return ("asyncio", {"debug": True})


class Hook:
    """Keeps every call it is handed, as the engine's recorder would."""

    def __init__(self) -> None:
        self.calls: list[ModelCall] = []

    async def __call__(self, call: ModelCall) -> None:
        self.calls.append(call)

    @property
    def call(self) -> ModelCall:
        assert len(self.calls) == 1, self.calls
        return self.calls[0]


@pytest.fixture
def hook() -> Hook:
    return Hook()


def local(
    server: OpenAIServer,
    hook: Hook,
    *,
    model: str = "openai/local-model",
    settings: ModelSettings = FAST,
) -> Model:
    return open_model(model, settings=settings, hook=hook, api_base=server.url)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- replies -------------------------------------------------------------------------------


async def test_a_reply_and_its_call(openai_server: OpenAIServer, hook: Hook) -> None:
    openai_server.script(Reply("Hello.", prompt_tokens=12, completion_tokens=3))
    # FAST's 1 s timeout could cut the first call of a loaded machine (it imports litellm)
    patient = local(openai_server, hook, settings=replace(FAST, timeout=60.0))
    before, clock = time.time_ns() // 1000, time.perf_counter()
    reply = await patient.complete(MESSAGES)
    elapsed = time.perf_counter() - clock
    assert reply.text == "Hello."
    assert hook.call == reply.call
    call = reply.call
    assert call._replace(latency_s=0.0, started_at=0) == ModelCall(
        request_model="openai/local-model",
        response_model="local-model",
        input_tokens=12,
        output_tokens=3,
        cost_usd=0.0,
        priced=False,  # litellm has no price for a local model
        latency_s=0.0,
        retries=0,
        finish_reason="stop",
        error=None,
        started_at=0,
        response="Hello.",
    )
    assert 0 < call.latency_s <= elapsed
    assert before <= call.started_at <= time.time_ns() // 1000
    [received] = openai_server.requests
    assert (received.model, received.messages) == ("local-model", MESSAGES)


async def test_a_priced_model_costs_what_litellm_says(
    openai_server: OpenAIServer, hook: Hook
) -> None:
    openai_server.script(Reply(prompt_tokens=1000, completion_tokens=500))
    call = (await local(openai_server, hook, model="openai/gpt-4o-mini").complete(MESSAGES)).call
    lit = await load()
    prices = lit.cost_per_token(
        model="openai/gpt-4o-mini", prompt_tokens=1000, completion_tokens=500
    )
    assert call.priced
    assert call.cost_usd == pytest.approx(sum(prices))
    assert call.cost_usd > 0
    assert hook.call.cost_usd == call.cost_usd


async def test_settings_go_into_the_request(openai_server: OpenAIServer, hook: Hook) -> None:
    openai_server.script(Reply())
    settings = ModelSettings(max_output_tokens=50, temperature=0.0)
    await local(openai_server, hook, settings=settings).complete(MESSAGES)
    body = openai_server.requests[0].body
    assert (body["max_tokens"], body["temperature"]) == (50, 0.0)


@pytest.mark.parametrize("content", ["", None], ids=["empty", "null"])
async def test_an_empty_reply_is_returned_for_the_agent_to_judge(
    openai_server: OpenAIServer, hook: Hook, content: str | None
) -> None:
    openai_server.script(empty_content(content))
    reply = await local(openai_server, hook).complete(MESSAGES)
    assert reply.text == ""
    assert (hook.call.error, hook.call.response, hook.call.retries) == (None, "", 0)


async def test_an_enormous_reply_is_returned_whole(openai_server: OpenAIServer, hook: Hook) -> None:
    text = "word " * 200_000
    openai_server.script(Reply(text, finish_reason="length"))
    reply = await local(openai_server, hook).complete(MESSAGES)
    assert reply.text == text
    assert hook.call.finish_reason == "length"


async def test_a_lone_surrogate_comes_back_escaped_and_nul_as_it_is(
    openai_server: OpenAIServer, hook: Hook
) -> None:
    # JSON carries them as "\ud800" and "\u0000"; no UTF-8 text can hold the first.
    openai_server.script(Reply("a \ud800 b \x00 c"), Reply("Hello."))
    model = local(openai_server, hook)
    reply = await model.complete(MESSAGES)
    assert reply.text == hook.calls[0].response == "a \\ud800 b \x00 c"
    # The reply goes back in the next request, which could not be sent with the surrogate.
    said = [*MESSAGES, {"role": "assistant", "content": reply.text}]
    said.append({"role": "user", "content": "And?"})
    assert (await model.complete(said)).text == "Hello."
    assert openai_server.requests[1].messages[2]["content"] == "a \\ud800 b \x00 c"


async def test_token_counts_are_kept_to_what_a_count_can_be(
    openai_server: OpenAIServer, hook: Hook
) -> None:
    openai_server.script(Reply(prompt_tokens=10**20, completion_tokens=-5))
    call = (await local(openai_server, hook).complete(MESSAGES)).call
    assert (call.input_tokens, call.output_tokens) == (2**63 - 1, 0)


async def test_an_error_message_comes_back_escaped(openai_server: OpenAIServer, hook: Hook) -> None:
    openai_server.script(Fail(400, "Bad \ud800 request.", "invalid_request_error"))
    with pytest.raises(ModelApiError) as caught:
        await local(openai_server, hook).complete(MESSAGES)
    assert "Bad \\ud800 request" in str(caught.value)
    assert "Bad \\ud800 request" in (hook.call.error or "")


async def test_a_request_that_cannot_be_encoded_is_not_retried(
    openai_server: OpenAIServer, hook: Hook
) -> None:
    with pytest.raises(ModelApiError) as caught:
        await local(openai_server, hook).complete([{"role": "user", "content": "\ud800"}])
    assert caught.value.attempts == 1
    assert "can't encode" in (hook.call.error or "")
    assert openai_server.requests == []


async def test_a_call_cancelled_in_flight_is_handed_to_the_hook(
    openai_server: OpenAIServer, hook: Hook
) -> None:
    openai_server.default = Delay(60)
    # One request at a time: the second call never sends one, and is not a call.
    model = local(openai_server, hook, settings=ModelSettings(concurrency={"openai": 1}))
    with anyio.move_on_after(0.5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(model.complete, MESSAGES)
            tg.start_soon(model.complete, MESSAGES)
    assert len(openai_server.requests) == 1
    assert hook.call.error == (
        "Cancelled: the call was stopped before it ended (its episode ended, or the run)"
    )
    assert (hook.call.retries, hook.call.response) == (0, None)
    assert 0.4 < hook.call.latency_s < 5


# --- retries -------------------------------------------------------------------------------


async def test_a_rate_limit_waits_as_long_as_retry_after_says(
    openai_server: OpenAIServer, hook: Hook
) -> None:
    openai_server.script(rate_limited(retry_after=1), Reply("Hello."))
    reply = await local(openai_server, hook).complete(MESSAGES)
    first, second = openai_server.requests
    assert second.at - first.at >= 1.0  # not FAST's 0.01 s backoff
    assert reply.text == "Hello."
    assert (hook.call.retries, hook.call.error, hook.call.output_tokens) == (1, None, 5)
    assert hook.call.latency_s >= 1.0


async def test_retry_after_ms_is_honoured(openai_server: OpenAIServer, hook: Hook) -> None:
    openai_server.script(Fail(503, "Overloaded", headers={"Retry-After-Ms": "300"}), Reply())
    await local(openai_server, hook).complete(MESSAGES)
    first, second = openai_server.requests
    assert second.at - first.at >= 0.3
    assert hook.call.retries == 1


@pytest.mark.parametrize(
    "failure",
    [server_error(500), server_error(502), server_error(503), Delay(3.0)],
    ids=["500", "502", "503", "timeout"],
)
async def test_a_transient_failure_is_retried(
    openai_server: OpenAIServer, hook: Hook, failure: Step
) -> None:
    openai_server.script(failure, Reply("Hello."))
    reply = await local(openai_server, hook).complete(MESSAGES)
    assert reply.text == "Hello."
    assert len(openai_server.requests) == 2
    assert (hook.call.retries, hook.call.error) == (1, None)


async def test_failures_past_max_retries_raise_the_last(
    openai_server: OpenAIServer, hook: Hook
) -> None:
    openai_server.script(server_error(), server_error(), server_error())
    with pytest.raises(ModelApiError) as caught:
        await local(openai_server, hook).complete(MESSAGES)
    assert re.fullmatch(
        re.escape("The API of the model 'openai/local-model' failed (3 times); the last error: ")
        + r"InternalServerError: .*The server had an error while processing your request\. "
        + re.escape(
            "Check that the provider (or the api_base server) is up, or allow more retries "
            "(models.retries)."
        ),
        str(caught.value),
    )
    assert caught.value.attempts == 3
    assert caught.value.__cause__ is not None
    assert len(openai_server.requests) == 3
    call = hook.call
    assert (call.retries, call.input_tokens, call.output_tokens, call.cost_usd) == (2, 0, 0, 0.0)
    assert (call.response, call.response_model) == (None, None)
    assert call.error is not None
    assert call.error.startswith("InternalServerError: ")


async def test_a_refused_connection_is_retried_then_raised(hook: Hook) -> None:
    model = open_model(
        "openai/local-model",
        settings=FAST,
        hook=hook,
        api_base=f"http://127.0.0.1:{free_port()}/v1",
    )
    with pytest.raises(ModelApiError) as caught:
        await model.complete(MESSAGES)
    assert caught.value.attempts == 3
    assert hook.call.retries == 2
    assert "Connection error" in (hook.call.error or "")


# --- failures retrying cannot fix ----------------------------------------------------------


async def test_a_refused_key_is_not_retried(openai_server: OpenAIServer, hook: Hook) -> None:
    openai_server.script(unauthorized())
    with pytest.raises(ApiKeyRejectedError) as caught:
        await local(openai_server, hook).complete(MESSAGES)
    assert str(caught.value).startswith(
        "The provider refused the API key for the model 'openai/local-model': AuthenticationError: "
    )
    assert len(openai_server.requests) == 1
    assert hook.call.retries == 0
    assert "Incorrect API key provided" in (hook.call.error or "")


async def test_an_unknown_model_is_not_retried(openai_server: OpenAIServer, hook: Hook) -> None:
    openai_server.script(model_not_found("local-model"))
    with pytest.raises(UnknownModelError) as caught:
        await local(openai_server, hook).complete(MESSAGES)
    assert caught.value.model == "openai/local-model"
    assert re.fullmatch(
        re.escape("Unknown model 'openai/local-model': the provider answered: NotFoundError: ")
        + r".*The model `local-model` does not exist or you do not have access to it\. "
        + re.escape("Check the model's name (and the api_base, if one is given)"),
        str(caught.value),
    )
    assert len(openai_server.requests) == 1
    assert hook.call.error is not None


async def test_a_full_context_window_is_not_retried(
    openai_server: OpenAIServer, hook: Hook
) -> None:
    openai_server.script(context_length_exceeded())
    with pytest.raises(ContextWindowError) as caught:
        await local(openai_server, hook).complete(MESSAGES)
    assert str(caught.value).startswith(
        "The prompt is over the context window of the model 'openai/local-model': "
    )
    assert str(caught.value).endswith(
        "Keep fewer observations in the agent's history, or use a model with a larger window."
    )
    assert len(openai_server.requests) == 1
    assert (hook.call.retries, hook.call.error is not None) == (0, True)


async def test_an_exhausted_quota_is_not_retried(openai_server: OpenAIServer, hook: Hook) -> None:
    openai_server.script(
        Fail(429, "You exceeded your current quota.", "insufficient_quota", "insufficient_quota")
    )
    with pytest.raises(ModelApiError) as caught:
        await local(openai_server, hook).complete(MESSAGES)
    assert caught.value.attempts == 1
    assert len(openai_server.requests) == 1


async def test_a_bad_request_is_not_retried(openai_server: OpenAIServer, hook: Hook) -> None:
    openai_server.script(Fail(400, "Invalid value for 'messages'.", "invalid_request_error"))
    with pytest.raises(ModelApiError) as caught:
        await local(openai_server, hook).complete(MESSAGES)
    assert not isinstance(caught.value, MalformedReplyError)
    assert caught.value.attempts == 1
    assert len(openai_server.requests) == 1


# --- answers that are not completions ------------------------------------------------------

UNREADABLE: dict[str, Callable[[], Step]] = {
    "not-json": not_json,
    "no-choices": no_choices,
    "invalid-utf8": invalid_utf8,
    "enormous": lambda: enormous(MAX_RESPONSE_CHARS + 1),
}


@pytest.mark.parametrize("answer", UNREADABLE.values(), ids=UNREADABLE.keys())
async def test_an_unreadable_answer_is_retried_then_raised_as_malformed(
    openai_server: OpenAIServer, hook: Hook, answer: Callable[[], Step]
) -> None:
    openai_server.script(answer(), answer(), answer())
    with pytest.raises(MalformedReplyError) as caught:
        await local(openai_server, hook).complete(MESSAGES)
    assert caught.value.attempts == 3
    assert str(caught.value).startswith(
        "The API of the model 'openai/local-model' failed (3 times); the last error: the "
        "answer was not a completion: "
    )
    assert len(openai_server.requests) == 3
    assert (hook.call.retries, hook.call.response) == (2, None)


async def test_an_enormous_answer_is_refused_then_a_good_one(
    openai_server: OpenAIServer, hook: Hook
) -> None:
    openai_server.script(enormous(MAX_RESPONSE_CHARS + 1), Reply("Hello."))
    reply = await local(openai_server, hook).complete(MESSAGES)
    assert (reply.text, hook.call.retries) == ("Hello.", 1)


async def test_an_unreadable_answer_then_a_good_one(
    openai_server: OpenAIServer, hook: Hook
) -> None:
    openai_server.script(invalid_utf8(), Reply("Hello."))
    reply = await local(openai_server, hook).complete(MESSAGES)
    assert (reply.text, hook.call.retries) == ("Hello.", 1)


# --- concurrency ---------------------------------------------------------------------------


@pytest.mark.parametrize("limits", [{"openai": 2}, {"default": 2, "anthropic": 9}])
async def test_a_provider_gets_so_many_requests_at_once(
    openai_server: OpenAIServer, hook: Hook, limits: dict[str, int]
) -> None:
    openai_server.default = Delay(0.2, Reply())
    settings = ModelSettings(concurrency=limits)
    # Two models of one provider share its limit.
    models = [local(openai_server, hook, settings=settings) for _ in range(2)]
    async with anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(models[i % 2].complete, MESSAGES)
    assert len(openai_server.requests) == 5
    assert openai_server.max_in_flight == 2
    assert len(hook.calls) == 5


async def test_without_a_limit_requests_go_at_once(openai_server: OpenAIServer, hook: Hook) -> None:
    openai_server.default = Delay(0.2, Reply())
    model = local(openai_server, hook, settings=ModelSettings())
    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(model.complete, MESSAGES)
    assert openai_server.max_in_flight == 5


# --- the hook ------------------------------------------------------------------------------


async def test_what_the_hook_raises_comes_out(openai_server: OpenAIServer) -> None:
    class BudgetSpent(Exception):
        pass

    async def stop(call: ModelCall) -> None:
        raise BudgetSpent(call.output_tokens)

    openai_server.script(Reply())
    model = open_model("openai/local-model", settings=FAST, hook=stop, api_base=openai_server.url)
    with pytest.raises(BudgetSpent, match=r"^5$"):
        await model.complete(MESSAGES)


async def test_the_server_sees_one_request_per_call(openai_server: OpenAIServer) -> None:
    seen: list[Received] = []

    def answer(request: Received) -> Step:
        seen.append(request)
        return Reply(f"answer {len(seen)}")

    openai_server.default = answer
    model = open_model("openai/m", settings=FAST, hook=Hook(), api_base=openai_server.url)
    texts = [(await model.complete(MESSAGES)).text for _ in range(3)]
    assert texts == ["answer 1", "answer 2", "answer 3"]
    assert [r.model for r in seen] == ["m"] * 3


# --- checks before a run -------------------------------------------------------------------


async def test_check_model_names_an_unknown_provider() -> None:
    with pytest.raises(UnknownModelError) as caught:
        await check_model("nosuchprovider/some-model")
    assert str(caught.value) == (
        "Unknown model 'nosuchprovider/some-model': litellm knows no provider for it. Write "
        "provider/model, like openai/gpt-4o, anthropic/claude-sonnet-4-5 or ollama/llama3; "
        "for an OpenAI-compatible server, openai/<its model name> with an api_base; or mock, "
        "to run offline"
    )


async def test_check_model_names_the_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingApiKeyError) as caught:
        await check_model("openai/gpt-4o")
    assert caught.value.env_vars == ("OPENAI_API_KEY",)
    assert str(caught.value) == (
        "No API key for the model 'openai/gpt-4o': the environment variable OPENAI_API_KEY is "
        "not set. Set OPENAI_API_KEY, or give an api_base for a server that needs no key, or "
        "run offline with the mock model."
    )


async def test_check_model_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    await check_model("openai/local-model", api_base="http://127.0.0.1:8000/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    await check_model("openai/gpt-4o")
    await check_model("ollama/llama3")  # a local provider: no key
    await check_model("mock")
    await check_model("mock:submit")
    await check_model("replay")


async def test_a_call_without_its_key_is_refused_before_any_request(
    monkeypatch: pytest.MonkeyPatch, hook: Hook
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = open_model("openai/gpt-4o", settings=FAST, hook=hook)
    with pytest.raises(MissingApiKeyError):
        await model.complete(MESSAGES)
    assert hook.call.error is not None
    assert hook.call.error.startswith("MissingApiKeyError: No API key for the model")


async def test_a_call_to_an_unknown_provider_is_refused(hook: Hook) -> None:
    model = open_model("nosuchprovider/x", settings=FAST, hook=hook)
    with pytest.raises(UnknownModelError):
        await model.complete(MESSAGES)
    assert hook.call.error is not None


def test_the_package_imports_without_litellm() -> None:
    code = "import sys, researchgym.agents, researchgym.engine; print('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- backoff -------------------------------------------------------------------------------


def test_backoff_doubles_with_jitter_up_to_its_cap() -> None:
    settings = ModelSettings(backoff_base=1.0, backoff_max=5.0)
    failure = Failure("transient", "500")
    for retry, (low, high) in enumerate([(0.5, 1), (1, 2), (2, 4), (2.5, 5), (2.5, 5)]):
        waits = [backoff(retry, failure, settings) for _ in range(50)]
        assert all(low <= w <= high for w in waits), (retry, waits)
        assert len(set(waits)) > 1


def test_backoff_honours_retry_after_up_to_its_cap() -> None:
    settings = ModelSettings(backoff_base=0.01, backoff_max=5.0)
    assert 2.0 <= backoff(0, Failure("transient", "429", retry_after=2.0), settings) <= 2.2
    assert 5.0 <= backoff(0, Failure("transient", "429", retry_after=60.0), settings) <= 5.5
