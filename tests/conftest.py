"""Shared fixtures: every async test runs under asyncio (in debug mode) and trio."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from blockbuster import blockbuster_ctx

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
