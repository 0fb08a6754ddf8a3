"""The messages participants of an episode exchange on the bus."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from researchgym.engine.status import ExitReason, ScoreKind

__all__ = ["EvaluateRequest", "ToolReply", "ToolRequest"]


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


@dataclass(frozen=True, slots=True)
class EvaluateRequest:
    """Score the current artefact (tools -> evaluator); the reply is an EvaluationResult."""

    kind: ScoreKind
    step: int
