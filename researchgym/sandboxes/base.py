"""The Sandbox contract: where an episode's commands run and its files live.

A sandbox has one persistent shell (``exec``): commands go into one long-lived bash, so that
``cd`` and variables persist between them. Trusted code (the evaluator) runs outside that
session with ``run``, in a fresh process the agent's shell state cannot reach. Paths are
absolute, or relative to ``workdir``.

Failures the agent causes (a command that fails, times out or prints too much) are results,
not errors. A sandbox that cannot go on raises ``SandboxBrokenError``; one used after
``aclose()`` raises ``SandboxClosedError``; file operations raise the stdlib's ``OSError``
family (``FileNotFoundError``, ``IsADirectoryError``, ...).

Trust: ``read_file``, ``write_file`` and ``exists`` act on the agent's files with the
agent's own rights, inside the sandbox (``AgentFiles``), confined to its workspace and home;
the agent may have shaped anything they return. ``upload`` and ``remove`` under
``private_dir`` are the engine's own, for trusted paths no agent can write (the evaluator's
directory, a workspace laid out before the agent's first command).
"""

from __future__ import annotations

import errno
import re
from abc import abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from anyio.abc import AsyncResource

from researchgym.errors import SandboxClosedError

if TYPE_CHECKING:
    from pathlib import Path, PurePosixPath

    from researchgym.sandboxes.agent_files import AgentFiles

__all__ = [
    "DEFAULT_READ_LIMIT",
    "REMOVE_AS_OWNER",
    "ExecResult",
    "FileTooLargeError",
    "OutsideSandboxError",
    "Sandbox",
    "SandboxSpec",
    "SpecialFileError",
    "memory_bytes",
]

REMOVE_AS_OWNER = ["sh", "-c", 'chmod -R u+rwx -- "$1" 2>/dev/null; rm -rf -- "$1"', "-"]
"""Removes the tree whose path follows, as its owner: who may unlock what it locked (chmod
000) first, where root without capabilities could not, and who never acts through a link
with more rights than the agent's."""

DEFAULT_READ_LIMIT = 32 * 2**20
"""Bytes ``read_file`` returns at most, unless the caller gives another limit."""


class FileTooLargeError(OSError):
    """A file larger than a read's limit; nothing of it was read."""

    def __init__(self, path: str, *, size: int | None, limit: int) -> None:
        found = "more" if size is None else f"{size} bytes"
        super().__init__(errno.EFBIG, f"{found}, over the limit of {limit} bytes", path)
        self.size = size
        """Its size, as the sandbox reported it (None if unknown)."""
        self.limit = limit


class SpecialFileError(OSError):
    """Not a regular file: a FIFO, a socket or a device, which the file API never opens."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EINVAL, "not a regular file", path)


class OutsideSandboxError(PermissionError):
    """A path that leads out of the agent's workspace and home."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EACCES, "outside the workspace and home", path)


class ExecResult(NamedTuple):
    """What one command did."""

    exit_code: int
    """The command's exit status (128 + N when killed by signal N)."""
    output: str
    """stdout and stderr interleaved, decoded as UTF-8 with replacement, capped."""
    timed_out: bool
    """True if the command was killed at its timeout."""
    truncated: bool
    """True if the middle of the output was cut out to respect the cap."""
    duration: float
    """Seconds from sending the command to its end."""
    cwd: str | None = None
    """The shell's working directory after the command (``exec`` only; None if unknown)."""


