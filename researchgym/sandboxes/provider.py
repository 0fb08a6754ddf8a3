"""Providers: what opens the sandboxes of a run, chosen by name.

``open_sandboxes("docker" | "local" | "auto" | <plug-in>, ...)`` gives a
``SandboxProvider``; an episode asks it for a sandbox fitting its task (``SandboxSpec``) and
closes the sandbox itself. The provider owns what the sandboxes share: a Docker connection,
the limit on concurrent starts, the warm pool.

``SANDBOXES`` holds the backends by name: a backend is a callable ``(ProviderOptions) ->
async context manager of a SandboxProvider`` (a ``SandboxProvider`` class taking the options
is one). Plug-ins add theirs by entry points of the group ``researchgym.sandboxes``;
``researchgym.testing.check_sandbox`` says whether a backend keeps the contract.
"""

from __future__ import annotations

import importlib
from abc import abstractmethod
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, NamedTuple

import anyio
from anyio.abc import AsyncResource

from researchgym.plugins import Registry

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from researchgym.sandboxes.base import Sandbox, SandboxSpec

__all__ = [
    "SANDBOXES",
    "ProviderFactory",
    "ProviderOptions",
    "SandboxChoice",
    "SandboxKind",
    "SandboxProvider",
    "choose_sandboxes",
    "open_sandboxes",
    "remove_leftovers",
]

SandboxKind = str
"""docker: a container per episode; local: a temporary directory, isolated where bubblewrap
runs; auto: docker wherever a Docker daemon answers, else local; or a plug-in's name, or
``module:attribute`` (see ``SANDBOXES``)."""


class SandboxChoice(NamedTuple):
    """Which sandboxes a run gets, and what they protect."""

    kind: str
    because: str | None
    """Why ``auto`` chose it (None when the kind was asked for)."""
    protects: str
    """What the sandboxes enforce here: isolation, disk limits."""

    def describe(self) -> str:
        """One line for the top of a run: the kind, why, and what it protects."""
        why = f" ({self.because})" if self.because else ""
        return f"Sandboxes: {self.kind}{why}; {self.protects}."


async def choose_sandboxes(kind: SandboxKind) -> SandboxChoice:
    """Settle ``auto`` (docker where a daemon answers, else local) and say what that gives.

    Raises:
        DockerUnavailableError: If ``kind`` is docker and no daemon answers.
    """
    if kind not in ("auto", "docker", "local"):
        await anyio.to_thread.run_sync(SANDBOXES.get, kind)  # a plug-in: known, and imports
        return SandboxChoice(kind, None, f"what the provider {kind} enforces")
    await _imported("_isolation", "disk")
    from researchgym.sandboxes._isolation import local_isolation
    from researchgym.sandboxes.disk import disk_support

    disks = await anyio.to_thread.run_sync(disk_support)
    limits = "disk limits enforced" if disks.enforced else f"no disk limits: {disks.detail}"
    because = None
    if kind != "local":
        problem = await _docker_problem()
        if problem is None:
            because = "a Docker daemon answers" if kind == "auto" else None
            return SandboxChoice("docker", because, f"containers, {limits}")
        if kind == "docker":
            from researchgym.errors import DockerUnavailableError

            raise DockerUnavailableError(problem)
        because = f"auto: no Docker daemon answers, {problem}"
    isolation = await anyio.to_thread.run_sync(local_isolation)
    if not isolation.namespaces:
        return SandboxChoice("local", because, f"no isolation at all: {isolation.detail}")
    return SandboxChoice("local", because, f"{isolation.detail}, {limits}")


class SandboxProvider(AsyncResource):
    """Opens the sandboxes of one run."""

    kind: str
    """The backend's name: docker, local, or a plug-in's."""

    @abstractmethod
    async def open(self, spec: SandboxSpec, *, name: str | None = None) -> Sandbox:
        """Return a started sandbox fitting ``spec``; the caller closes it.

        Args:
            spec: What the sandbox must offer.
            name: What to call it where the backend names things (a container's name).

        Raises:
            SandboxError: If no sandbox can be started (the message says why).
        """

    def expect(self, spec: SandboxSpec, count: int) -> None:
        """Announce that ``count`` more sandboxes fitting ``spec`` will be asked for.

        A provider with a warm pool starts them ahead of time; others ignore it.
        """


