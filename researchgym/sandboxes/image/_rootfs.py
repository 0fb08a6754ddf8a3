"""The sandbox's root filesystem, built offline by mmdebstrap from Debian packages, as a tar.

mmdebstrap installs a minimal Debian (``--variant=minbase``) plus the packages of
``files/packages.txt``, with the same two scripts and dpkg settings as the Dockerfile, so
that both ways give the same system:

- ``files/dpkg-excludes.cfg`` keeps documentation, manual pages and translations out;
- ``files/no-pythran.sh`` runs once the essential packages are in, before the others;
- ``files/setup.sh`` runs last (the agent's user, the evaluator's private folder).

mmdebstrap's own ``merged-usr`` hooks set up the merged ``/usr`` as Debian's images have it;
without them apt would pull in ``usrmerge`` and with it perl (about 50 MB).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections import deque
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import anyio

from researchgym.errors import BuildToolMissingError, ImageBuildError
from researchgym.sandboxes.image._apt_sources import SUITE, read_host_sources

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from anyio.abc import Process

__all__ = ["IMAGE_FILES", "build_rootfs", "mmdebstrap_argv", "open_rootfs", "read_packages"]

IMAGE_FILES = Path(__file__).parent / "files"
"""The Dockerfile and the files that both ways of building the image share."""

INSTALL_MMDEBSTRAP = "apt-get install -y mmdebstrap"
_OUTPUT_TAIL = 25
_STOP_GRACE = 30.0
"""Seconds mmdebstrap gets to clean up (unmount, remove its temporary folder) when stopped."""


class Mmdebstrap(NamedTuple):
    """Where mmdebstrap is installed."""

    program: str
    """The program's path."""
    merged_usr_hooks: Path | None
    """Its ``merged-usr`` hook folder, if it has one."""


@asynccontextmanager
async def open_rootfs(*, progress: Callable[[str], None]) -> AsyncIterator[Path]:
    """Build the image's root filesystem into a tar file in a work folder, removed on exit.

    mmdebstrap keeps its own temporary files in the work folder too, so that removing the
    folder removes whatever a stopped mmdebstrap left behind.

    Args:
        progress: Called with a short line at each step mmdebstrap reports.

    Yields:
        The tar file.

    Raises:
        BuildToolMissingError: If mmdebstrap is not installed.
        ImageBuildError: If mmdebstrap fails (the message ends with its last lines).
    """
    folder = Path(await anyio.to_thread.run_sync(tempfile.mkdtemp, "", "researchgym-image-"))
    try:
        # Without root, mmdebstrap works as another user (a user namespace's root), which
        # must be able to enter the folder that holds its temporary root.
        await anyio.Path(folder).chmod(0o755)
        target = folder / "rootfs.tar"
        await build_rootfs(target, progress=progress)
        yield target
    finally:
        with anyio.CancelScope(shield=True):
            left = await anyio.to_thread.run_sync(_remove_unless_mounted, folder)
        if left:
            progress(f"left {folder} behind: {left} is still mounted (umount it, then remove it)")


async def build_rootfs(target: Path, *, progress: Callable[[str], None]) -> None:
    """Build the image's root filesystem into the tar file ``target``.

    Args:
        target: The tar file to write; its folder also receives the apt source files and
            mmdebstrap's temporary files.
        progress: Called with a short line at each step mmdebstrap reports.

    Raises:
        BuildToolMissingError: If mmdebstrap is not installed.
        ImageBuildError: If mmdebstrap fails (the message ends with its last lines).
    """
    tool = await anyio.to_thread.run_sync(find_mmdebstrap)
    mirrors = await anyio.to_thread.run_sync(_write_host_sources, target.parent)
    if not mirrors:
        progress(f"no apt source for Debian {SUITE} on this host: using mmdebstrap's default")
    packages = await anyio.to_thread.run_sync(read_packages)
    argv = mmdebstrap_argv(tool, target, packages=packages, mirrors=mirrors)
    await _run(argv, {**os.environ, "TMPDIR": str(target.parent)}, progress)


def find_mmdebstrap() -> Mmdebstrap:
    """Find mmdebstrap on PATH (blocking).

    Raises:
        BuildToolMissingError: If it is not there.
    """
    program = shutil.which("mmdebstrap")
    if program is None:
        raise BuildToolMissingError("mmdebstrap", INSTALL_MMDEBSTRAP)
    hooks = Path(program).resolve().parent.parent / "share/mmdebstrap/hooks/merged-usr"
    return Mmdebstrap(program, hooks if hooks.is_dir() else None)


