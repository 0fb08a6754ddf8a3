"""Running actions through the command set, as the tool service does."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from researchgym.tasks import evaluate
from researchgym.tools import ToolContext, Viewer, find_tool

if TYPE_CHECKING:
    from researchgym.sandboxes import Sandbox
    from researchgym.tasks import Task

__all__ = ["numbered", "observe", "pinned", "tool_context", "write"]


def tool_context(sandbox: Sandbox, task: Task) -> ToolContext:
    """A context as the tool service makes it, with a fresh viewer."""
    return ToolContext(
        sandbox,
        task.spec,
        lambda kind: evaluate(task, sandbox),
        viewer=Viewer(cwd=str(sandbox.workdir)),
    )


async def observe(context: ToolContext, command: str) -> str:
    """Run ``command`` with the tool its first word picks; return the observation."""
    return (await find_tool(command)(command, context)).observation


async def write(context: ToolContext, path: str, text: str) -> None:
    """Put a file in the sandbox (relative paths are in the workspace)."""
    await context.sandbox.write_file(path, text.encode())


def numbered(first: int, last: int, prefix: str = "line") -> str:
    """The viewer's numbered lines ``first..last`` of a file whose line N is ``lineN``."""
    return "\n".join(f"{n}:{prefix}{n}" for n in range(first, last + 1))


def pinned(text: str) -> str:
    """An anchored regex that matches ``text`` exactly."""
    return "^" + re.escape(text) + "$"
