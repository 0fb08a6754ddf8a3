"""The Docker provider: one connection, a limit on concurrent starts, a warm pool, clean-up.

Starting many containers at once is the known failure mode of large runs (the daemon
serialises much of the work and times out), so starts have a limit of their own, apart from
the limit on running episodes. A warm pool keeps up to ``pool_size`` started sandboxes per
``SandboxSpec`` ready, but never more than the episodes announced with ``expect`` will use,
so that an episode gets its sandbox without waiting for a start.

Every container is labelled with the run and the process that owns it, so that
``prune_sandboxes`` can remove what a crashed run left behind without touching live runs.
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import aiodocker
import aiohttp
import anyio

from researchgym._host import hostname, pid_alive
from researchgym.errors import ImageMissingError, SandboxError
from researchgym.sandboxes._cgroup import prune_cgroups
from researchgym.sandboxes._docker_exec import AGENT_UID
from researchgym.sandboxes.base import memory_bytes
from researchgym.sandboxes.disk import disk_support, open_disk, prune_disks
from researchgym.sandboxes.docker import DockerSandbox, container_config, start_docker_sandbox
from researchgym.sandboxes.docker_api import open_docker
from researchgym.sandboxes.image import image_name
from researchgym.sandboxes.provider import SandboxProvider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from anyio.abc import TaskGroup

    from researchgym.sandboxes.base import SandboxSpec
    from researchgym.sandboxes.provider import ProviderOptions

__all__ = [
    "DockerSandboxes",
    "PoolStatistics",
    "PruneResult",
    "docker_provider",
    "open_docker_sandboxes",
    "prune_sandboxes",
]

LABEL_MANAGED = "researchgym.managed"
LABEL_RUN = "researchgym.run"
LABEL_OWNER = "researchgym.owner"
"""``<host>:<pid>`` of the process that started the container."""
LABEL_NAME = "researchgym.episode"
"""The episode a container was started for (warm containers are only renamed)."""


def _container_name(name: str) -> str:
    """A Docker-valid container name: [a-zA-Z0-9][a-zA-Z0-9_.-]*."""
    cleaned = re.sub(r"[^a-zA-Z0-9_.-]", "-", name)
    return cleaned if cleaned[:1].isalnum() else f"rgym-{cleaned}"


async def _rename(sandbox: DockerSandbox, name: str) -> None:
    # A name is a convenience, not a need: failing to give it must not fail the run.
    with contextlib.suppress(aiodocker.DockerError, aiohttp.ClientError, OSError):
        await sandbox.container.rename(name)


def _owner() -> str:
    return f"{hostname()}:{os.getpid()}"


@dataclass
class _Pool:
    ready: collections.deque[DockerSandbox] = field(default_factory=collections.deque)
    expected: int = 0
    """Sandboxes still to be asked for."""
    starting: int = 0
    settled: anyio.Event = field(default_factory=anyio.Event)
    """Set (and replaced) whenever a start for the pool ends."""


class PoolStatistics(NamedTuple):
    """The warm pool of one ``SandboxSpec``."""

    ready: int
    """Started sandboxes waiting to be taken."""
    starting: int
    """Sandboxes being started for the pool."""
    expected: int
    """Sandboxes still to be asked for."""


class DockerSandboxes(SandboxProvider):
    """Opens Docker sandboxes for one run. Get one from ``open_docker_sandboxes``."""

    kind = "docker"

    def __init__(
        self,
        docker: aiodocker.Docker,
        task_group: TaskGroup,
        *,
        image: str,
        run_id: str,
        cpus: list[int] | None,
        pool_size: int,
        concurrent_starts: int,
        disks: bool,
    ) -> None:
        self._docker = docker
        self._disks = disks
        self._tg = task_group
        self._image = image
        self._labels = {LABEL_MANAGED: "1", LABEL_RUN: run_id, LABEL_OWNER: _owner()}
        self._cpus = cpus
        self._pool_size = pool_size
        self._starts = anyio.CapacityLimiter(concurrent_starts)
        self._pools: dict[SandboxSpec, _Pool] = {}

    async def open(self, spec: SandboxSpec, *, name: str | None = None) -> DockerSandbox:
        """Return a started sandbox: a warm one if the pool has one, else a new one.

        Args:
            spec: What the sandbox must offer.
            name: The container's name (a warm container is renamed, in the background).

        Raises:
            SandboxError: If the container cannot be created or started.
        """
        pool = self._pools.setdefault(spec, _Pool())
        pool.expected = max(pool.expected - 1, 0)
        while not pool.ready and pool.starting:  # a start for the pool is under way: take it
            await pool.settled.wait()
        if pool.ready:
            sandbox = pool.ready.popleft()
            self._fill(spec, pool)
            if name:
                self._tg.start_soon(_rename, sandbox, _container_name(name))
            return sandbox
        return await self._start(spec, name=name)

    def expect(self, spec: SandboxSpec, count: int) -> None:
        """Announce ``count`` more sandboxes fitting ``spec``; the pool starts some ahead."""
        pool = self._pools.setdefault(spec, _Pool())
        pool.expected += count
        self._fill(spec, pool)

    async def warm(self, spec: SandboxSpec, count: int) -> None:
        """Announce ``count`` sandboxes fitting ``spec`` and wait until the pool is full."""
        self.expect(spec, count)
        pool = self._pools[spec]
        while pool.starting:
            await pool.settled.wait()

    def statistics(self, spec: SandboxSpec) -> PoolStatistics:
        """Return the state of the warm pool for ``spec``."""
        pool = self._pools.get(spec, _Pool())
        return PoolStatistics(len(pool.ready), pool.starting, pool.expected)

    async def aclose(self) -> None:
        """Stop filling the pool and remove the warm sandboxes nobody took."""
        self._tg.cancel_scope.cancel()
        with anyio.CancelScope(shield=True):
            for pool in self._pools.values():
                while pool.ready:
                    with contextlib.suppress(SandboxError):  # remove the others all the same
                        await pool.ready.popleft().aclose()

    def _fill(self, spec: SandboxSpec, pool: _Pool) -> None:
        want = min(self._pool_size, pool.expected)
        while len(pool.ready) + pool.starting < want:
            pool.starting += 1
            self._tg.start_soon(self._start_into, spec, pool)

    async def _start_into(self, spec: SandboxSpec, pool: _Pool) -> None:
        try:
            pool.ready.append(await self._start(spec))
        except SandboxError:
            pass  # the episode that needs a sandbox starts its own and reports the error
        finally:
            pool.starting -= 1
            pool.settled.set()
            pool.settled = anyio.Event()

    async def _start(self, spec: SandboxSpec, *, name: str | None = None) -> DockerSandbox:
        labels = {**self._labels, LABEL_NAME: name} if name else self._labels
        named = _container_name(name) if name else None
        async with self._starts:
            owner = (AGENT_UID, AGENT_UID)
            disk = await open_disk(memory_bytes(spec.disk), owner=owner) if self._disks else None
            config = container_config(
                spec, image=self._image, labels=labels, cpuset=self._cpus, disk=disk
            )
            return await start_docker_sandbox(
                self._docker, config, memory=spec.memory, name=named, disk=disk
            )


@asynccontextmanager
async def open_docker_sandboxes(
    *,
    run_id: str,
    cpus: list[int] | None = None,
    image: str | None = None,
    pool_size: int = 0,
    concurrent_starts: int = 8,
) -> AsyncIterator[DockerSandboxes]:
    """Connect to Docker and open the provider of a run's sandboxes.

    Raises:
        DockerUnavailableError: If no Docker daemon answers.
        ImageMissingError: If the image is not built.
    """
    image = image or image_name()
    disks = (await anyio.to_thread.run_sync(disk_support)).enforced
    async with open_docker() as docker:
        try:
            await docker.images.inspect(image)
        except aiodocker.DockerError as e:
            if e.status == 404:
                raise ImageMissingError(image) from None
            raise SandboxError(f"Docker cannot inspect the image {image}: {e.message}") from e
        async with anyio.create_task_group() as tg:
            provider = DockerSandboxes(
                docker,
                tg,
                image=image,
                run_id=run_id,
                cpus=cpus,
                pool_size=pool_size,
                concurrent_starts=concurrent_starts,
                disks=disks,
            )
            try:
                yield provider
            finally:
                await provider.aclose()


def docker_provider(options: ProviderOptions) -> AbstractAsyncContextManager[DockerSandboxes]:
    """The ``docker`` backend of ``SANDBOXES``: ``open_docker_sandboxes`` with ``options``."""
    return open_docker_sandboxes(
        run_id=options.run_id,
        cpus=options.cpus,
        image=options.image,
        pool_size=options.pool_size,
        concurrent_starts=options.concurrent_starts,
    )


class PruneResult(NamedTuple):
    """What ``prune_sandboxes`` did."""

    removed: list[str]
    """Names of the containers removed."""
    kept: list[str]
    """Names of the containers kept because the process that owns them still runs."""
    disks: list[str]
    """Sandbox disks removed because the process that made them has ended."""
    groups: list[str]
    """Local sandboxes' control groups removed because their process has ended."""


