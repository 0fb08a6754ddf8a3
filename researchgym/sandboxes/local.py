"""``LocalSandbox``: a sandbox on this machine, without Docker, isolated where it can be.

A local sandbox's writable places are three host folders, ``home/`` (with ``workspace/``
in it), ``tmp/`` and ``private/``, in a temporary folder or, when researchgym runs as root
and the sandbox has a disk size, on a disk of its own (``disk.py``). Where bubblewrap
runs, every process of the sandbox runs in namespaces of its own and sees only a view of
the host made for it (``_isolation.py``): the agent at ``/home/agent/workspace``, as
``nobody`` when researchgym runs as root, with no network, and the evaluator's directory
out of its sight. Elsewhere it isolates nothing: commands run as the current user with the
host's file system and network, and paths are host paths; only the environment is
trimmed, so that the host's secrets (API keys) do not reach the agent's shell. Process and
memory limits hold where the sandbox is isolated under root, in control groups of its own
(``_cgroup.py``); CPU limits never do. ``local_isolation()`` says which applies.

```
async with await open_local_sandbox() as sb:
    await sb.write_file("hello.py", b"print('hi')")
    result = await sb.exec("python3 hello.py", timeout=10)
```
"""

from __future__ import annotations

import os
import sys
import tempfile
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import anyio

from researchgym.errors import SandboxClosedError, SandboxError
from researchgym.sandboxes._cgroup import Cgroups, cgroup_support, open_cgroups
from researchgym.sandboxes._isolation import (
    AGENT_HOME,
    NOBODY,
    PRIVATE_DIR,
    WORKDIR,
    WRAPPERS,
    View,
    local_isolation,
)
from researchgym.sandboxes._local_tree import copy_tree, read_host_file, remove_tree
from researchgym.sandboxes._processes import run_process, spawn_local_helper, spawn_local_shell
from researchgym.sandboxes.agent_files import AgentFiles, helper_argv
from researchgym.sandboxes.base import (
    DEFAULT_READ_LIMIT,
    REMOVE_AS_OWNER,
    ExecResult,
    Sandbox,
    memory_bytes,
)
from researchgym.sandboxes.disk import SandboxDisk, disk_support, make_places, open_disk
from researchgym.sandboxes.output import DEFAULT_OUTPUT_CAP
from researchgym.sandboxes.provider import SandboxProvider
from researchgym.sandboxes.shell import DEFAULT_GRACE, SHELL_ARGV, ShellSession

if TYPE_CHECKING:
    from collections.abc import Iterable

    from anyio.abc import ByteStream

    from researchgym.sandboxes.base import SandboxSpec
    from researchgym.sandboxes.provider import ProviderOptions

__all__ = ["LocalSandbox", "LocalSandboxes", "local_provider", "open_local_sandbox"]

