"""How an episode ends: the exit statuses, as MLGym records them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from researchgym.tasks import EvaluationResult

__all__ = [
    "CANCELLED",
    "EARLY_EXIT",
    "EXIT_ERROR",
    "FAILED",
    "INTERRUPTED",
    "RUNNING",
    "ExitReason",
    "ScoreKind",
    "exit_status",
]

ExitReason = Literal[
    "submit", "max_steps", "exit_cost", "exit_context", "exit_format", "exit_api", "exit_time"
]
"""Why the final evaluation happened: the agent submitted, or a limit was reached."""

ScoreKind = Literal["validate", "submit", "autosubmit"]
"""What asked for an evaluation: the agent's validate or submit, or a limit."""

EARLY_EXIT = "early_exit"
"""The sandbox died under the episode."""
EXIT_ERROR = "exit_error"
"""Anything else went wrong; the error is stored with the episode."""
CANCELLED = "cancelled"
"""The run was cancelled (Ctrl-C) before the episode ended."""
RUNNING = "running"
"""The episode has not ended yet (its row is written when it starts)."""
INTERRUPTED = "interrupted"
"""The episode's run was killed before it ended: what a resumed run records for it."""
FAILED = (EARLY_EXIT, EXIT_ERROR)
"""The exit statuses of episodes that failed."""


def exit_status(reason: ExitReason, evaluation: EvaluationResult) -> str:
    """Return the exit status of an episode whose final evaluation had ``reason``.

    >>> from researchgym.tasks import EvaluationResult
    >>> scored = EvaluationResult("scored", {"Score": 1.0}, 1.0, None)
    >>> exit_status("submit", scored), exit_status("max_steps", scored)
    ('submitted', 'autosubmission (max_steps)')
    >>> exit_status("submit", EvaluationResult("submission_not_found", {}, None, "missing"))
    'submission_not_found (submit)'
    """
    if evaluation.status != "scored":
        return f"{evaluation.status} ({reason})"
    return "submitted" if reason == "submit" else f"autosubmission ({reason})"
