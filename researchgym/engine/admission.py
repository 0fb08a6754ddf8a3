"""How many episodes a run may have at once: what it asks, within its open-file limit.

Each running episode holds file descriptors: its sandbox's shell and file helper pipes,
its processes' control files, its disk, and for Docker its connections to the daemon. A run
that asks for more episodes at once than its descriptors allow would see episodes fail with
"Too many open files". So the runner first raises the soft limit to the hard one, then
admits no more episodes at once than the descriptors allow, and says so.
"""

from __future__ import annotations

from typing import NamedTuple

from researchgym._host import raise_open_files_limit

__all__ = ["DESCRIPTORS_PER_EPISODE", "RESERVED_DESCRIPTORS", "Admission", "admit"]

DESCRIPTORS_PER_EPISODE = {"local": 6, "docker": 6}
"""Open files one running episode holds at most, per sandbox backend: twice the peak that
``benchmarks/descriptors.py`` measured (3.4 local, 1.8 Docker), for the pipes a start or an
evaluation holds for a moment; a plug-in backend counts as the most."""

RESERVED_DESCRIPTORS = 256
"""Open files the engine keeps for itself: the store, the writer, model connections,
imports, standard streams."""


class Admission(NamedTuple):
    """How many episodes run at once, and why fewer than asked."""

    episodes: int
    open_files: int
    """This process's soft limit on open files, once raised."""
    note: str | None
    """Why fewer episodes than asked run at once (None: as many as asked)."""


def admit(asked: int, sandbox: str) -> Admission:
    """Raise the open-file limit and admit at most the episodes its descriptors allow.

    Args:
        asked: The episodes the run asks to run at once (``limits.concurrent_episodes``).
        sandbox: The sandbox backend's name.
    """
    open_files = raise_open_files_limit()
    each = DESCRIPTORS_PER_EPISODE.get(sandbox, max(DESCRIPTORS_PER_EPISODE.values()))
    allowed = max(1, (open_files - RESERVED_DESCRIPTORS) // each)
    if asked <= allowed:
        return Admission(asked, open_files, None)
    note = (
        f"{allowed} episodes run at once, not the {asked} asked: this process may open "
        f"{open_files} files (its hard limit, ulimit -Hn) and a {sandbox} episode holds up "
        f"to {each}. Raise the hard limit to run more at once."
    )
    return Admission(allowed, open_files, note)
