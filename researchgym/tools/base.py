"""The Tool contract, what a tool acts on, and what it returns.

A command that cannot run as asked (bad arguments, a file the agent may not read) is an
observation, not a failure: built-in commands raise ``ToolError`` with the text the agent
should see, and ``Command`` turns it into the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from researchgym.words import ActionClass

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from researchgym.sandboxes import Sandbox
    from researchgym.tasks import EvaluationResult, TaskSpec
    from researchgym.tools.viewer import Viewer

__all__ = ["ActionClass", "Command", "Tool", "ToolContext", "ToolError", "ToolResult"]


@dataclass(frozen=True)
class ToolContext:
    """What a tool acts on: the episode's sandbox, its task, and the evaluator."""

    sandbox: Sandbox
    task: TaskSpec
    evaluate: Callable[[Literal["validate", "submit"]], Awaitable[EvaluationResult]]
    """Score the current artefact for validate or submit (the engine routes this to the
    episode's evaluator)."""
    viewer: Viewer = field(kw_only=True)
    """The episode's file viewer and last known working directory; one per episode, kept
    by the tool service across commands."""

    @property
    def timeout(self) -> float:
        """Seconds one command may run."""
        return self.task.timeouts.command


@dataclass(frozen=True)
class ToolResult:
    """What a command did, as the agent sees it and the store records it."""

    observation: str
    """What the agent is shown."""
    exit_code: int | None = None
    """The shell's exit code, for commands that ran in the shell."""
    timed_out: bool = False
    truncated: bool = False
    evaluation: EvaluationResult | None = None
    """The evaluation, for validate and submit."""
    ends_episode: bool = False
    """True for submit: the episode is over."""


class Tool(Protocol):
    """One command of the command set. Each documents itself once; prompts render the docs."""

    name: str
    """The command word (``validate``); bash, the fallback, has the name ``bash``."""
    signature: str
    """How to call it (``validate``)."""
    doc: str
    """What it does, for the agent."""

    def classify(self, command: str) -> ActionClass:
        """Return the action class of ``command``, a line this tool runs."""
        ...

    async def __call__(self, command: str, context: ToolContext) -> ToolResult:
        """Run ``command`` (the whole line, command word included).

        Raises:
            SandboxError: If the sandbox fails; a failing command is a result, not an error.
        """
        ...


class ToolError(Exception):
    """A command that cannot run as asked; the message is what the agent sees."""


class Command:
    """What the built-in commands share: a fixed action class, and errors as observations.

    Subclasses set ``name``, ``signature``, ``doc`` and ``action`` and implement ``run``.
    """

    name: str
    signature: str
    doc: str
    action: ActionClass

    def classify(self, command: str) -> ActionClass:
        """Return the command's fixed action class."""
        return self.action

    async def __call__(self, command: str, context: ToolContext) -> ToolResult:
        """Run ``command``; a ``ToolError`` becomes the observation.

        Raises:
            SandboxError: If the sandbox fails.
        """
        try:
            return await self.run(command, context)
        except ToolError as e:
            return ToolResult(str(e))

    async def run(self, command: str, context: ToolContext) -> ToolResult:
        """Run ``command``.

        Raises:
            ToolError: If it cannot run as asked (the message is the observation).
            SandboxError: If the sandbox fails.
        """
        raise NotImplementedError
