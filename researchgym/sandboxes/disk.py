"""Disk limits: a sandbox's writable places on a file system of its own, of a fixed size.

Docker's overlay2 driver limits a container's writable layer only on xfs with project
quotas, which most daemons lack (this machine's runs overlay2 on ext4). So every sandbox
gets an ext4 file system of its own, made in a sparse file and mounted through a loop
device, holding everything the sandbox may write: the agent's home (with the workspace),
``/tmp`` and the evaluator's private directory. The rest of a Docker sandbox is read-only.
An agent that fills its disk gets "No space left on device" in its own sandbox, and the
host gives at most the disk's size: the file is sparse, grows as the agent writes, and gets
space back when files are deleted (the file system is mounted with ``discard``). Making
one costs about 20 ms (``mkfs.ext4`` with lazy initialisation, then a mount).

This takes root on the host where the sandboxes run (a local Docker daemon bind-mounts the
disk's folders), ``mkfs.ext4`` and loop devices. Where one is missing, ``disk_support()``
says which, sandboxes have no disk limit, and ``sandbox status`` and each run say so.

Each disk lives in ``DISK_ROOT/<pid>-<random>/`` (the file ``disk.img`` and the mount point
``mnt/``), named after the process that made it, so that ``prune_disks`` can remove what a
killed run left behind.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import NamedTuple

import anyio
from anyio.abc import AsyncResource

from researchgym._host import pid_alive
from researchgym.errors import SandboxError

__all__ = [
    "DEFAULT_DISK",
    "DISK_ROOT",
    "DiskSupport",
    "SandboxDisk",
    "disk_support",
    "make_places",
    "open_disk",
    "prune_disks",
]

DISK_ROOT = Path("/var/lib/researchgym/disks")
"""Where the sandboxes' disks are made and mounted, on the host."""

DEFAULT_DISK = "4g"
"""A sandbox's disk, unless the task or the run asks for another size."""

_MKFS = [
    "mkfs.ext4",
    "-q",
    "-F",
    "-m",
    "0",  # no blocks reserved for root: the evaluator has its own folder
    "-O",
    "^has_journal",  # scratch space: nothing to recover after a crash
    "-E",
    "lazy_itable_init=1,lazy_journal_init=1,nodiscard",
]
_MOUNT_OPTIONS = "loop,discard,nodev,nosuid"
_PROBE_SIZE = 16 * 2**20
_COMMAND_DEADLINE = 60


class DiskSupport(NamedTuple):
    """Whether sandboxes get disk limits on this host."""

    enforced: bool
    detail: str
    """How (where the disks go), or why not and what to do about it."""


class SandboxDisk(AsyncResource):
    """A mounted disk of one sandbox: ``home/``, ``tmp/`` and ``private/`` on it.

    ``home/`` (with ``home/workspace/``) belongs to the agent's user, ``tmp/`` is
    world-writable with the sticky bit, as ``/tmp`` is, and ``private/`` is root's only.
    ``aclose()`` unmounts it and deletes it, with everything on it.
    """

    def __init__(self, folder: Path, size: int) -> None:
        self.folder = folder
        self.size = size
        """Bytes."""
        self._closed = False

    @property
    def mount(self) -> Path:
        """Where the file system is mounted."""
        return self.folder / "mnt"

    @property
    def home(self) -> Path:
        """The agent's home; the workspace is ``home/workspace``."""
        return self.mount / "home"

    @property
    def tmp(self) -> Path:
        """The sandbox's ``/tmp``."""
        return self.mount / "tmp"

    @property
    def private(self) -> Path:
        """The evaluator's directory."""
        return self.mount / "private"

    async def aclose(self) -> None:
        """Unmount the disk and delete it. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_remove, self.folder)


async def open_disk(size: int, *, owner: tuple[int, int]) -> SandboxDisk:
    """Make and mount a disk of ``size`` bytes whose ``home/`` belongs to ``owner``.

    Args:
        size: Its size in bytes.
        owner: The agent's user and group ids.

    Raises:
        SandboxError: If it cannot be made or mounted (the message says why).
    """
    folder = DISK_ROOT / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    try:
        await anyio.to_thread.run_sync(_make, folder, size, owner)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_remove, folder)
        raise
    return SandboxDisk(folder, size)


@functools.cache
def disk_support() -> DiskSupport:
    """Find out, once per process, whether disks can be made here (blocking: ~30 ms)."""
    if os.geteuid() != 0:
        return DiskSupport(False, "disks need root (to mount them); run researchgym as root")
    if shutil.which("mkfs.ext4") is None or shutil.which("mount") is None:
        return DiskSupport(False, "mkfs.ext4 or mount is missing: apt-get install e2fsprogs mount")
    folder = DISK_ROOT / f"{os.getpid()}-probe-{uuid.uuid4().hex[:8]}"
    try:
        _make(folder, _PROBE_SIZE, (0, 0))
    except SandboxError as e:
        return DiskSupport(False, str(e))
    finally:
        _remove(folder)
    return DiskSupport(True, f"each sandbox has an ext4 disk of its own, under {DISK_ROOT}")


def prune_disks() -> list[Path]:
    """Remove the disks whose process has ended (blocking); return their folders."""
    removed = []
    with contextlib.suppress(FileNotFoundError):
        for folder in sorted(DISK_ROOT.iterdir()):
            pid = folder.name.split("-", 1)[0]
            if pid.isdigit() and not pid_alive(int(pid)):
                _remove(folder)
                removed.append(folder)
    return removed


def _make(folder: Path, size: int, owner: tuple[int, int]) -> None:
    image, mount = folder / "disk.img", folder / "mnt"
    mount.mkdir(parents=True, mode=0o700)
    with open(image, "wb") as file:
        file.truncate(size)  # sparse: blocks are given as they are written
    _command([*_MKFS, str(image)], "make the sandbox's disk")
    _command(["mount", "-o", _MOUNT_OPTIONS, str(image), str(mount)], "mount the sandbox's disk")
    make_places(mount, owner)


def make_places(root: Path, owner: tuple[int, int] | None) -> None:
    """Make a sandbox's writable places in ``root`` (blocking; see ``SandboxDisk``).

    Args:
        root: An empty folder.
        owner: The agent's user and group, who gets ``home/``; None: this process's.
    """
    home = root / "home"
    (home / "workspace").mkdir(parents=True)
    for path in (home, home / "workspace"):
        if owner is not None:
            os.chown(path, *owner)
        path.chmod(0o755)
    (root / "tmp").mkdir()
    (root / "tmp").chmod(0o1777)
    (root / "private").mkdir(mode=0o700)


def _remove(folder: Path) -> None:
    mount = folder / "mnt"
    if mount.is_dir() and os.path.ismount(mount):
        done = subprocess.run(["umount", str(mount)], capture_output=True, check=False)
        if done.returncode != 0:  # still busy: detach it now, it goes when the last user does
            subprocess.run(["umount", "--lazy", str(mount)], capture_output=True, check=False)
    shutil.rmtree(folder, ignore_errors=True)


def _command(argv: list[str], what: str) -> None:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=_COMMAND_DEADLINE, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SandboxError(f"Could not {what}: {e}") from e
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no message"]
        raise SandboxError(f"Could not {what}: {argv[0]} said: {said[0]}")
