"""What a local sandbox isolates: bubblewrap namespaces, an unprivileged user, a disk.

Every process of an isolated local sandbox (the agent's shell, the file helper, the
evaluator) starts under bubblewrap (``bwrap``), in mount, PID, network, IPC and UTS
namespaces of its own, and sees a file system made for it::

    /usr /etc /bin /lib...     the host's, read-only
    <Python prefixes>          the Python that runs researchgym, read-only (researchgym's
                               own package, with the built-in tasks' eval/, hidden)
    /home/agent                the agent's home (HOME), with the workspace in it
    /home/agent/workspace/data the task's data, read-only
    /tmp, /var/tmp             the sandbox's own
    /var/lib/researchgym       the evaluator's directory: trusted processes only
    /proc, /dev                the namespace's own

Nothing else of the host is there: not the task folders, not the run's database, not
the user's home. No network but loopback. When the PID namespace's first process ends,
the kernel kills every process left in it, so no process of a sandbox outlives it,
whatever it forked or ``setsid`` it ran.

When researchgym runs as root, the agent's processes also run as ``nobody`` with no
capabilities and no way to gain any (``setpriv``), and the sandbox's writable places lie on
a disk of its own (``disk.py``); trusted processes run as root with only the capabilities
the evaluator needs to run the agent's code as the agent. Run as another user, the agent's
processes and the evaluator share that user.

Without bubblewrap (or where the kernel refuses it unprivileged user namespaces), a local
sandbox isolates nothing; ``local_isolation()`` says why.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from researchgym.sandboxes._cgroup import cgroup_support

__all__ = [
    "AGENT_HOME",
    "NOBODY",
    "PRIVATE_DIR",
    "WORKDIR",
    "WRAPPERS",
    "LocalIsolation",
    "View",
    "local_isolation",
]

AGENT_HOME = PurePosixPath("/home/agent")
WORKDIR = AGENT_HOME / "workspace"
PRIVATE_DIR = PurePosixPath("/var/lib/researchgym")
WRAPPERS = 2
"""Processes between the one started and the program: bubblewrap, and its PID 1 in the
namespace (``setpriv`` becomes the program it starts)."""
NOBODY = (65534, 65534)
"""The user and group the agent's processes run as when researchgym runs as root."""

_SYSTEM = ("/usr", "/etc")
_TOP_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
"""Top-level folders that merged-/usr systems make links into /usr."""
_PACKAGE = Path(__file__).resolve().parents[1]
"""researchgym's own package folder: hidden from the sandbox (the built-in tasks' eval/)."""
_NAMESPACES = ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts")
"""Not the user namespace under root: the agent's user (nobody) must be the host's."""
_TRUSTED_CAPABILITIES = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL")
_SHM_SIZE = 64 * 2**20
_PROBE_DEADLINE = 30


class LocalIsolation(NamedTuple):
    """What local sandboxes isolate on this host."""

    namespaces: bool
    """Whether their processes run under bubblewrap (see the module's docstring)."""
    user: bool
    """Whether the agent's processes run as ``nobody`` (researchgym runs as root)."""
    detail: str
    """What they isolate, or why nothing, and what to do about it."""


