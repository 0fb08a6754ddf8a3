"""This host: its name, and whether a process of it (of another run, say) still lives.

Shared by every layer that records or checks which process owns something: a run's row,
a sandbox's container, disk or control group.
"""

from __future__ import annotations

import os
import socket

__all__ = ["hostname", "pid_alive", "process_alive"]


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