_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def memory_bytes(memory: str) -> int:
    """Parse a Docker-style memory size.

    >>> memory_bytes("512m"), memory_bytes("2g")
    (536870912, 2147483648)

    Raises:
        ValueError: If the size is not a number with an optional unit (b, k, m, g, t).
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)b?\s*", memory.lower())
    if match is None:
        raise ValueError(f"'{memory}' is not a memory size; write it like 512m or 2g.")
    return int(float(match[1]) * _UNITS[match[2]])


@dataclass(frozen=True)
class SandboxSpec:
    """What an episode asks of its sandbox. Backends without isolation ignore the limits."""

    cpus: float = 1.0
    """CPU cores (a quota, not a placement)."""
    memory: str = "2g"
    """Memory limit, Docker-style: 512m, 4g."""
    gpus: int = 0
    """GPUs to pass through."""
    network: bool = False
    """Whether the sandbox may reach the network."""
    pids: int = 1024
    """Processes it may hold at once: enough for builds and data loaders, not a fork bomb."""
    disk: str = "4g"
    """Space for everything the sandbox writes (home, workspace, /tmp), Docker-style; where
    disks are supported (``disk_support``)."""
    data: Path | None = None
    """A host directory that appears read-only as ``workdir/data`` (the task's inputs)."""


class Sandbox(AsyncResource):
    """An isolated place with a persistent shell and a file system.

    Use it as an async context manager; ``aclose()`` ends every process it started.
    """

    @property
    @abstractmethod
    def workdir(self) -> PurePosixPath:
        """The agent's working directory, where the shell starts."""

    @property
    @abstractmethod
    def private_dir(self) -> PurePosixPath:
        """A directory the agent cannot read: where trusted files (the evaluator) go."""

    @property
    def agent_user(self) -> str | None:
        """The agent's user, where trusted programs (``run``) run as another; else None.

        An evaluator runs the agent's code as this user.
        """
        return None

    @abstractmethod
    async def exec(self, command: str, *, timeout: float) -> ExecResult:
        """Run a command in the persistent shell.

        Args:
            command: Bash source, one or more lines. Its stdin is /dev/null.
            timeout: Seconds before the command's processes are killed.

        Returns:
            The result; a timeout gives ``timed_out=True`` and the session stays usable.

        Raises:
            SandboxBrokenError: If the shell died (for example the command ran ``exit``).
            SandboxClosedError: If the sandbox was closed.
        """

    @abstractmethod
    async def run(
        self,
        argv: list[str],
        *,
        timeout: float,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
    ) -> ExecResult:
        """Run a program in a fresh process, outside the agent's shell session.

        Args:
            argv: The program and its arguments.
            timeout: Seconds before the process group is killed.
            cwd: Working directory (default: ``workdir``).
            env: Extra environment variables.

        Returns:
            The result, as for ``exec``.

        Raises:
            SandboxBrokenError: If the sandbox cannot start processes any more.
            SandboxClosedError: If the sandbox was closed.
        """

    _closed = False
    agent_files: AgentFiles
    """The agent's files, through a helper running as the agent (set by the backend)."""

    async def read_file(self, path: str, *, limit: int = DEFAULT_READ_LIMIT) -> bytes:
        """Return a regular file's content, read as the agent.

        Links are followed as the agent would follow them; the file reached must lie in
        the agent's workspace or home. Nothing is read of a file over ``limit`` bytes.

        Raises:
            FileNotFoundError: If there is no such file.
            IsADirectoryError: If the path is a directory.
            PermissionError: If the agent may not read it.
            OutsideSandboxError: If it lies outside the agent's workspace and home.
            SpecialFileError: If it is a FIFO, a socket or a device.
            FileTooLargeError: If it is larger than ``limit`` bytes.
            OSError: For the rest (too many links; the sandbox's file helper failed).
            SandboxClosedError: If the sandbox was closed.
        """
        self._check_open()
        return await self.agent_files.read(path, limit=limit)

    async def write_file(self, path: str, data: bytes, *, exclusive: bool = False) -> None:
        """Write a regular file as the agent, creating it and its parent directories.

        An existing file is rewritten in place: it keeps its mode. The file must lie in the
        agent's workspace or home, after its links are followed as the agent.

        Args:
            path: The file.
            data: Its new content.
            exclusive: Refuse if anything exists at ``path`` (even a dangling link).

        Raises:
            FileExistsError: With ``exclusive``, if something exists at ``path``.
            IsADirectoryError: If the path is a directory.
            PermissionError: If the agent may not write it.
            OutsideSandboxError: If it lies outside the agent's workspace and home.
            SpecialFileError: If it is a FIFO, a socket or a device.
            OSError: For the rest (no space left; the sandbox's file helper failed).
            SandboxClosedError: If the sandbox was closed.
        """
        self._check_open()
        await self.agent_files.write(path, data, exclusive=exclusive)

    async def exists(self, path: str) -> bool:
        """Return True if the agent sees a file or directory at ``path`` (or a dangling link).

        Raises:
            OSError: If the sandbox's file helper failed.
            SandboxClosedError: If the sandbox was closed.
        """
        self._check_open()
        return await self.agent_files.exists(path)

    def _check_open(self) -> None:
        if self._closed:
            raise SandboxClosedError()

    def _private(self, path: str) -> PurePosixPath:
        """``path`` (absolute, or relative to ``workdir``), checked to be in ``private_dir``.

        Raises:
            ValueError: If it does not.
        """
        target = self.workdir / path
        if self.private_dir not in target.parents:
            raise ValueError(f"{path} is not under the private directory {self.private_dir}.")
        return target

    @abstractmethod
    async def read_private(self, path: str, *, limit: int = DEFAULT_READ_LIMIT) -> bytes:
        """Return a file under ``private_dir``, read with the engine's rights.

        Only trusted programs write there (the evaluator's result), so no path of the
        agent's is involved; the read is as cheap as the backend allows.

        Raises:
            FileNotFoundError: If there is no such file.
            FileTooLargeError: If it is larger than ``limit`` bytes (nothing is read).
            SpecialFileError: If it is not a regular file.
            ValueError: If ``path`` does not lie under ``private_dir``.
            SandboxClosedError: If the sandbox was closed.
        """

    @abstractmethod
    async def upload(self, source: Path, destination: str, *, read_only: bool = False) -> None:
        """Copy a host directory's contents into the sandbox, with the engine's rights.

        Only for trusted destinations: ``private_dir``, or the workspace before the agent's
        first command.

        Args:
            source: A directory on the host.
            destination: Where its contents go (created if missing).
            read_only: Make the copied files read-only.

        Raises:
            FileNotFoundError: If ``source`` does not exist.
            SandboxClosedError: If the sandbox was closed.
        """

    @abstractmethod
    async def remove(self, path: str) -> None:
        """Remove a file or a directory tree; a missing path is not an error.

        As the agent, except under ``private_dir``.

        Raises:
            SandboxClosedError: If the sandbox was closed.
        """

    @abstractmethod
    async def aclose(self) -> None:
        """End every process of the sandbox and release its resources. Idempotent."""