async def prune_sandboxes(*, run_id: str | None = None, everything: bool = False) -> PruneResult:
    """Remove the sandbox containers, disks and control groups crashed runs left behind.

    A container is kept, unless ``everything``, while the process that started it still
    runs on this host, or when another host started it (its process cannot be checked
    from here: a daemon may be shared). A disk is removed once the process that made it
    has ended, whatever ``run_id`` and ``everything`` say: it is in use until then.

    Args:
        run_id: Only the containers of this run.
        everything: Remove live runs' containers too.

    Raises:
        DockerUnavailableError: If no Docker daemon answers.
    """
    removed: list[str] = []
    kept: list[str] = []
    labels = [f"{LABEL_MANAGED}=1"] + ([f"{LABEL_RUN}={run_id}"] if run_id else [])
    async with open_docker() as docker:
        containers = await docker.containers.list(all=True, filters={"label": labels})
        owners = [container["Labels"].get(LABEL_OWNER, "") for container in containers]
        alive = await anyio.to_thread.run_sync(lambda: [_alive(owner) for owner in owners])
        for container, owned in zip(containers, alive, strict=True):
            name = (container["Names"] or [container.id])[0].lstrip("/")
            if not everything and owned:
                kept.append(name)
                continue
            try:
                await container.delete(force=True, v=True)
            except aiodocker.DockerError as e:
                if e.status != 404:
                    raise SandboxError(f"Could not remove {name}: {e.message}") from e
            removed.append(name)
    disks = await anyio.to_thread.run_sync(prune_disks)
    groups = await anyio.to_thread.run_sync(prune_cgroups)
    return PruneResult(removed, kept, [disk.name for disk in disks], groups)


def _alive(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != hostname():
        return bool(host)  # another host's: it may well be running
    return pid.isdigit() and pid_alive(int(pid))
