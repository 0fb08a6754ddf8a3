"""researchgym: an async engine and benchmark for AI research agents.

The public Python API, each imported when first used (``import researchgym`` is light):

- ``run(config) -> RunResult``: run a configuration (a RunConfig, a mapping, a YAML file),
  in a script or a notebook; the result reads the stored run back as pandas DataFrames.
- ``open_env(task, sandbox=, limits=, store=)``: the environment of one episode, for an
  agent of your own (``async with``); ``researchgym.gym`` is its Gymnasium face.

Layers, each a subpackage, with dependencies pointing one way:

- ``engine``: runs episodes (scheduling, limits as environment wrappers, the bus, the
  episode loop); uses all the others.
- ``agents``: who acts. Knows nothing of sandboxes.
- ``tools``: what agents can do; acts on a ``Sandbox``.
- ``sandboxes``: where actions run.
- ``tasks``: what is to be solved, and how it is scored.
- ``storage``: what happened; knows only rows and schemas.
- ``analysis``: what it means: metrics, profiles, reports, plots, over storage.

Errors are in ``researchgym.errors``; the ``researchgym`` command is ``researchgym.cli``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from researchgym._version import __version__

if TYPE_CHECKING:
    from researchgym.api import RunResult, run
    from researchgym.engine import open_env
__all__ = ["RunResult", "__version__", "open_env", "run"]

_LAZY = {"run": "researchgym.api", "RunResult": "researchgym.api", "open_env": "researchgym.engine"}
"""Public names, and the module each comes from when first used."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'researchgym' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
