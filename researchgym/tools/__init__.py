"""Tools: what agents can do, acting on a Sandbox.

A command line goes to the tool its first word names (``validate``, ``submit``), and any
other line runs as bash: ``find_tool(command)(command, context)``. Every tool gives each
command it runs an ``ActionClass`` for the metrics (``tool.classify(command)``), and
documents itself (``command_docs``).
"""

from __future__ import annotations

from researchgym.tools.base import ActionClass, Tool, ToolContext, ToolResult
from researchgym.tools.bash import Bash
from researchgym.tools.commands import COMMANDS, command_docs, find_tool
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
    "command_docs",
    "find_tool",
]
