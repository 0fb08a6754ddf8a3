"""The engine: runs episodes. It uses agents, tools, sandboxes, tasks and storage.

- ``Runner`` expands a RunConfig into episodes and runs them in one task group.
- ``Episode.open`` opens one episode as an environment (sandbox, services on the ``Bus``,
  limits); ``run_episode`` drives its agent through it.
- ``open_env`` is that environment for anyone: a run of one episode, the caller acting.
- ``ResearchEnv`` is the Gym-style API of one episode; every limit is a ``Wrapper`` around
  it (``limited``).
- ``Recorder`` turns everything that happens into rows for the storage writer.

Only anyio is used here, so the engine runs under asyncio and trio alike.
"""

from __future__ import annotations

import lazy_loader

# Each name is imported from its module when first used (the names: __init__.pyi).
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
