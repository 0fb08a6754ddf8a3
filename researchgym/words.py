"""The words the engine writes and the stored SQL reads: one leaf module, imported by both.

Exit statuses (as MLGym names them), what asked for a score, the action classes of the
action-distribution metrics, and the names of an episode's endpoints on the bus. It imports
nothing of researchgym, so that every layer may use it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

__all__ = [
    "AGENT",
    "CANCELLED",
    "EARLY_EXIT",
    "EVALUATOR",
    "EXIT_ERROR",
    "FAILED",
    "INTERRUPTED",
    "NOT_ERRORS",
    "RUNNING",
    "SUBMITTED",
    "TOOLS",
    "ActionClass",
    "ExitReason",
    "ScoreKind",
]

ExitReason = Literal[
    "submit", "max_steps", "exit_cost", "exit_context", "exit_format", "exit_api", "exit_time"
]
"""Why the final evaluation happened: the agent submitted, or a limit was reached."""

ScoreKind = Literal["validate", "submit", "autosubmit"]
"""What asked for an evaluation: the agent's validate or submit, or a limit."""

SUBMITTED = "submitted"
"""The agent submitted and its artefact was scored; a limit's is ``autosubmission (<reason>)``."""
EARLY_EXIT = "early_exit"
"""The sandbox died under the episode."""
EXIT_ERROR = "exit_error"
"""Anything else went wrong; the error is stored with the episode."""
CANCELLED = "cancelled"
"""The run was cancelled (Ctrl-C), or the environment closed, before the episode ended."""
RUNNING = "running"
"""The episode has not ended yet (its row is written when it starts)."""
INTERRUPTED = "interrupted"
"""The episode's run was killed before it ended: what a resumed run records for it."""
FAILED = (EARLY_EXIT, EXIT_ERROR)
"""The exit statuses of episodes that failed."""
NOT_ERRORS = (SUBMITTED, "autosubmission (max_steps)", CANCELLED, RUNNING, INTERRUPTED)
"""The exit statuses that are not an ending in error (the MLGym paper's failure analysis)."""


class ActionClass(StrEnum):
    """What kind of action a command is, for the action-distribution metrics."""

    EDIT = "Edit"
    VIEW = "View"
    SEARCH = "Search"
    VALIDATE = "Validate"
    SUBMIT = "Submit"
    PYTHON = "Python"
    BASH = "Bash"


TOOLS = "tools"
"""The endpoint of an episode's tool service on the bus."""
EVALUATOR = "evaluator"
"""The endpoint of an episode's evaluator."""
AGENT = "agent"
"""The endpoint, and the stored member name, of an episode's (single) agent."""