class ProviderOptions(NamedTuple):
    """What a backend is told when a run opens its provider."""

    run_id: str
    """Labels the run's sandboxes, for clean-up."""
    cpus: list[int] | None = None
    """The CPUs sandboxes may run on (default: any)."""
    image: str | None = None
    """The image to start sandboxes from, where the backend has images (default: its own)."""
    pool_size: int = 0
    """Sandboxes kept started ahead of need, per sandbox spec, where the backend pools."""
    concurrent_starts: int = 8
    """Sandboxes being started at once, at most."""


ProviderFactory = Callable[[ProviderOptions], AbstractAsyncContextManager[SandboxProvider]]
"""A backend: opens a run's provider (closed when the context exits)."""

SANDBOXES = Registry[ProviderFactory](
    "sandbox provider",
    "researchgym.sandboxes",
    accepts=callable,
    expected="a callable (ProviderOptions) -> async context manager of a SandboxProvider",
)
"""Every sandbox backend by name: built in (docker, local), and from plug-ins."""
SANDBOXES.add("local", "researchgym.sandboxes.local:local_provider")
SANDBOXES.add("docker", "researchgym.sandboxes.docker_pool:docker_provider")


@asynccontextmanager
async def open_sandboxes(
    kind: SandboxKind,
    *,
    run_id: str,
    cpus: list[int] | None = None,
    image: str | None = None,
    pool_size: int = 0,
    concurrent_starts: int = 8,
) -> AsyncIterator[SandboxProvider]:
    """Open the provider of a run's sandboxes.

    Args:
        kind: Which backend (``auto`` picks docker if a daemon answers): a name of
            ``SANDBOXES`` or ``module:attribute``.
        run_id: Labels the run's containers, for clean-up.
        cpus: The CPUs sandboxes may run on (default: any).
        image: The Docker image (default: this version's sandbox image).
        pool_size: Docker containers kept started ahead of need, per sandbox spec.
        concurrent_starts: Docker containers being started at once, at most.

    Raises:
        UnknownComponentError: If no backend has the name ``kind``.
        PluginError: If the backend is a plug-in that cannot be used.
        DockerUnavailableError: If ``kind`` is docker and no daemon answers.
        ImageMissingError: If the Docker image is not built.
    """
    if kind == "auto":
        kind = (await choose_sandboxes(kind)).kind
    backend = await anyio.to_thread.run_sync(SANDBOXES.get, kind)  # imports it
    options = ProviderOptions(run_id, cpus, image, pool_size, concurrent_starts)
    async with backend(options) as provider:
        yield provider


async def _docker_problem() -> str | None:
    """Why no Docker daemon can be used from here (None: one answers)."""
    import sniffio

    if sniffio.current_async_library() != "asyncio":
        return "Docker sandboxes need the asyncio event loop"
    await _imported("docker_api")
    from researchgym.errors import DockerUnavailableError
    from researchgym.sandboxes.docker_api import open_docker

    try:
        async with open_docker():
            return None
    except DockerUnavailableError as e:
        return e.reason


async def remove_leftovers(kind: SandboxKind, *, run_id: str) -> None:
    """Remove what killed processes left of a run's sandboxes, before the run resumes.

    Its containers whose process is gone (docker), and every sandbox disk and control group
    of a process that is gone.

    A plug-in backend removes what its own killed processes left when it opens.

    Raises:
        DockerUnavailableError: If ``kind`` is docker and no daemon answers.
    """
    if kind not in ("auto", "docker", "local"):
        return
    await _imported("_cgroup", "disk", *(["docker_pool"] if kind != "local" else []))
    from researchgym.sandboxes._cgroup import prune_cgroups
    from researchgym.sandboxes.disk import prune_disks

    if kind != "local":
        from researchgym.sandboxes.docker_pool import prune_sandboxes

        await prune_sandboxes(run_id=run_id)  # disks and groups too
        return
    await anyio.to_thread.run_sync(prune_disks)
    await anyio.to_thread.run_sync(prune_cgroups)


async def _imported(*modules: str) -> None:
    """Import sandbox backends in a worker thread, for the ``from`` imports after it.

    A first import reads files, which the event loop must not wait for; and a backend is
    imported only when a run uses it.
    """

    def load() -> None:
        for module in modules:
            importlib.import_module(f"researchgym.sandboxes.{module}")

    await anyio.to_thread.run_sync(load)
