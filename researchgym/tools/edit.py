"""edit and insert: change lines of the open file; Python edits that break it are reverted.

``edit S:E`` replaces lines S to E (inclusive) with its body, which may be empty (a
deletion); ``insert N`` adds its body after line N (0: at the top). For a ``.py`` file, an
edit that introduces a syntax error or an undefined name is not written: the observation
lists the errors and shows the would-be result beside the original, as in SWE-agent.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from researchgym.tools.base import ActionClass, Command, ToolError, ToolResult
from researchgym.tools.files import read_lines, write_lines
from researchgym.tools.lint import Span, introduced_problems
from researchgym.tools.parsing import parse
from researchgym.tools.viewer import render_window

if TYPE_CHECKING:
    from researchgym.tools.base import ToolContext
    from researchgym.tools.lint import Problem

__all__ = ["NO_FILE_OPEN", "Edit", "Insert"]

NO_FILE_OPEN = "No file open. Use the open command first."
_CONTEXT = 5
"""Lines shown either side of a reverted edit."""
_RULE = "-------------------------------------------------"
_UPDATED = (
    "File updated. Please review the changes and make sure they are correct (correct "
    "indentation, no duplicate lines, etc). Edit the file again if necessary."
)
_CHECKED = (
    "Python files are checked after the change: if it introduces a syntax error or an "
    "undefined name, it is not applied and you are shown why; fix your command rather than "
    "issuing the same one again."
)


class Edit(Command):
    """Replace a range of lines of the open file."""

    name = "edit"
    signature = "edit <start_line>:<end_line>\n<replacement_text>\nend_of_edit"
    doc = (
        "replaces lines <start_line> through <end_line> (inclusive) with the given text in "
        "the open file. The replacement text is terminated by a line with only end_of_edit "
        "on it. All of the <replacement_text> will be entered, so make sure your indentation "
        "is formatted properly; an empty replacement deletes the lines. " + _CHECKED
    )
    action = ActionClass.EDIT

    async def run(self, command: str, context: ToolContext) -> ToolResult:
        """Replace the lines, or explain why not."""
        invocation = parse(command, terminator="end_of_edit")
        match = re.fullmatch(r"(\d+):(\d+)", " ".join(invocation.args))
        if match is None:
            raise ToolError(
                "Usage: edit <start_line>:<end_line>\n"
                "Error: give the first and last line to replace, as in edit 5:7."
            )
        start, end = int(match[1]), int(match[2])
        path, lines = await _open_file(context)
        _check_range(start, end, len(lines))
        span = Span(start, min(end, len(lines)), len(invocation.body or []))
        return await _change(context, path, lines, span, invocation.body or [], "edit")


class Insert(Command):
    """Insert lines after a line of the open file."""

    name = "insert"
    signature = "insert <line_number>\n<text_to_add>\nend_of_insert"
    doc = (
        "inserts the given text after line <line_number> of the open file (0 inserts at "
        "the top). The text to insert is terminated by a line with only end_of_insert on it. "
        "All of the <text_to_add> will be entered, so make sure your indentation is "
        "formatted properly. " + _CHECKED
    )
    action = ActionClass.EDIT

    async def run(self, command: str, context: ToolContext) -> ToolResult:
        """Insert the lines, or explain why not."""
        invocation = parse(command, terminator="end_of_insert")
        if len(invocation.args) != 1 or not invocation.args[0].isdigit():
            raise ToolError(
                "Usage: insert <line_number>\n"
                "Error: give the line to insert after (0 for the top), as in insert 12."
            )
        after = int(invocation.args[0])
        if not invocation.body:
            raise ToolError("Error: there are no lines to insert before end_of_insert.")
        path, lines = await _open_file(context)
        if after > len(lines):
            raise ToolError(
                f"Error: <line_number> must be between 0 and {len(lines)}, the number of "
                f"lines in the file; it was {after}."
            )
        span = Span(after + 1, after, len(invocation.body))
        return await _change(context, path, lines, span, invocation.body, "insertion")


async def _open_file(context: ToolContext) -> tuple[str, list[str]]:
    if context.viewer.path is None:
        raise ToolError(NO_FILE_OPEN)
    return context.viewer.path, await read_lines(context, context.viewer.path, editing=True)


def _check_range(start: int, end: int, total: int) -> None:
    if start < 1:
        raise ToolError("Error: <start_line> must be at least 1.")
    if end < start:
        raise ToolError(
            f"Error: <end_line> ({end}) must not be less than <start_line> ({start}). "
            "To add lines without replacing any, use insert."
        )
    if start > total + 1:
        raise ToolError(
            f"Error: <start_line> ({start}) is past the end of the file ({total} lines). "
            f"To add lines at the end, use insert {total}."
        )


async def _change(
    context: ToolContext,
    path: str,
    lines: list[str],
    span: Span,
    body: list[str],
    what: str,
) -> ToolResult:
    new = [*lines[: span.start - 1], *body, *lines[span.end :]]
    if path.endswith(".py"):
        before, after = _source(lines), _source(new)
        found = await introduced_problems(before, after, filename=path, span=span)
        if found:
            return ToolResult(_reverted(path, lines, new, span, found, what))
    await write_lines(context, path, new)
    viewer = context.viewer
    in_view = viewer.path == path and viewer.first <= span.start < viewer.first + viewer.window
    window = viewer.show(path, new, line=None if in_view else span.start)
    return ToolResult(f"{window}\n{_UPDATED}")


def _reverted(
    path: str, lines: list[str], new: list[str], span: Span, found: list[Problem], what: str
) -> str:
    first = max(1, span.start - _CONTEXT)
    would_be = render_window(path, new, first, span.added + 2 * _CONTEXT)
    original = render_window(path, lines, first, span.end - span.start + 1 + 2 * _CONTEXT)
    errors = "\n".join(str(problem) for problem in found)
    return (
        f"Your proposed {what} has introduced new error(s). Please read this error message "
        f"carefully and then retry.\n\nERRORS:\n{errors}\n\n"
        f"This is how your {what} would have looked if applied\n{_RULE}\n{would_be}\n{_RULE}\n\n"
        f"This is the original code before your {what}\n{_RULE}\n{original}\n{_RULE}\n"
        "Your changes have NOT been applied. Please fix your command and try again.\n"
        "You either need to 1) Specify the correct line arguments or 2) Correct your code.\n"
        "DO NOT re-run the same failed command. Running it again will lead to the same error."
    )


def _source(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)
