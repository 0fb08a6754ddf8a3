"""validate and submit: score the current artefact; submit also ends the episode."""

from __future__ import annotations

from typing import TYPE_CHECKING

from researchgym.tools.base import ActionClass, Command, ToolContext, ToolResult
from researchgym.tools.parsing import parse

if TYPE_CHECKING:
    from researchgym.tasks import EvaluationResult, TaskSpec

__all__ = ["Submit", "Validate"]


class Validate(Command):
    """Score the current artefact and go on working."""

    name = "validate"
    signature = "validate"
    doc = (
        "Score your current submission artefact on the validation setup (inputs other than "
        "the final evaluation's) and show the score beside the baseline's. The episode goes "
        "on; use it to check your progress."
    )
    action = ActionClass.VALIDATE

    async def run(self, command: str, context: ToolContext) -> ToolResult:
        """Evaluate and report the score."""
        parse(command)  # nothing may follow
        evaluation = await context.evaluate("validate")
        return ToolResult(_observation(evaluation, context.task), evaluation=evaluation)


class Submit(Command):
    """Score the current artefact and end the episode."""

    name = "submit"
    signature = "submit"
    doc = (
        "Submit your current artefact as your final answer. It is scored and the episode "
        "ends: only submit when you are done."
    )
    action = ActionClass.SUBMIT

    async def run(self, command: str, context: ToolContext) -> ToolResult:
        """Evaluate and end the episode."""
        parse(command)  # nothing may follow
        evaluation = await context.evaluate("submit")
        return ToolResult(
            _observation(evaluation, context.task), evaluation=evaluation, ends_episode=True
        )


def _observation(evaluation: EvaluationResult, task: TaskSpec) -> str:
    if evaluation.score is None:
        return f"Evaluation failed ({evaluation.status}): {evaluation.error}"
    metric = task.metric
    better = "higher" if metric.direction == "max" else "lower"
    return (
        f"Your submission artefact {task.submission.path} was evaluated.\n"
        f"Baseline {metric.name}: {task.baseline.score:g}\n"
        f"Your {metric.name}: {evaluation.score:g} ({better} is better)\n"
        f"All metrics: {evaluation.metrics}"
    )
