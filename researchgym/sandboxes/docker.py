"""``DockerSandbox``: one container per episode, driven through the Docker Engine API.

The agent's persistent shell is a ``docker exec`` of bash as the unprivileged ``agent`` user
with an attached stdin stream, spoken to with the same ``ShellSession`` protocol as the local
backend. Trusted work (the evaluator) runs in fresh execs as root, in ``/var/lib/researchgym``
(mode 0700, so the agent cannot read it). The agent's files are read and written by a
helper that runs as the agent (``AgentFiles``); trusted files (the workspace laid out before
the agent starts, the evaluator's) move as tar streams through the API.

The container itself only sleeps (``docker-init`` reaps orphans). It runs with no network
unless asked, memory, CPU and PID limits, every capability dropped and no-new-privileges,
and a read-only root file system: the agent's home (with the workspace), ``/tmp``,
``/var/tmp`` and the private directory are the only places anything may write, and they lie
on the sandbox's disk (``disk.py``) where disks are supported, else on volumes of their own
that go with the container.
Without capabilities root cannot signal the agent's processes, so killing them (a command's
timeout) is done as the agent, by a small script that finds the shell's descendants by an
environment variable only they carry.

asyncio only (aiodocker).
"""

from __future__ import annotations

import uuid
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import aiodocker
import aiohttp
import anyio

from researchgym.errors import SandboxBrokenError, SandboxError
from researchgym.sandboxes._docker_exec import (
    AGENT_HOME,
    AGENT_UID,
    AGENT_USER,
    WORKDIR,
    DockerShell,
    drain,
    exit_code,
    kill,
    marker_env,
    oom_kills,
    spawn_helper,
)
from researchgym.sandboxes._docker_files import only_file, put_archive, tree_tar
from researchgym.sandboxes.agent_files import AgentFiles, helper_argv
from researchgym.sandboxes.base import (
    DEFAULT_READ_LIMIT,
    REMOVE_AS_OWNER,
    ExecResult,
    Sandbox,
    SandboxSpec,
    memory_bytes,
)
from researchgym.sandboxes.output import DEFAULT_OUTPUT_CAP, CappedOutput
from researchgym.sandboxes.shell import DEFAULT_GRACE, ShellSession

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aiodocker.containers import DockerContainer

    from researchgym.sandboxes.disk import SandboxDisk

__all__ = ["AGENT_UID", "DockerSandbox", "container_config", "start_docker_sandbox"]

PRIVATE_DIR = PurePosixPath("/var/lib/researchgym")
_WRITABLE = (AGENT_HOME, PurePosixPath("/tmp"), PurePosixPath("/var/tmp"), PRIVATE_DIR)
"""The places a sandbox may write: the agent's home, /tmp, /var/tmp, the private directory."""


def container_config(
    spec: SandboxSpec,
    *,
    image: str,
    labels: Mapping[str, str],
    cpuset: list[int] | None = None,
    disk: SandboxDisk | None = None,
) -> dict[str, Any]:
    """Return the Engine API's create-container body for a sandbox.

    Args:
        spec: What the episode asks of its sandbox.
        image: The sandbox image.
        labels: Labels for clean-up and bookkeeping.
        cpuset: CPUs the container may run on (default: any).
        disk: The sandbox's disk, which holds every place it may write (default: none,
            anonymous volumes instead, with no limit).

    Raises:
        ValueError: If ``spec.memory`` is not a memory size.
    """
    memory = memory_bytes(spec.memory)
    host: dict[str, Any] = {
        "NetworkMode": "bridge" if spec.network else "none",
        "Memory": memory,
        "MemorySwap": memory,  # no swap on top
        "NanoCpus": int(spec.cpus * 1e9),
        "PidsLimit": spec.pids,
        "CapDrop": ["ALL"],
        # Root's only (the agent's processes get none, and no-new-privileges keeps them from
        # gaining any): an evaluator runs the agent's code as the agent, and kills it.
        "CapAdd": ["SETUID", "SETGID", "KILL"],
        "SecurityOpt": ["no-new-privileges"],
        "Init": True,
        "ReadonlyRootfs": True,
        "Mounts": _writable_places(disk),
    }
    if cpuset:
        host["CpusetCpus"] = ",".join(map(str, cpuset))
    if spec.data is not None:
        # A read-only mount, not a copy: the agent can neither change nor rename it, and
        # every episode shares one copy. The daemon must see the path (a local daemon).
        host["Mounts"].append(_bind(spec.data, WORKDIR / "data", read_only=True))
    if spec.gpus:
        host["DeviceRequests"] = [{"Driver": "", "Count": spec.gpus, "Capabilities": [["gpu"]]}]
    return {
        "Image": image,
        "Cmd": ["sleep", "infinity"],
        "WorkingDir": str(WORKDIR),
        "Labels": dict(labels),
        "NetworkDisabled": not spec.network,
        "HostConfig": host,
    }


