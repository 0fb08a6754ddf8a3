"""Shared fixtures.

- Every async test runs under asyncio (in debug mode) and trio.
- No test may block the event loop in researchgym's code (blockbuster), except for the
  few blocking calls litellm makes itself (``LITELLM_MAY_BLOCK``).
- ``openai_server``: a real OpenAI-compatible server on 127.0.0.1 playing a script, for
  every test of a model through litellm; ``FAST`` model settings keep those tests short.
- The sandbox image, for the Docker tests, is built once per session, before the first test
  that needs it: a build from scratch takes a minute or more, longer than pytest-timeout lets
  one test run. The ``sandbox_image`` fixture then finds it built (and builds it itself where
  the hook did not run).
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING, Any, NamedTuple

import anyio
import pytest
from blockbuster import blockbuster_ctx

from researchgym.agents import ModelSettings
from researchgym.sandboxes import build_image, docker_reachable, image_name
from tests.openai_server import OpenAIServer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

FAST = ModelSettings(timeout=1.0, max_retries=2, backoff_base=0.01, backoff_max=2.0)
"""Model settings that keep tests fast: short timeout, short backoff, two retries."""

LITELLM_MAY_BLOCK = [
    ("os.stat", "litellm/llms/custom_httpx/http_handler.py", ["get_ssl_verify"]),
    ("os.stat", "litellm/llms/custom_httpx/http_handler.py", ["get_ssl_configuration"]),
]
"""Blocking calls that litellm makes on the event loop, and we accept: it looks for its CA
bundle (SSL_CERT_FILE) each time it makes an HTTP client, which it then caches. Without the
allowance every call through litellm fails with "Blocking call to os.stat" (which litellm
reports as a 500, so the model retries it, then raises ModelApiError)."""

RESEARCHGYM_MAY_BLOCK = [("threading.Lock.acquire", "researchgym/api.py", ["_on_own_loop"])]
"""Blocking calls of researchgym's own that are meant: ``researchgym.run`` called in a
running event loop (a notebook's cell) waits for the run's thread, as any call without
``await`` in a cell does."""


@pytest.fixture(
    params=[
        pytest.param(("asyncio", {"debug": True}), id="asyncio"),
        pytest.param(("trio", {}), id="trio"),
    ]
)
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    backend: tuple[str, dict[str, Any]] = request.param
    return backend


@pytest.fixture(autouse=True)
def no_blocking_calls_in_the_event_loop() -> Iterator[None]:
    """Fail a test whose code blocks the asyncio event loop (file I/O, sleep, ...).

    Without it, a blocking call in async code (reading a file, DuckDB work outside a worker
    thread) passes every test and only shows at scale, as a stalled run.
    """
    with blockbuster_ctx(["researchgym"]) as bb:
        for function, path, names in LITELLM_MAY_BLOCK + RESEARCHGYM_MAY_BLOCK:
            bb.functions[function].can_block_in(path, names)
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


NO_DAEMON = (
    "no Docker daemon answers (start one, e.g. `dockerd &`, or set DOCKER_HOST); "
    "CI always runs one, so these tests never skip there"
)


class PreparedImage(NamedTuple):
    """The outcome of the session's one build: the image, or why there is none."""

    image: str | None
    skip: str | None = None
    error: BaseException | None = None
    seconds: float = 0.0


@functools.cache
def prepare_image() -> PreparedImage:
    """Build this version's sandbox image if it is missing, once per session."""
    if not anyio.run(docker_reachable, backend="asyncio"):
        return PreparedImage(None, skip=NO_DAEMON)
    started = time.monotonic()
    try:
        # Blocking calls in the build's async code fail here as they would in a test.
        with blockbuster_ctx(["researchgym"]):
            anyio.run(build_image, backend="asyncio")
    except Exception as e:  # handed to each test that needs the image, as its error
        return PreparedImage(None, error=e)
    return PreparedImage(image_name(), seconds=time.monotonic() - started)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Build the sandbox image before the first test, if a selected test needs it."""
    if session.config.option.collectonly:
        return
    needs = {"sandbox_image", "any_sandbox"}  # any_sandbox asks for the image when docker
    if any(needs & set(getattr(item, "fixturenames", ())) for item in session.items):
        prepared = prepare_image()
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and prepared.image is not None:
            reporter.write_line(f"sandbox image {prepared.image} ready ({prepared.seconds:.1f} s)")


@pytest.fixture(scope="session")
def sandbox_image() -> str:
    """This version's sandbox image, built if missing; skips only where no daemon answers."""
    prepared = prepare_image()
    if prepared.error is not None:
        raise prepared.error
    if prepared.image is None:
        pytest.skip(prepared.skip or NO_DAEMON)
    return prepared.image
