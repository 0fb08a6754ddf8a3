"""The command set: which tool runs a line, and the docs prompts render."""

from __future__ import annotations

from typing import TYPE_CHECKING

from researchgym.tools.bash import Bash
from researchgym.tools.evaluate import Submit, Validate

if TYPE_CHECKING:
    from researchgym.tools.base import Tool

__all__ = ["COMMANDS", "command_docs", "find_tool"]

_BASH = Bash()
COMMANDS: dict[str, Tool] = {tool.name: tool for tool in (Validate(), Submit())}
"""The tools by command word; any other line goes to bash."""


def find_tool(command: str) -> Tool:
    """Return the tool that runs ``command``: the one named by its first word, else bash."""
    words = command.split(maxsplit=1)
    return COMMANDS.get(words[0], _BASH) if words else _BASH


def command_docs() -> str:
    """Return the documentation of every command, one block per command, for prompts."""
    tools: list[Tool] = [*COMMANDS.values(), _BASH]
    return "\n\n".join(f"{tool.signature}\n  {tool.doc}" for tool in tools)
