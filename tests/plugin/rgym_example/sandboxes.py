"""The sandbox provider ``counted-local``: local sandboxes, counted as they are opened."""

from __future__ import annotations

from typing import TYPE_CHECKING

from researchgym.sandboxes import LocalSandboxes, SandboxProvider

if TYPE_CHECKING:
    from researchgym.sandboxes import ProviderOptions, Sandbox, SandboxSpec


class CountedSandboxes(SandboxProvider):
    """Opens local sandboxes on the run's CPUs and counts them (``opened``)."""

    kind = "counted-local"

    def __init__(self, options: ProviderOptions) -> None:
        self._local = LocalSandboxes(cpus=options.cpus)
        self.opened = 0

    async def open(self, spec: SandboxSpec, *, name: str | None = None) -> Sandbox:
        """A new local sandbox fitting ``spec``."""
        sandbox = await self._local.open(spec, name=name)
        self.opened += 1
        return sandbox

    async def aclose(self) -> None:
        """Nothing to release: each sandbox is closed by its episode."""
        await self._local.aclose()