@functools.cache
def local_isolation() -> LocalIsolation:
    """Find out, once per process, what local sandboxes isolate here (blocking)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return LocalIsolation(
            False, False, "bubblewrap is not installed (apt-get install bubblewrap)"
        )
    try:
        done = subprocess.run(
            [bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
            capture_output=True,
            text=True,
            timeout=_PROBE_DEADLINE,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return LocalIsolation(False, False, f"bubblewrap does not run here ({e})")
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()[-1:] or ["no message"]
        return LocalIsolation(False, False, f"bubblewrap does not run here: {said[0]}")
    root = os.geteuid() == 0
    who = "as nobody" if root else "as this user (run as root to separate them)"
    _system_binds()  # looked up here, in a worker thread, and never on the event loop
    groups = cgroup_support()
    limits = groups.detail if groups.enforced else f"no process or memory limits ({groups.detail})"
    return LocalIsolation(True, root, f"namespaces of their own, the agent {who}, {limits}")


class View(NamedTuple):
    """The file system and user of an isolated local sandbox's processes."""

    home: Path
    """The host folder shown as ``/home/agent``."""
    tmp: Path
    """The host folder shown as ``/tmp`` and ``/var/tmp``."""
    private: Path
    """The host folder shown as ``/var/lib/researchgym`` to trusted processes."""
    data: Path | None
    """The task's data, shown read-only as ``/home/agent/workspace/data``."""
    as_nobody: bool
    """Whether the agent's processes run as ``nobody`` (researchgym runs as root)."""

    def wrap(self, argv: list[str], *, cwd: str, trusted: bool = False) -> list[str]:
        """The command line that runs ``argv`` in this view, in ``cwd`` (a view path).

        Args:
            argv: The program and its arguments.
            cwd: Its working directory, as the sandbox sees it.
            trusted: Run it as a trusted process (the evaluator): it sees the private
                directory and, under root, keeps the capabilities to run the agent's code as
                the agent; else it runs as the agent.
        """
        command = ["bwrap", "--die-with-parent", *_NAMESPACES, "--hostname", "sandbox"]
        if not self.as_nobody:  # unprivileged: bubblewrap needs a user namespace too
            command.append("--unshare-user")
        binds = [("--bind", self.home, AGENT_HOME), ("--bind", self.tmp, PurePosixPath("/tmp"))]
        binds.append(("--bind", self.tmp, PurePosixPath("/var/tmp")))
        if self.data is not None:
            binds.append(("--ro-bind", self.data, WORKDIR / "data"))
        if trusted:
            binds.append(("--bind", self.private, PRIVATE_DIR))
        command += _system_binds()
        command += ["--proc", "/proc", "--dev", "/dev"]
        command += ["--perms", "1777", "--size", str(_SHM_SIZE), "--tmpfs", "/dev/shm"]
        command += _parents([str(target) for _, _, target in binds if target != WORKDIR / "data"])
        for kind, source, target in binds:
            command += [kind, str(source), str(target)]
        command += ["--chdir", cwd]
        if not self.as_nobody:
            return [*command, "--", *argv]
        if trusted:
            command += ["--cap-drop", "ALL"]
            for capability in _TRUSTED_CAPABILITIES:
                command += ["--cap-add", capability]
            return [*command, "--", *argv]
        uid, gid = NOBODY
        drop = [
            "setpriv",
            f"--reuid={uid}",
            f"--regid={gid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
        ]
        return [*command, "--", *drop, "--", *argv]


def _parents(targets: list[str], *, made: tuple[str, ...] = ()) -> list[str]:
    """Folders to make (mode 0755) before mounting on ``targets``.

    bubblewrap would make the missing ones 0700, which the agent could not pass through.
    """
    command: list[str] = []
    seen = set(made)
    for target in targets:
        for parent in reversed(PurePosixPath(target).parents[:-1]):
            if str(parent) not in seen:
                seen.add(str(parent))
                command += ["--perms", "0755", "--dir", str(parent)]
    return command


@functools.cache
def _system_binds() -> tuple[str, ...]:
    """The read-only host folders of every view, and researchgym's package hidden."""
    binds: list[str] = []
    for path in _SYSTEM:
        binds += ["--ro-bind", path, path]
    for name in _TOP_LINKS:
        top = Path("/") / name
        if top.is_symlink():
            binds += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            binds += ["--ro-bind", str(top), str(top)]
    shown = list(_SYSTEM)
    for prefix in sorted({sys.prefix, sys.base_prefix, os.path.dirname(sys.executable)}):
        if not any(_within(prefix, bound) for bound in shown):
            binds += [*_parents([prefix], made=tuple(shown)), "--ro-bind", prefix, prefix]
            shown.append(prefix)
    if any(_within(str(_PACKAGE), bound) for bound in shown):
        binds += ["--tmpfs", str(_PACKAGE)]
    return tuple(binds)


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")
