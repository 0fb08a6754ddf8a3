"""``LocalSandbox``: a temporary directory and a local bash, with no isolation at all.

For development and for machines without Docker. Commands run as the current user with
the host's file system and network; absolute paths are host paths. Only the environment
is trimmed, so that the host's secrets (API keys) do not reach the agent's shell.

```
async with await open_local_sandbox() as sb:
    await sb.write_file("hello.py", b"print('hi')")
    result = await sb.exec("python3 hello.py", timeout=10)
```
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import anyio

from researchgym.errors import SandboxClosedError
from researchgym.sandboxes._processes import run_process, spawn_local_helper, spawn_local_shell
from researchgym.sandboxes.agent_files import AgentFiles, helper_argv
from researchgym.sandboxes.base import ExecResult, Sandbox
from researchgym.sandboxes.output import DEFAULT_OUTPUT_CAP
from researchgym.sandboxes.provider import SandboxProvider
from researchgym.sandboxes.shell import DEFAULT_GRACE, ShellSession

if TYPE_CHECKING:
    from collections.abc import Iterable

    from researchgym.sandboxes.base import SandboxSpec

__all__ = ["LocalSandbox", "LocalSandboxes", "open_local_sandbox"]

_HOST_VARIABLES = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")
"""The host variables a local sandbox inherits; everything else must be passed in ``env``."""

_NO_WRITE = ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


async def open_local_sandbox(
    *,
    root: Path | None = None,
    env: dict[str, str] | None = None,
    output_cap: int = DEFAULT_OUTPUT_CAP,
    cpus: Iterable[int] | None = None,
) -> LocalSandbox:
    """Create a temporary workspace and start a shell in it.

    Args:
        root: Where to create the temporary directory (default: the system's temp dir).
        env: Environment variables for the shell and for ``run``, on top of a few host
            ones (``PATH``, ``HOME``, ``LANG``, ...).
        output_cap: Bytes of output kept per command (head and tail halves).
        cpus: The CPUs its processes may run on (default: those of this process). Keeping
            sandboxes off the engine's CPU spares the event loop from being preempted by
            every shell it wakes. A ``run`` program is moved there as soon as it has
            started, so what it starts runs there too.

    Returns:
        The sandbox; close it with ``aclose()`` or use it with ``async with``.

    Raises:
        OSError: If the directory cannot be made or bash cannot be started.
        SandboxBrokenError: If the shell died at once.
    """
    tempdir = Path(
        await anyio.to_thread.run_sync(partial(tempfile.mkdtemp, prefix="rgym-", dir=root))
    )
    workspace = tempdir / "home" / "workspace"
    full_env = {name: os.environ[name] for name in _HOST_VARIABLES if name in os.environ}
    full_env.update(env or {}, HOME=str(workspace.parent))
    try:
        await anyio.to_thread.run_sync(partial(workspace.mkdir, parents=True))
        pinned = frozenset(cpus) if cpus else None
        spawn = partial(spawn_local_shell, cwd=workspace, env=full_env, cpus=pinned)
        session = await ShellSession.open(spawn, output_cap=output_cap)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_remove_tree, tempdir)
        raise
    return LocalSandbox(tempdir, session, env=full_env, output_cap=output_cap, cpus=pinned)


class LocalSandbox(Sandbox):
    """A sandbox in a temporary directory on this machine. It isolates nothing.

    Create one with ``open_local_sandbox``. The temporary directory holds ``home/`` (the
    shell's ``HOME``) with ``workspace/`` in it, the working directory; ``aclose()`` kills
    every process the sandbox started and removes the directory.

    Args:
        tempdir: The temporary directory, removed at close.
        session: The shell, started in ``tempdir / "workspace"``.
        env: The environment ``run`` starts programs with.
        output_cap: Bytes of output kept per ``run`` (head and tail halves).
    """

    def __init__(
        self,
        tempdir: Path,
        session: ShellSession,
        *,
        env: dict[str, str],
        output_cap: int,
        cpus: frozenset[int] | None,
    ) -> None:
        self._tempdir = tempdir
        self._cpus = cpus
        self._workspace = tempdir / "home" / "workspace"
        self._session = session
        self._env = env
        self._output_cap = output_cap
        self._runs: set[anyio.CancelScope] = set()
        spawn = partial(spawn_local_helper, cwd=self._workspace, env=env, cpus=cpus)
        roots = [str(self._workspace.parent)]
        argv = helper_argv(sys.executable, roots=roots, workdir=str(self._workspace))
        self.agent_files = AgentFiles(spawn, argv)

    @property
    def workdir(self) -> PurePosixPath:
        """The workspace directory, where the shell starts and relative paths point."""
        return PurePosixPath(self._workspace)

    @property
    def private_dir(self) -> PurePosixPath:
        """A directory beside the workspace (private by convention only: no isolation)."""
        return PurePosixPath(self._tempdir / "private")

    async def exec(self, command: str, *, timeout: float) -> ExecResult:
        """Run a command in the persistent shell; see ``Sandbox.exec``.

        Raises:
            SandboxBrokenError: If the shell died (for example the command ran ``exit``).
            SandboxClosedError: If the sandbox was closed.
        """
        self._check_open()
        return await self._session.exec(command, timeout=timeout)

    async def run(
        self,
        argv: list[str],
        *,
        timeout: float,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
    ) -> ExecResult:
        """Run a program in a new session, outside the shell; see ``Sandbox.run``.

        A program that cannot be started gives exit status 127 or 126, as in a shell.

        Raises:
            SandboxClosedError: If the sandbox was closed, before or during the run.
        """
        self._check_open()
        scope = anyio.CancelScope()
        self._runs.add(scope)
        try:
            with scope:
                return await run_process(
                    argv,
                    cwd=self._workspace if cwd is None else self._resolve(cwd),
                    env={**self._env, **(env or {})},
                    timeout=timeout,
                    output_cap=self._output_cap,
                    grace=DEFAULT_GRACE,
                    cpus=self._cpus,
                )
        finally:
            self._runs.discard(scope)
        raise SandboxClosedError()

    async def upload(self, source: Path, destination: str, *, read_only: bool = False) -> None:
        """Copy a directory's contents into the sandbox; see ``Sandbox.upload``.

        Symbolic links are copied as links. With ``read_only``, the copied files and
        directories lose their write permission, and so does ``destination`` if this call
        created it (root ignores permissions, so this protects nothing from root).

        Raises:
            FileNotFoundError: If ``source`` does not exist.
            NotADirectoryError: If ``source`` is not a directory.
            SandboxClosedError: If the sandbox was closed.
        """
        self._check_open()
        await anyio.to_thread.run_sync(_copy_tree, source, self._resolve(destination), read_only)

    async def remove(self, path: str) -> None:
        """Remove a file or a directory tree, read-only or not; a missing path is no error.

        Raises:
            SandboxClosedError: If the sandbox was closed.
        """
        self._check_open()
        await anyio.to_thread.run_sync(_remove_tree, self._resolve(path))

    async def aclose(self) -> None:
        """Kill every process of the sandbox and remove its directory. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for scope in self._runs:
            scope.cancel()
        with anyio.CancelScope(shield=True):
            await self.agent_files.aclose()
            await self._session.aclose()
            await anyio.to_thread.run_sync(_remove_tree, self._tempdir)

    def _resolve(self, path: str) -> Path:
        return self._workspace / path


def _copy_tree(source: Path, destination: Path, read_only: bool) -> None:
    if not source.is_dir():
        # Raises FileNotFoundError if missing, else says it is not a directory.
        source.stat()
        raise NotADirectoryError(20, "Not a directory", str(source))
    created = not destination.exists()
    shutil.copytree(source, destination, symlinks=True, dirs_exist_ok=True)
    if not read_only:
        return
    for dirpath, dirnames, filenames in os.walk(source):
        target = destination / Path(dirpath).relative_to(source)
        for name in (*dirnames, *filenames):
            _drop_write(target / name)
    if created:
        _drop_write(destination)


def _drop_write(path: Path) -> None:
    mode = path.lstat().st_mode
    if not stat.S_ISLNK(mode):
        path.chmod(stat.S_IMODE(mode) & _NO_WRITE)


def _remove_tree(path: Path) -> None:
    """Remove a file or tree, restoring write permission where it is missing."""
    try:
        _remove(path)
    except PermissionError:
        _unlock(path.parent)
        if path.is_dir() and not path.is_symlink():
            _unlock_tree(path)
        _remove(path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _unlock_tree(top: Path) -> None:
    # Unlock each directory before listing it, so that even a `chmod 000` one opens.
    stack = [top]
    while stack:
        directory = stack.pop()
        _unlock(directory)
        with os.scandir(directory) as entries:
            stack.extend(Path(e.path) for e in entries if e.is_dir(follow_symlinks=False))


def _unlock(directory: Path) -> None:
    directory.chmod(stat.S_IMODE(directory.stat().st_mode) | stat.S_IRWXU)


class LocalSandboxes(SandboxProvider):
    """Opens local sandboxes; the limits of a ``SandboxSpec`` are not enforced (no isolation).

    Args:
        cpus: The CPUs the sandboxes' processes may run on (default: any).
    """

    kind = "local"

    def __init__(self, *, cpus: Iterable[int] | None = None) -> None:
        self._cpus = list(cpus) if cpus else None

    async def open(self, spec: SandboxSpec, *, name: str | None = None) -> LocalSandbox:
        """Return a new local sandbox (``name`` is not used).

        Raises:
            SandboxBrokenError: If its shell died at once.
            OSError: If its directory or shell cannot be made.
        """
        sandbox = await open_local_sandbox(cpus=self._cpus)
        if spec.data is not None:
            try:
                await sandbox.upload(spec.data, str(sandbox.workdir / "data"), read_only=True)
            except BaseException:
                await sandbox.aclose()
                raise
        return sandbox

    async def aclose(self) -> None:
        """Nothing to release: each sandbox is closed by its episode."""