def read_packages(path: Path = IMAGE_FILES / "packages.txt") -> list[str]:
    """Read the image's package list: one package a line, ``#`` starts a comment (blocking)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def mmdebstrap_argv(
    tool: Mmdebstrap, target: Path, *, packages: list[str], mirrors: list[Path]
) -> list[str]:
    """Return the mmdebstrap command that builds the root filesystem into ``target``.

    Args:
        tool: The mmdebstrap to run.
        target: The tar file to write.
        packages: The packages to install besides the minimal system.
        mirrors: apt source files (``.list`` or ``.sources``); none for mmdebstrap's default.
    """
    argv = [tool.program, "--variant=minbase", f"--include={','.join(packages)}"]
    if tool.merged_usr_hooks is not None:
        argv.append(f"--hook-dir={tool.merged_usr_hooks}")
    argv += [
        f"--dpkgopt={IMAGE_FILES / 'dpkg-excludes.cfg'}",
        f"--essential-hook={_run_script_hook('no-pythran.sh')}",
        f"--customize-hook={_run_script_hook('setup.sh')}",
        SUITE,
        str(target),
        *map(str, mirrors),
    ]
    return argv


def _run_script_hook(name: str) -> str:
    # A hook is a shell command run outside the new system, with its root folder as $1.
    script = shlex.quote(str(IMAGE_FILES / name))
    inside = f"/tmp/{name}"
    return f'cp {script} "$1{inside}" && chroot "$1" sh {inside} && rm "$1{inside}"'


def _remove_unless_mounted(folder: Path) -> str | None:
    # A killed mmdebstrap may leave /proc, /sys or /dev mounted in its root: deleting through
    # them would reach the host's own. Return the first such mount instead.
    prefix = f"{folder}/"
    with open("/proc/self/mountinfo") as mounts:
        for line in mounts:
            mount_point = line.split()[4]
            if mount_point.startswith(prefix):
                return mount_point
    shutil.rmtree(folder)
    return None


def _write_host_sources(folder: Path) -> list[Path]:
    return read_host_sources().write(folder)


async def _run(argv: list[str], env: dict[str, str], progress: Callable[[str], None]) -> None:
    tail: deque[str] = deque(maxlen=_OUTPUT_TAIL)
    process = await anyio.open_process(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,  # its own process group, for _stop
    )
    try:
        await _follow(process, tail, progress)
        code = await process.wait()
    except BaseException:
        with anyio.CancelScope(shield=True):
            await _stop(process)
        raise
    finally:
        with anyio.CancelScope(shield=True):
            await process.aclose()
    if code != 0:
        raise ImageBuildError(
            "offline",
            f"mmdebstrap exited with status {code}",
            hint=f"Check that this host can install Debian {SUITE} packages with apt "
            "(apt-get update), then build again.",
            output=tuple(tail),
        )


async def _follow(process: Process, tail: deque[str], progress: Callable[[str], None]) -> None:
    assert process.stdout is not None  # opened with stdout=PIPE
    pending = b""
    async for chunk in process.stdout:
        # apt draws its progress with carriage returns: each one ends a line too.
        *lines, pending = (pending + chunk).replace(b"\r", b"\n").split(b"\n")
        for raw in lines:
            line = raw.decode(errors="replace").rstrip()
            if line:
                tail.append(line)
            if line.startswith("I: "):
                progress(f"mmdebstrap: {line[3:]}")
    if pending.strip():
        tail.append(pending.decode(errors="replace").rstrip())


async def _stop(process: Process) -> None:
    # As Ctrl-C would: SIGINT to the whole process group. The apt or dpkg that mmdebstrap is
    # running dies of it, and mmdebstrap, which ignores it while it waits for them, then
    # unmounts what it mounted and removes its temporary root. Killing mmdebstrap alone
    # would leave those behind, so SIGKILL is only the last resort.
    _signal_group(process, signal.SIGINT)
    with anyio.move_on_after(_STOP_GRACE):
        await process.wait()
    _signal_group(process, signal.SIGKILL)
    await process.wait()


def _signal_group(process: Process, number: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # all gone already
        os.killpg(process.pid, number)