def _writable_places(disk: SandboxDisk | None) -> list[dict[str, Any]]:
    if disk is None:  # anonymous volumes: filled from the image, removed with the container
        return [{"Type": "volume", "Target": str(target)} for target in _WRITABLE]
    sources = (disk.home, disk.tmp, disk.tmp, disk.private)
    return [_bind(source, target) for source, target in zip(sources, _WRITABLE, strict=True)]


def _bind(source: Path, target: PurePosixPath, *, read_only: bool = False) -> dict[str, Any]:
    return {"Type": "bind", "Source": str(source), "Target": str(target), "ReadOnly": read_only}


async def start_docker_sandbox(
    docker: aiodocker.Docker,
    config: dict[str, Any],
    *,
    output_cap: int = DEFAULT_OUTPUT_CAP,
    memory: str = "",
    name: str | None = None,
    disk: SandboxDisk | None = None,
) -> DockerSandbox:
    """Create and start a container, and open the agent's shell in it.

    Args:
        docker: The Docker client.
        config: The create-container body (see ``container_config``).
        output_cap: Bytes of output kept per command (head and tail halves).
        memory: The memory limit, for the message when a command runs out of it.
        name: The container's name (default: Docker's choice).
        disk: The disk ``config`` mounts; the sandbox owns it from now on (it is removed
            with the sandbox, or at once if the start fails).

    Raises:
        SandboxError: If the container cannot be created or started (the message says why).
    """
    container: DockerContainer | None = None
    try:
        container = await docker.containers.create(config=config, name=name)
        await container.start()
        session = await ShellSession.open(
            lambda: DockerShell.spawn(container), output_cap=output_cap
        )
    except BaseException as e:
        with anyio.CancelScope(shield=True):
            if container is not None:
                await _delete(container)
            if disk is not None:
                await disk.aclose()
        what = "create" if container is None else "start"
        if isinstance(e, aiodocker.DockerError):
            raise SandboxError(f"Docker could not {what} the sandbox: {e.message}") from e
        if isinstance(e, aiohttp.ClientError | OSError):
            raise SandboxError(f"Docker could not {what} the sandbox: {e}") from e
        raise
    return DockerSandbox(container, session, output_cap=output_cap, memory=memory, disk=disk)


