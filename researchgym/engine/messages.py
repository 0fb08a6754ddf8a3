"""The messages participants of an episode exchange on the bus, by endpoint.

```
agent -> tools   ToolRequest   an action (or the final evaluation, with its reason)
tools -> agent   ToolReply     its observation; the metrics if it scored the artefact
```

A receiver reads a payload as the type its endpoint expects (``Envelope.payload_as``), and a
requester asks for the type of the reply (``Endpoint.ask``): a payload of any other type is
a ``BusError``, never a silent cast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from researchgym.engine.status import ExitReason

__all__ = ["ToolReply", "ToolRequest"]


@dataclass(frozen=True, slots=True)
class ToolRequest:
    """An action for the tool service (agent -> tools)."""

    command: str
    step: int
    """The agent's step number, from 1."""
    reason: ExitReason | None = None
    """None for the agent's own action; otherwise this is the final evaluation and why."""


@dataclass(frozen=True, slots=True)
class ToolReply:
    """The observation of an action (tools -> agent)."""

    observation: str
    done: bool = False
    """True if the episode is over."""
    exit_status: str | None = None
    """The episode's exit status, once it is over."""
    metrics: dict[str, float] = field(default_factory=dict)
    """The metrics, if the action scored the artefact."""
    open_file: str | None = None
    """The file open in the viewer after the action (absolute), for the agent's footer."""
    cwd: str | None = None
    """The shell's working directory after the action, for the agent's footer."""
