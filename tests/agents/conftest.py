"""Fixtures of the agents' tests: a scripted OpenAI-compatible server, model settings, and
blockbuster told what litellm may block on."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from blockbuster import BlockBuster, blockbuster_ctx

from researchgym.agents.models import ModelSettings
from tests.agents.openai_server import OpenAIServer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

FAST = ModelSettings(timeout=1.0, max_retries=2, backoff_base=0.01, backoff_max=2.0)
"""Model settings that keep tests fast: short timeout, short backoff, two retries."""

LITELLM_MAY_BLOCK = [
    ("os.stat", "litellm/llms/custom_httpx/http_handler.py", ["get_ssl_verify"]),
    ("os.stat", "litellm/llms/custom_httpx/http_handler.py", ["get_ssl_configuration"]),
]
"""Blocking calls that litellm makes on the event loop, and we accept: it looks for its CA
bundle (SSL_CERT_FILE) each time it makes an HTTP client, which it then caches."""


def allow_litellm(bb: BlockBuster) -> None:
    """Let litellm make the blocking calls of ``LITELLM_MAY_BLOCK``."""
    for function, path, names in LITELLM_MAY_BLOCK:
        bb.functions[function].can_block_in(path, names)


@pytest.fixture(autouse=True)
def no_blocking_calls_in_the_event_loop() -> Iterator[None]:
    """The root fixture's check, with ``allow_litellm``.

    Without the allowance, every call through litellm fails with "Blocking call to os.stat"
    (which litellm reports as a 500, so the model retries it, then raises ModelApiError).
    """
    with blockbuster_ctx(["researchgym"]) as bb:
        allow_litellm(bb)
        yield


@pytest.fixture
async def openai_server() -> AsyncIterator[OpenAIServer]:
    """A scripted OpenAI-compatible server on 127.0.0.1 (``server.script(...)`` to fill it).

    aiohttp runs on asyncio only: a test that uses it pins ``anyio_backend`` to asyncio.
    Once the test is over, it checks that the script was enough for every request.
    """
    async with OpenAIServer() as server:
        yield server
    assert not server.unscripted, f"{server.unscripted} requests came after the script ran out"
