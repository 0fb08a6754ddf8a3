"""search_dir, search_file and find_file: grep and find, run as the agent in its sandbox.

The output follows SWE-agent's. Each lists at most ``limit`` files or lines (sorted) and
says how many more it found, so a broad search cannot flood the agent's context. Search
terms are grep's basic regular expressions, names are find's ``-name`` patterns; hidden
files and directories are left out of ``search_dir``.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from researchgym.tools.base import ActionClass, Command, ToolError, ToolResult
from researchgym.tools.edit import NO_FILE_OPEN
from researchgym.tools.files import resolve, run_script
from researchgym.tools.parsing import parse

if TYPE_CHECKING:
    from researchgym.tools.base import ToolContext

__all__ = ["DEFAULT_LIMIT", "FindFile", "SearchDir", "SearchFile"]

DEFAULT_LIMIT = 100
"""Files (or lines) a search lists at most."""

_CHECK_TERM = r"""
err=$(grep -e "$1" -- /dev/null 2>&1)
if (( $? > 1 )); then echo error; printf '%s' "${err#grep: }"; exit 0; fi
"""
_CHECK_DIR = r"""
if ! d=$(realpath -e -- "$2" 2>/dev/null) || [[ ! -d $d ]]; then echo missing; exit 0; fi
echo ok; printf '%s\n' "$d"; cd -- "$d" || exit 0
"""
_SEARCH_DIR = (
    _CHECK_TERM
    + _CHECK_DIR
    + r"""
find . -type f ! -path '*/.*' -exec grep -IcH -e "$1" -- {} + 2>/dev/null | sort | awk -F: \
    -v limit="$3" '$NF > 0 { n++; m += $NF; if (n <= limit) print } END { print n + 0, m + 0 }'
"""
)
_SEARCH_FILE = (
    _CHECK_TERM
    + r"""
echo "ok $(grep -Ic -e "$1" -- "$2")"
grep -In -e "$1" -- "$2" | head -n "$3" | cut -c -2000
"""
)
_FIND_FILE = (
    _CHECK_DIR
    + r"""
find . -type f -name "$1" 2>/dev/null | sort | awk -v limit="$3" \
    '{ n++; if (n <= limit) print } END { print n + 0 }'
"""
)


class SearchDir(Command):
    """grep a directory tree: which files match, and how often."""

    name = "search_dir"
    signature = "search_dir <search_term> [<dir>]"
    doc = (
        "searches for search_term in all files in dir. If dir is not provided, searches in "
        f"the current directory (at most {DEFAULT_LIMIT} files are listed)"
    )
    action = ActionClass.SEARCH

    def __init__(self, *, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit

    async def run(self, command: str, context: ToolContext) -> ToolResult:
        """List the matching files with their numbers of matching lines."""
        term, where = _term_and_place(command, "search_dir <search_term> [<dir>]")
        output = await run_script(context, _SEARCH_DIR, term, where or ".", str(self.limit))
        directory, listed, (files, matches) = _listing(output, where or ".")
        if not files:
            return ToolResult(f'No matches found for "{term}" in {directory}')
        lines = [f'Found {matches} matches for "{term}" in {directory}:']
        for entry in listed:
            path, count = entry.rsplit(":", 1)
            lines.append(f"{posixpath.join(directory, path[2:])} ({count} matches)")
        lines += _more(files, self.limit, "files")
        lines.append(f'End of matches for "{term}" in {directory}')
        return ToolResult("\n".join(lines))


class SearchFile(Command):
    """grep one file: the matching lines, numbered."""

    name = "search_file"
    signature = "search_file <search_term> [<file>]"
    doc = (
        "searches for search_term in file. If file is not provided, searches in the current "
        f"open file (at most {DEFAULT_LIMIT} lines are listed)"
    )
    action = ActionClass.SEARCH

    def __init__(self, *, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit

    async def run(self, command: str, context: ToolContext) -> ToolResult:
        """List the matching lines."""
        term, where = _term_and_place(command, "search_file <search_term> [<file>]")
        if where is None and context.viewer.path is None:
            raise ToolError(NO_FILE_OPEN)
        file = await resolve(context, where or context.viewer.path or "")
        output = await run_script(context, _SEARCH_FILE, term, file, str(self.limit))
        status, listed = _status(output), [line for line in output[1:] if line]
        total = int(status.removeprefix("ok ") or 0)
        if not total:
            return ToolResult(f'No matches found for "{term}" in {file}')
        lines = [f'Found {total} matches for "{term}" in {file}:']
        lines += [f"Line {entry}" for entry in listed]
        lines += _more(total, self.limit, "matching lines")
        lines.append(f'End of matches for "{term}" in {file}')
        return ToolResult("\n".join(lines))


class FindFile(Command):
    """find files by name in a directory tree."""

    name = "find_file"
    signature = "find_file <file_name> [<dir>]"
    doc = (
        "finds all files with the given name (or shell pattern, as in *.py) in dir. If dir "
        f"is not provided, searches in the current directory (at most {DEFAULT_LIMIT} files "
        "are listed)"
    )
    action = ActionClass.SEARCH

    def __init__(self, *, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit

    async def run(self, command: str, context: ToolContext) -> ToolResult:
        """List the files found."""
        name, where = _term_and_place(command, "find_file <file_name> [<dir>]")
        output = await run_script(context, _FIND_FILE, name, where or ".", str(self.limit))
        directory, listed, (files,) = _listing(output, where or ".")
        if not files:
            return ToolResult(f'No matches found for "{name}" in {directory}')
        lines = [f'Found {files} matches for "{name}" in {directory}:']
        lines += [posixpath.join(directory, path[2:]) for path in listed]
        lines += _more(files, self.limit, "files")
        return ToolResult("\n".join(lines))


def _term_and_place(command: str, usage: str) -> tuple[str, str | None]:
    args = parse(command).args
    if not 1 <= len(args) <= 2 or not args[0]:
        raise ToolError(f"Usage: {usage}")
    return args[0], args[1] if len(args) == 2 else None


def _status(output: list[str]) -> str:
    status = output[0] if output else ""
    if status == "error":
        raise ToolError(f"Error: grep cannot use this search term: {' '.join(output[1:])}")
    return status


def _listing(output: list[str], where: str) -> tuple[str, list[str], list[int]]:
    """Split a listing script's output: the directory, the entries, and the totals."""
    if _status(output) == "missing":
        raise ToolError(f"Error: directory {where} not found.")
    lines = [line for line in output[2:] if line]
    if len(output) < 2 or not lines:
        raise ToolError(f"Error: the search in {where} failed: {' '.join(output)}")
    return output[1], lines[:-1], [int(word) for word in lines[-1].split()]


def _more(found: int, limit: int, what: str) -> list[str]:
    if found <= limit:
        return []
    return [f"(Only the first {limit} of {found} {what} are shown; narrow your search.)"]
