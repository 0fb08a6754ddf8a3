"""How an episode ends: its exit status (the words are ``researchgym.words``')."""

from __future__ import annotations

from typing import TYPE_CHECKING

from researchgym.words import (
    CANCELLED,
    EARLY_EXIT,
    EXIT_ERROR,
    FAILED,
    INTERRUPTED,
    RUNNING,
    SUBMITTED,
    ExitReason,
    ScoreKind,
)

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
    return SUBMITTED if reason == "submit" else f"autosubmission ({reason})"
