"""Where the engine and the sandboxes run: CPU placement from the run configuration."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import TYPE_CHECKING

from researchgym.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from researchgym.config import Cpus

__all__ = ["engine_placement"]


@contextmanager
def engine_placement(cpus: Cpus) -> Iterator[None]:
    """Run the calling thread, and the threads it starts, on ``cpus.engine`` meanwhile.

    Call it from the event loop's thread before the run starts its worker threads. Without
    an engine placement this does nothing; the previous placement is restored on exit.

    Raises:
        ConfigError: If a CPU of ``cpus`` is not available to this process.
    """
    available = os.sched_getaffinity(0)
    for name, chosen in (("engine", cpus.engine), ("sandboxes", cpus.sandboxes)):
        missing = sorted(set(chosen or ()) - available)
        if missing:
            raise ConfigError(
                f"Bad run configuration: 'cpus.{name}': CPU {missing[0]} is not available; "
                f"choose among {', '.join(map(str, sorted(available)))}."
            )
    if not cpus.engine:
        yield
        return
    os.sched_setaffinity(0, cpus.engine)
    try:
        yield
    finally:
        os.sched_setaffinity(0, available)
