"""open, goto, scroll_up, scroll_down and create: move the viewer's window over a file.

Each shows the window (``Viewer``) of the file it opens or moves in. Files are read as the
agent, in its sandbox (``files.read_lines``), so the viewer shows nothing the agent could
not read itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from researchgym.tools.base import ActionClass, Command, ToolError, ToolResult
from researchgym.tools.edit import NO_FILE_OPEN
from researchgym.tools.files import agent_path, create_file, read_lines
from researchgym.tools.parsing import parse
from researchgym.tools.viewer import DEFAULT_WINDOW

if TYPE_CHECKING:
    from researchgym.tools.base import ToolContext

__all__ = ["Create", "Goto", "Open", "ScrollDown", "ScrollUp"]

_OPEN_USAGE = "Usage: open <path> [<line_number>]"


class Open(Command):
    """Open a file in the viewer."""

    name = "open"
    signature = "open <path> [<line_number>]"
    doc = (
        "opens the file at the given path in the editor. If line_number is provided, the "
        "window will be moved to include that line"
    )
    action = ActionClass.VIEW

    async def run(self, command: str, context: ToolContext) -> ToolResult:
        """Show the file's first window, or the window around the line asked for."""
        args = parse(command).args
        if not 1 <= len(args) <= 2:
            raise ToolError(f"{_OPEN_USAGE}\nError: give one path, and at most one line number.")
        if len(args) == 2 and not _is_number(args[1]):
            raise ToolError(f"{_OPEN_USAGE}\nError: <line_number> must be a number")
        path = agent_path(context, args[0])
        lines = await read_lines(context, path, name=args[0])
        if len(args) == 1:
            context.viewer.first = 1
            return ToolResult(context.viewer.show(path, lines))
        line, warning = _bounded(int(args[1]), len(lines))
        window = context.viewer.show(path, lines, line=line)
        return ToolResult(warning + window)


class Goto(Command):
    """Move the window to a line of the open file."""

    name = "goto"
    signature = "goto <line_number>"
    doc = "moves the window to show <line_number>"
    action = ActionClass.VIEW

    async def run(self, command: str, context: ToolContext) -> ToolResult:
        """Show the window around the line."""
        args = parse(command).args
        if len(args) != 1 or not _is_number(args[0]):
            raise ToolError("Usage: goto <line_number>\nError: <line_number> must be a number")
        path, lines = await _open_file(context)
        line = int(args[0])
        if not 1 <= line <= max(len(lines), 1):
            raise ToolError(
                f"Error: <line_number> must be between 1 and {len(lines)}, the number of "
                f"lines in the file; it was {line}."
            )
        return ToolResult(context.viewer.show(path, lines, line=line))


class ScrollDown(Command):
    """Move the window down by its size."""

    name = "scroll_down"
    signature = "scroll_down"
    doc = f"moves the window down {DEFAULT_WINDOW} lines"
    action = ActionClass.VIEW

    async def run(self, command: str, context: ToolContext) -> ToolResult:
        """Show the next window."""
        return await _scroll(command, context, +1)


class ScrollUp(Command):
    """Move the window up by its size."""

    name = "scroll_up"
    signature = "scroll_up"
    doc = f"moves the window up {DEFAULT_WINDOW} lines"
    action = ActionClass.VIEW

    async def run(self, command: str, context: ToolContext) -> ToolResult:
        """Show the previous window."""
        return await _scroll(command, context, -1)


class Create(Command):
    """Create a new file and open it."""

    name = "create"
    signature = "create <filename>"
    doc = "creates and opens a new file with the given name"
    action = ActionClass.EDIT

    async def run(self, command: str, context: ToolContext) -> ToolResult:
        """Create the empty file (never replacing one) and show it."""
        args = parse(command).args
        if len(args) != 1:
            raise ToolError("Usage: create <filename>")
        path = await create_file(context, args[0])
        context.viewer.first = 1
        return ToolResult(context.viewer.show(path, []))


async def _open_file(context: ToolContext) -> tuple[str, list[str]]:
    if context.viewer.path is None:
        raise ToolError(NO_FILE_OPEN)
    return context.viewer.path, await read_lines(context, context.viewer.path)


async def _scroll(command: str, context: ToolContext, direction: int) -> ToolResult:
    if parse(command).args:
        raise ToolError(f"Usage: {command.split()[0]} (it takes no arguments)")
    path, lines = await _open_file(context)
    viewer = context.viewer
    before = viewer.first
    viewer.first += direction * viewer.window
    window = viewer.show(path, lines)
    if viewer.first != before:
        return ToolResult(window)
    edge = "end" if direction > 0 else "top"
    return ToolResult(f"{window}\n(You are already at the {edge} of the file.)")


def _bounded(line: int, total: int) -> tuple[int, str]:
    """Bring a line number into the file, with SWE-agent's warning if it was outside."""
    if total == 0:
        return 1, ""
    if line > total:
        return total, (
            f"Warning: <line_number> ({line}) is greater than the number of lines in the "
            f"file ({total})\nWarning: Setting <line_number> to {total}\n"
        )
    if line < 1:
        return 1, (
            f"Warning: <line_number> ({line}) is less than 1\nWarning: Setting <line_number> to 1\n"
        )
    return line, ""


def _is_number(word: str) -> bool:
    return word.lstrip("-").isdigit()
