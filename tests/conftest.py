"""Shared fixtures.

- Every async test runs under asyncio (in debug mode) and trio.
- No test may block the event loop in researchgym's code (blockbuster).
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

from researchgym.sandboxes import build_image, docker_reachable, image_name

if TYPE_CHECKING:
    from collections.abc import Iterator


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
    with blockbuster_ctx(["researchgym"]):
        yield


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
