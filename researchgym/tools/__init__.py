"""Tools: what agents can do, acting on a Sandbox.

A command line goes to the tool its first word names (``validate``, ``submit``), and any
other line runs as bash: ``execute(command, context)``. Every command has an
``ActionClass`` for the metrics (``classify``), and documents itself (``command_docs``).
"""

from __future__ import annotations

from researchgym.tools.base import ActionClass, Tool, ToolContext, ToolResult
from researchgym.tools.bash import Bash
from researchgym.tools.commands import COMMANDS, classify, command_docs, execute, find_tool
from researchgym.tools.evaluate import Submit, Validate

__all__ = [
    "COMMANDS",
    "ActionClass",
    "Bash",
    "Submit",
    "Tool",
    "ToolContext",
    "ToolResult",
    "Validate",
    "classify",
    "command_docs",
    "execute",
    "find_tool",
]
