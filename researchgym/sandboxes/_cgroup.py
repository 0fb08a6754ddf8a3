"""Process and memory limits of a local sandbox: control groups of its own.

Under root, with the ``pids`` and ``memory`` controllers of cgroup v1 mounted (as on this
project's machines), each isolated local sandbox gets a group in each
(``researchgym/<pid>-<random>``), with the sandbox's process and memory limits; every
process of the sandbox starts in them (``join``), so a fork bomb meets ``pids.max`` and a
memory hog the OOM killer of its own group, and the host neither. Elsewhere (no root, or a
unified cgroup v2 hierarchy, which this module does not handle yet) local sandboxes have no
such limits, and ``cgroup_support()`` says so.
"""

from __future__ import annotations

import contextlib
import functools
import os
import uuid
from pathlib import Path
from typing import NamedTuple

import anyio

from researchgym._host import pid_alive

__all__ = ["Cgroups", "cgroup_support", "open_cgroups", "prune_cgroups"]

_ROOT = Path("/sys/fs/cgroup")
_CONTROLLERS = ("pids", "memory")
_GROUP = "researchgym"
_JOIN = 'while [ "$1" != -- ]; do echo $$ > "$1/cgroup.procs" || exit 125; shift; done; shift'
_REMOVE_TRIES = 50
"""Attempts at removing a group whose last processes are still being reaped (20 ms apart)."""


class CgroupSupport(NamedTuple):
    """Whether local sandboxes get process and memory limits here."""

    enforced: bool
    detail: str


@functools.cache
def cgroup_support() -> CgroupSupport:
    """Find out, once per process, whether groups can be made here (blocking)."""
    if os.geteuid() != 0:
        return CgroupSupport(False, "they need root")
    missing = [name for name in _CONTROLLERS if not (_ROOT / name / "cgroup.procs").is_file()]
    if missing:
        return CgroupSupport(False, f"cgroup v1's {' and '.join(missing)} controller is missing")
    return CgroupSupport(True, "process and memory limits")


class Cgroups:
    """A local sandbox's groups, one per controller. ``aclose()`` removes them."""

    def __init__(self, folders: list[Path]) -> None:
        self.folders = folders

    def join(self, argv: list[str]) -> list[str]:
        """A command line that runs ``argv`` in the groups, and all it starts with it."""
        return ["/bin/sh", "-c", f'{_JOIN}; exec "$@"', "sh", *map(str, self.folders), "--", *argv]

    async def aclose(self) -> None:
        """Remove the groups, once their processes are gone. Idempotent."""
        with anyio.CancelScope(shield=True):
            for _ in range(_REMOVE_TRIES):
                self.folders = await anyio.to_thread.run_sync(_remove_all, self.folders)
                if not self.folders:
                    return
                await anyio.sleep(0.02)


async def open_cgroups(*, pids: int, memory: int) -> Cgroups:
    """Make a sandbox's groups with at most ``pids`` processes and ``memory`` bytes.

    Raises:
        OSError: If they cannot be made (call only where ``cgroup_support()`` says so).
    """
    name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    folders = [_ROOT / controller / _GROUP / name for controller in _CONTROLLERS]
    limits = {"pids.max": str(pids), "memory.limit_in_bytes": str(memory)}

    def make() -> None:
        for folder in folders:
            folder.mkdir(parents=True)
            for setting, value in limits.items():
                if (folder / setting).exists():
                    (folder / setting).write_text(value)

    try:
        await anyio.to_thread.run_sync(make)
    except BaseException:
        await Cgroups(folders).aclose()
        raise
    return Cgroups(folders)


def prune_cgroups() -> list[str]:
    """Remove the groups of processes that have ended (blocking); return their names."""
    removed = set()
    for controller in _CONTROLLERS:
        with contextlib.suppress(FileNotFoundError):
            for folder in (_ROOT / controller / _GROUP).iterdir():
                pid = folder.name.split("-", 1)[0]
                if pid.isdigit() and not pid_alive(int(pid)) and _removed(folder):
                    removed.add(folder.name)
    return sorted(removed)


def _remove_all(folders: list[Path]) -> list[Path]:
    """Remove the groups that can be; return those still busy."""
    return [folder for folder in folders if not _removed(folder)]


def _removed(folder: Path) -> bool:
    try:
        folder.rmdir()
    except FileNotFoundError:
        return True
    except OSError:  # busy: a process of it has not been reaped yet
        return False
    return True
