"""Any command that is not a tool runs as bash in the sandbox's persistent shell.

Interactive programs are refused before they run (``interactive_refusal``), and the
viewer learns the shell's working directory from every command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from researchgym.tools.base import ActionClass, ToolContext, ToolResult
from researchgym.tools.interactive import interactive_refusal
from researchgym.tools.parsing import command_word

if TYPE_CHECKING:
    from researchgym.sandboxes import ExecResult

__all__ = ["Bash"]

_PYTHON = ("python", "python3")


class Bash:
    """Bash passthrough: the fallback for every line that is not another command."""

    name = "bash"
    signature = "<bash command>"
    doc = (
        "Any other line runs in a persistent bash shell in your workspace: cd and variables "
        "persist. Each command has a time limit. There is no terminal, so interactive "
        "programs (vim, less, top, a bare python) are refused: use open/edit, and run "
        "scripts (python3 train.py)."
    )

    async def __call__(self, command: str, context: ToolContext) -> ToolResult:
        """Run ``command`` in the sandbox's shell, unless it is interactive.

        Raises:
            SandboxError: If the sandbox fails.
        """
        refusal = interactive_refusal(command)
        if refusal is not None:
            return ToolResult(refusal)
        result = await context.sandbox.exec(command, timeout=context.timeout)
        context.viewer.cwd = result.cwd or context.viewer.cwd
        return ToolResult(
            observation=_observation(result, context.timeout),
            exit_code=result.exit_code,
            timed_out=result.timed_out,
            truncated=result.truncated,
        )

    def classify(self, command: str) -> ActionClass:
        """Python for a command that runs python, Bash otherwise."""
        return ActionClass.PYTHON if command_word(command) in _PYTHON else ActionClass.BASH


def _observation(result: ExecResult, timeout: float) -> str:
    if result.timed_out:
        return f"{result.output}\n[The command was killed after {timeout:g} s, its time limit.]"
    if result.output:
        return result.output
    if result.exit_code == 0:
        return "Your command ran successfully and did not produce any output."
    return f"Your command failed with exit code {result.exit_code} and produced no output."
