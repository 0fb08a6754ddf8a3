"""researchgym: an async engine and benchmark for AI research agents.

Layers, each a subpackage, with dependencies pointing one way:

- ``engine``: runs episodes (scheduling, limits, the bus, the episode loop, the Gym API);
  uses all the others.
- ``agents``: who acts. Knows nothing of sandboxes.
- ``tools``: what agents can do; acts on a ``Sandbox``.
- ``sandboxes``: where actions run.
- ``tasks``: what is to be solved, and how it is scored.
- ``storage``: what happened; knows only rows and schemas.

Errors are in ``researchgym.errors``; the ``researchgym`` command is ``researchgym.cli``.
"""

from __future__ import annotations

from importlib.metadata import version

__version__ = version("researchgym")
__all__ = ["__version__"]