class DockerSandbox(Sandbox):
    """A sandbox in a Docker container. Open one with ``start_docker_sandbox``."""

    def __init__(
        self,
        container: DockerContainer,
        session: ShellSession,
        *,
        output_cap: int,
        memory: str,
        disk: SandboxDisk | None = None,
    ) -> None:
        self.container = container
        self.disk = disk
        """The sandbox's disk, or None where disks are not supported."""
        self._session = session
        self._output_cap = output_cap
        self._memory = memory
        self._oom_kills = 0  # a new container's memory cgroup has killed nothing yet
        argv = helper_argv("python3", roots=[str(AGENT_HOME)], workdir=str(WORKDIR))
        self.agent_files = AgentFiles(partial(spawn_helper, container), argv)

    @property
    def workdir(self) -> PurePosixPath:
        """``/home/agent/workspace``, owned by the agent."""
        return WORKDIR

    @property
    def private_dir(self) -> PurePosixPath:
        """``/var/lib/researchgym``: root's, mode 0700."""
        return PRIVATE_DIR

    @property
    def agent_user(self) -> str:
        """``agent``: the shell's user; ``run`` runs as root."""
        return AGENT_USER

    async def exec(self, command: str, *, timeout: float) -> ExecResult:
        """Run a command in the agent's shell; see ``Sandbox.exec``.

        A command the kernel killed because the sandbox ran out of memory says so.

        Raises:
            SandboxBrokenError: If the shell died (for example the command ran ``exit``).
            SandboxClosedError: If the sandbox was closed.
        """
        self._check_open()
        result = await self._session.exec(command, timeout=timeout)
        if result.exit_code == 137 and not result.timed_out:
            kills = await oom_kills(self.container)
            if kills > self._oom_kills:
                self._oom_kills = kills
                note = f"\n[Killed: the sandbox ran out of memory (its limit is {self._memory}).]"
                result = result._replace(output=result.output + note)
        return result

    async def run(
        self,
        argv: list[str],
        *,
        timeout: float,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
    ) -> ExecResult:
        """Run a program as root in a fresh exec, outside the shell; see ``Sandbox.run``.

        Raises:
            SandboxBrokenError: If the container cannot run processes any more.
            SandboxClosedError: If the sandbox was closed.
        """
        self._check_open()
        return await self._exec_run(argv, user="root", timeout=timeout, cwd=cwd, env=env)

    async def _exec_run(
        self,
        argv: list[str],
        *,
        user: str,
        timeout: float = 60.0,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
    ) -> ExecResult:
        # As for a local run: the program's exit ends the run (a child still holding its
        # output gets `grace` seconds, then dies), and a timeout kills all it started. Other
        # leftovers live until the container is removed with the sandbox; killing them after
        # every run would cost a second exec per run.
        marker = f"RGYM_RUN={uuid.uuid4().hex}"
        started = anyio.current_time()
        output = CappedOutput(self._output_cap)
        execution = await self._exec(
            argv,
            user=user,
            workdir=self._path(cwd or "."),
            env={**(env or {}), **marker_env(marker, user=user)},
        )
        ended = anyio.Event()
        async with execution.start(detach=False) as stream, anyio.create_task_group() as tg:
            tg.start_soon(drain, stream, output, ended)
            with anyio.move_on_after(timeout) as scope:
                code = await exit_code(execution, ended)
            if scope.cancelled_caught:
                await kill(self.container, marker, began="all", user=user)
                code = 137
            with anyio.move_on_after(DEFAULT_GRACE):
                await ended.wait()
            tg.cancel_scope.cancel()
        if not ended.is_set():  # something it started still holds the output
            await kill(self.container, marker, began="all", user=user)
        capped = output.text()
        if code == 126 and "executable file not found" in capped.text:
            code = 127  # as a shell says it (Docker's runtime says 126)
        return ExecResult(
            exit_code=code,
            output=capped.text,
            timed_out=scope.cancelled_caught,
            truncated=capped.truncated,
            duration=anyio.current_time() - started,
        )

    async def read_private(self, path: str, *, limit: int = DEFAULT_READ_LIMIT) -> bytes:
        """Return a file under the private directory, through the Engine API; see the contract.

        Raises:
            FileNotFoundError: If there is no such file.
            FileTooLargeError: If it is larger than ``limit`` bytes.
            SpecialFileError: If it is not a regular file.
            ValueError: If ``path`` does not lie under ``private_dir``.
            SandboxClosedError: If the sandbox was closed.
        """
        self._check_open()
        target = self._private(path)
        try:
            archive = await self.container.get_archive(str(target))
        except aiodocker.DockerError as e:
            if e.status == 404:
                raise FileNotFoundError(path) from None
            raise SandboxBrokenError(f"the container's files cannot be read ({e.message})") from e
        return await anyio.to_thread.run_sync(partial(only_file, archive, path, limit=limit))

    async def upload(self, source: Path, destination: str, *, read_only: bool = False) -> None:
        """Copy a host directory's contents into the sandbox; see ``Sandbox.upload``.

        Files are the agent's, or root's and read-only with ``read_only`` (the agent can
        neither change nor delete them); under ``private_dir`` they are root's only.

        Raises:
            FileNotFoundError: If ``source`` does not exist.
            NotADirectoryError: If ``source`` is not a directory.
            SandboxClosedError: If the sandbox was closed.
        """
        self._check_open()
        target = self._path(destination)
        private = target == PRIVATE_DIR or PRIVATE_DIR in target.parents
        mode = "private" if private else "read_only" if read_only else "agent"
        owner = "root" if private else AGENT_USER
        if target in _WRITABLE:  # a mount point, in a read-only folder: fill it as it is
            archive = await anyio.to_thread.run_sync(tree_tar, source, None, mode)
            await self._put_archive(target, archive, owner=owner)
            return
        archive = await anyio.to_thread.run_sync(tree_tar, source, target.name, mode)
        await self._put_archive(target.parent, archive, owner=owner)

    async def remove(self, path: str) -> None:
        """Remove a file or a directory tree (as root); see ``Sandbox.remove``.

        Raises:
            SandboxClosedError: If the sandbox was closed.
        """
        self._check_open()
        target = self._path(path)
        private = target == PRIVATE_DIR or PRIVATE_DIR in target.parents
        result = await self._exec_run(
            [*REMOVE_AS_OWNER, str(target)], user="root" if private else AGENT_USER
        )
        if result.exit_code != 0:
            raise SandboxError(f"Could not remove {path} in the sandbox: {result.output}")

    async def aclose(self) -> None:
        """End the shell and remove the container. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with anyio.CancelScope(shield=True):
            try:
                await self.agent_files.aclose()
                await _delete(self.container)  # ends every process in it, the shell's too
            finally:
                await self._session.aclose()
                if self.disk is not None:
                    await self.disk.aclose()

    def _path(self, path: str) -> PurePosixPath:
        return WORKDIR / path

    async def _exec(
        self, argv: list[str], *, user: str, workdir: PurePosixPath, env: dict[str, str]
    ) -> Any:
        try:
            return await self.container.exec(
                argv, stdin=False, user=user, workdir=str(workdir), environment=env
            )
        except aiodocker.DockerError as e:
            raise SandboxBrokenError(f"the container cannot run processes ({e.message})") from e

    async def _put_archive(self, directory: PurePosixPath, archive: bytes, *, owner: str) -> None:
        """Unpack ``archive`` in ``directory``, creating it (as ``owner``) if it is missing.

        Only the archive's own entries are touched: the directories above keep their owner
        and mode (a read-only ``data/`` stays read-only).
        """
        for attempt in range(2):
            try:
                await put_archive(self.container, directory, archive)
                return
            except aiodocker.DockerError as e:
                if "non-directory" in e.message:
                    raise IsADirectoryError(e.message) from None
                if e.status != 404 or attempt:
                    message = f"the container's files cannot be written ({e.message})"
                    raise SandboxBrokenError(message) from e
            made = await self._exec_run(["mkdir", "-p", "--", str(directory)], user=owner)
            if made.exit_code != 0:
                raise PermissionError(f"{directory}: {made.output.strip()}")


async def _delete(container: DockerContainer) -> None:
    try:
        await container.delete(force=True, v=True)  # v: its anonymous volumes too
    except aiodocker.DockerError as e:
        if e.status != 404:  # already gone is fine
            raise SandboxError(f"Could not remove the sandbox container: {e.message}") from e
