"""The command set: which tool runs an action, and the docs prompts render."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from researchgym.tools.bash import Bash
from researchgym.tools.edit import Edit, Insert
from researchgym.tools.evaluate import Submit, Validate
from researchgym.tools.navigation import Create, Goto, Open, ScrollDown, ScrollUp
from researchgym.tools.parsing import command_word
from researchgym.tools.search import FindFile, SearchDir, SearchFile

if TYPE_CHECKING:
    from researchgym.tools.base import Tool

__all__ = ["COMMANDS", "command_docs", "find_tool"]

_BASH = Bash()
_TOOLS: list[Tool] = [
    Open(),
    Goto(),
    ScrollUp(),
    ScrollDown(),
    Create(),
    Edit(),
    Insert(),
    SearchDir(),
    SearchFile(),
    FindFile(),
    Validate(),
    Submit(),
]
COMMANDS: dict[str, Tool] = {tool.name: tool for tool in _TOOLS}
"""The tools by command word, in the order the docs list them; any other action goes to
bash."""


def find_tool(command: str) -> Tool:
    """Return the tool that runs ``command``: the one named by its first word, else bash."""
    return COMMANDS.get(command_word(command), _BASH)


def command_docs() -> str:
    """Return the documentation of every command, one block per command, for prompts.

    Each block is the command's signature, then its description indented by two spaces.
    """
    tools: list[Tool] = [*COMMANDS.values(), _BASH]
    return "\n\n".join(f"{tool.signature}\n{textwrap.indent(tool.doc, '  ')}" for tool in tools)
