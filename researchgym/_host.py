"""This host: its name, its processes, and how many files this process may open.

Whether a process of it (of another run, say) still lives; the open-file limit a run of
many episodes needs raised.

Shared by every layer that records or checks which process owns something: a run's row,
a sandbox's container, disk or control group.
"""

from __future__ import annotations

import os
import resource
import socket

__all__ = ["hostname", "pid_alive", "process_alive", "raise_open_files_limit"]

_NR_OPEN = 1 << 20
"""Linux's default ceiling on open files per process (fs.nr_open): where the hard limit is
unlimited, the soft one can go no higher."""


def hostname() -> str:
    """This host's name, as stored with what a process owns."""
    return socket.gethostname()


def pid_alive(pid: int) -> bool:
    """Whether a process of this host (of any user) has the id ``pid``, and is no zombie.

    A killed process whose parent has not reaped it yet is gone all the same.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            stat = file.read()
    except OSError:
        return True  # no /proc here: the signal's answer stands
    return stat[stat.rindex(b")") + 2 :][:1] != b"Z"


def process_alive(host: str | None, pid: int | None) -> bool | None:
    """Whether the process ``pid`` of ``host`` lives.

    Returns:
        None if it cannot be told from here: another host's, or no process named.
    """
    if not host or pid is None or host != hostname():
        return None
    return pid_alive(pid)


def raise_open_files_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit, as far as it goes.

    Many systems start processes at 1,024 open files (the soft limit) while allowing far
    more (the hard limit); a run of many episodes needs them.

    Returns:
        The soft limit now.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = _NR_OPEN if hard == resource.RLIM_INFINITY else hard
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):  # a container may forbid it; the soft limit stands
            return soft
        return target
    return soft