_HOST_VARIABLES = ("PATH", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
"""The host variables a local sandbox inherits; everything else must be passed in ``env``."""


async def open_local_sandbox(
    *,
    root: Path | None = None,
    env: dict[str, str] | None = None,
    output_cap: int = DEFAULT_OUTPUT_CAP,
    cpus: Iterable[int] | None = None,
    data: Path | None = None,
    disk: int | None = None,
    pids: int | None = None,
    memory: int | None = None,
    isolate: bool | None = None,
) -> LocalSandbox:
    """Make a sandbox's folders and start its shell.

    Args:
        root: Where to make the temporary folder (default: the system's temp folder).
        env: Environment variables for the shell and for ``run``, on top of a few host
            ones (``PATH``, ``LANG``, ...); ``HOME`` and ``TMPDIR`` are the sandbox's.
        output_cap: Bytes of output kept per command (head and tail halves).
        cpus: The CPUs its processes may run on (default: those of this process). Keeping
            sandboxes off the engine's CPU spares the event loop from being preempted by
            every shell it wakes. A ``run`` program is moved there as soon as it has
            started, so what it starts runs there too.
        data: A host folder that appears read-only as ``workdir/data``.
        disk: Bytes of disk, enforced where disks are supported (root; else ignored).
        pids: Processes at once, and
        memory: bytes of memory, enforced together where the sandbox is isolated and
            control groups are supported (root; else ignored).
        isolate: Run under bubblewrap (None: wherever it runs here).

    Returns:
        The sandbox; close it with ``aclose()`` or use it with ``async with``.

    Raises:
        SandboxError: If ``isolate`` is asked for and bubblewrap does not run here, or a
            disk cannot be made.
        OSError: If the folders cannot be made or bash cannot be started.
        SandboxBrokenError: If the shell died at once.
    """
    isolation = await anyio.to_thread.run_sync(local_isolation)
    if isolate and not isolation.namespaces:
        raise SandboxError(f"Local sandboxes cannot be isolated here: {isolation.detail}.")
    isolated = isolation.namespaces if isolate is None else isolate
    as_nobody = isolated and isolation.user
    places = await _open_places(root, disk if as_nobody else None, NOBODY if as_nobody else None)
    try:
        view = View(places.home, places.tmp, places.private, data, as_nobody) if isolated else None
        groups = await anyio.to_thread.run_sync(cgroup_support)
        if as_nobody and pids and memory and groups.enforced:
            places.cgroups = await open_cgroups(pids=pids, memory=memory)
        sandbox = LocalSandbox(places, view, env=env or {}, output_cap=output_cap, cpus=cpus)
        if view is None and data is not None:
            await sandbox.upload(data, str(sandbox.workdir / "data"), read_only=True)
        await sandbox.start()
    except BaseException:
        with anyio.CancelScope(shield=True):
            await places.aclose()
        raise
    return sandbox


class _Places:
    """A sandbox's writable host folders (a temporary folder or a disk), and its groups."""

    def __init__(self, root: Path, disk: SandboxDisk | None) -> None:
        self.root = root
        self.disk = disk
        self.home, self.tmp, self.private = root / "home", root / "tmp", root / "private"
        self.cgroups: Cgroups | None = None

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            if self.cgroups is not None:
                await self.cgroups.aclose()
            if self.disk is not None:
                await self.disk.aclose()
            else:
                await anyio.to_thread.run_sync(remove_tree, self.root)


async def _open_places(
    root: Path | None, disk: int | None, owner: tuple[int, int] | None
) -> _Places:
    if disk is not None and (await anyio.to_thread.run_sync(disk_support)).enforced:
        made = await open_disk(disk, owner=owner or (os.getuid(), os.getgid()))
        return _Places(made.mount, made)
    folder = Path(await anyio.to_thread.run_sync(partial(tempfile.mkdtemp, "", "rgym-", root)))
    try:
        await anyio.to_thread.run_sync(make_places, folder, owner)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(remove_tree, folder)
        raise
    return _Places(folder, None)


class LocalSandbox(Sandbox):
    """A sandbox on this machine. Create one with ``open_local_sandbox``.

    ``aclose()`` kills every process the sandbox started and removes its folders.
    """

    def __init__(
        self,
        places: _Places,
        view: View | None,
        *,
        env: dict[str, str],
        output_cap: int,
        cpus: Iterable[int] | None,
    ) -> None:
        self._places = places
        self._view = view
        self._cpus = frozenset(cpus) if cpus else None
        self._output_cap = output_cap
        self._runs: set[anyio.CancelScope] = set()
        self._session: ShellSession | None = None
        if view is None:  # no isolation: the sandbox sees the host's paths
            self._mapping = {
                PurePosixPath(places.home): places.home,
                PurePosixPath(places.private): places.private,
            }
            self._env = _host_env(PATH=os.environ.get("PATH", "/usr/bin:/bin"))
            self._env.update(HOME=str(places.home), TMPDIR=str(places.tmp))
        else:
            self._mapping = {AGENT_HOME: places.home, PRIVATE_DIR: places.private}
            path = f"{sys.prefix}/bin:/usr/local/bin:/usr/bin:/bin"
            self._env = _host_env(PATH=path, HOME=str(AGENT_HOME), TMPDIR="/tmp")
        self._env.update(env)
        # A trusted program's home is its private directory, and Python's user site is off:
        # nothing the agent left in its home (a usercustomize.py) runs in the evaluator.
        self._trusted_env = {"HOME": str(self.private_dir), "PYTHONNOUSERSITE": "1"}
        self._workdir = PurePosixPath(places.home / "workspace") if view is None else WORKDIR
        home = str(self._workdir.parent)
        argv = helper_argv(sys.executable, roots=[home], workdir=str(self._workdir))
        self.agent_files = AgentFiles(self._spawn_helper, self._wrap(argv))

    async def start(self) -> None:
        """Start the shell (``open_local_sandbox`` does)."""
        spawn = partial(
            spawn_local_shell,
            argv=self._wrap(list(SHELL_ARGV)),
            wrappers=0 if self._view is None else WRAPPERS,
            cwd=self._host_cwd(self._workdir),
            env=self._env,
            cpus=self._cpus,
        )
        self._session = await ShellSession.open(spawn, output_cap=self._output_cap)

    @property
    def workdir(self) -> PurePosixPath:
        """The workspace, where the shell starts and relative paths point."""
        return self._workdir

    @property
    def private_dir(self) -> PurePosixPath:
        """The evaluator's folder: out of the agent's sight where the sandbox is isolated."""
        return PRIVATE_DIR if self._view is not None else PurePosixPath(self._places.private)

    @property
    def agent_user(self) -> str | None:
        """``nobody`` where the agent runs as nobody (researchgym runs as root), else None."""
        return "nobody" if self._view is not None and self._view.as_nobody else None

    @property
    def disk(self) -> SandboxDisk | None:
        """The sandbox's disk, or None where it has none."""
        return self._places.disk

    async def exec(self, command: str, *, timeout: float) -> ExecResult:
        """Run a command in the persistent shell; see ``Sandbox.exec``.

        Raises:
            SandboxBrokenError: If the shell died (for example the command ran ``exit``).
            SandboxClosedError: If the sandbox was closed.
        """
        self._check_open()
        assert self._session is not None, "start() first"
        return await self._session.exec(command, timeout=timeout)

    async def run(
        self,
        argv: list[str],
        *,
        timeout: float,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
    ) -> ExecResult:
        """Run a trusted program in a new session, outside the shell; see ``Sandbox.run``.

        Where the sandbox is isolated, it runs in the sandbox's view with the private
        directory, as root where researchgym runs as root. A program that cannot be started
        gives exit status 127 or 126, as in a shell.

        Raises:
            SandboxClosedError: If the sandbox was closed, before or during the run.
        """
        self._check_open()
        where = self._absolute(cwd or ".")
        scope = anyio.CancelScope()
        self._runs.add(scope)
        try:
            with scope:
                return await run_process(
                    self._wrap(argv, cwd=where, trusted=True),
                    cwd=self._host_cwd(where),
                    env={**self._env, **self._trusted_env, **(env or {})},
                    timeout=timeout,
                    output_cap=self._output_cap,
                    grace=DEFAULT_GRACE,
                    cpus=self._cpus,
                )
        finally:
            self._runs.discard(scope)
        raise SandboxClosedError()

    async def read_private(self, path: str, *, limit: int = DEFAULT_READ_LIMIT) -> bytes:
        """Return a file under the private directory, read on the host; see the contract.

        Raises:
            FileNotFoundError: If there is no such file.
            FileTooLargeError: If it is larger than ``limit`` bytes.
            SpecialFileError: If it is not a regular file.
            ValueError: If ``path`` does not lie under ``private_dir``.
            SandboxClosedError: If the sandbox was closed.
        """
        self._check_open()
        host = self._host(self._private(path))
        return await anyio.to_thread.run_sync(partial(read_host_file, host, limit=limit))

    async def upload(self, source: Path, destination: str, *, read_only: bool = False) -> None:
        """Copy a host folder's contents into the sandbox; see ``Sandbox.upload``.

        Symbolic links are copied as links. The copy is the agent's, or, with
        ``read_only``, loses its write permission (and so does ``destination`` if this call
        made it); under the private directory it stays the engine's.

        Raises:
            FileNotFoundError: If ``source`` does not exist.
            NotADirectoryError: If ``source`` is not a directory.
            SandboxClosedError: If the sandbox was closed.
        """
        self._check_open()
        target = self._absolute(destination)
        private = target == self.private_dir or self.private_dir in target.parents
        owner = NOBODY if self.agent_user and not private else None
        copy = partial(copy_tree, read_only=read_only, owner=owner)
        await anyio.to_thread.run_sync(copy, source, self._host(target))

    async def remove(self, path: str) -> None:
        """Remove a file or a folder tree, read-only or not; a missing path is no error.

        As the agent where it runs as nobody, except under the private directory.

        Raises:
            SandboxError: If it cannot be removed.
            SandboxClosedError: If the sandbox was closed.
        """
        self._check_open()
        target = self._absolute(path)
        private = target == self.private_dir or self.private_dir in target.parents
        if private or self.agent_user is None:  # its own, or the same rights as the agent
            await anyio.to_thread.run_sync(remove_tree, self._host(target))
            return
        removed = await run_process(
            self._wrap([*REMOVE_AS_OWNER, str(target)]),
            cwd=self._host_cwd(self._workdir),
            env=self._env,
            timeout=_REMOVE_DEADLINE,
            output_cap=self._output_cap,
            grace=DEFAULT_GRACE,
            cpus=self._cpus,
        )
        if removed.exit_code != 0:
            raise SandboxError(f"Could not remove {path} in the sandbox: {removed.output}")

    async def aclose(self) -> None:
        """Kill every process of the sandbox and remove its folders. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for scope in self._runs:
            scope.cancel()
        with anyio.CancelScope(shield=True):
            await self.agent_files.aclose()
            if self._session is not None:
                await self._session.aclose()
            await self._places.aclose()

    def _wrap(
        self, argv: list[str], *, cwd: PurePosixPath | None = None, trusted: bool = False
    ) -> list[str]:
        if self._view is None:
            return argv
        if trusted:
            argv = _AS_SHELL + argv
        wrapped = self._view.wrap(argv, cwd=str(cwd or self._workdir), trusted=trusted)
        if self._places.cgroups is not None:
            wrapped = self._places.cgroups.join(wrapped)
        if self._cpus:  # bubblewrap forks at once: pin it before it starts, not after
            return ["taskset", "--cpu-list", ",".join(map(str, sorted(self._cpus))), *wrapped]
        return wrapped

    def _host_cwd(self, path: PurePosixPath) -> Path:
        """Where a process starts on the host (bubblewrap then enters ``path`` itself)."""
        return self._host(path) if self._view is None else Path("/")

    async def _spawn_helper(self, argv: list[str]) -> ByteStream:
        cwd = self._host_cwd(self._workdir)
        return await spawn_local_helper(argv, cwd=cwd, env=self._env, cpus=self._cpus)

    def _absolute(self, path: str) -> PurePosixPath:
        return self._workdir / path

    def _host(self, path: PurePosixPath) -> Path:
        """The host path of a sandbox path in its home or private directory.

        Raises:
            SandboxError: If ``path`` lies elsewhere.
        """
        for inside, host in self._mapping.items():
            if path == inside or inside in path.parents:
                return host / path.relative_to(inside)
        raise SandboxError(f"{path} is neither in the sandbox's home nor its private folder.")


_REMOVE_DEADLINE = 60.0
"""Seconds removing an agent's tree may take."""

_AS_SHELL = ["/bin/sh", "-c", 'exec "$0" "$@"']
"""Starts a program as a shell would, so that a missing one gives 127 (bubblewrap gives 1)."""


def _host_env(**fixed: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in _HOST_VARIABLES if name in os.environ}
    env.update(fixed)
    return env


class LocalSandboxes(SandboxProvider):
    """Opens local sandboxes, isolated where bubblewrap runs (``local_isolation``).

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
            SandboxError: If its disk cannot be made.
            OSError: If its folders or shell cannot be made.
        """
        return await open_local_sandbox(
            cpus=self._cpus,
            data=spec.data,
            disk=memory_bytes(spec.disk),
            pids=spec.pids,
            memory=memory_bytes(spec.memory),
        )

    async def aclose(self) -> None:
        """Nothing to release: each sandbox is closed by its episode."""


def local_provider(options: ProviderOptions) -> LocalSandboxes:
    """The ``local`` backend of ``SANDBOXES``: local sandboxes on ``options.cpus``."""
    return LocalSandboxes(cpus=options.cpus)
