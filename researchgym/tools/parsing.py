"""Parsing an action: the command word, its arguments, and a body up to its terminator.

An action is the agent's whole reply command, and it may span lines. Its first word picks
the tool (``command_word``). A tool command is one line (``open main.py 40``), or, for
``edit`` and ``insert``, a header line, body lines, and a line holding only the terminator:

```
edit 3:4
    return x + 1
end_of_edit
```

Anything after a one-line command or after the terminator is an error, never dropped in
silence: the agent would believe it ran. Arguments are split like a shell's words
(``shlex``), so a path with spaces can be quoted.
"""

from __future__ import annotations

import shlex
from typing import NamedTuple

from researchgym.tools.base import ToolError

__all__ = ["Invocation", "command_word", "parse", "split_words"]


class Invocation(NamedTuple):
    """One tool command, as the agent wrote it."""

    word: str
    """The command word (``edit``)."""
    args: list[str]
    """The words after it on its line."""
    body: list[str] | None
    """The lines between the header and the terminator; None for one-line commands."""


def command_word(command: str) -> str:
    """Return the first word of ``command``, or ``""`` for a blank one.

    >>> command_word("  open main.py")
    'open'
    """
    words = command.split(maxsplit=1)
    return words[0] if words else ""


def parse(command: str, *, terminator: str | None = None) -> Invocation:
    r"""Split ``command`` into its word, arguments and (with ``terminator``) its body.

    >>> parse("edit 1:2\nx = 1\nend_of_edit", terminator="end_of_edit")
    Invocation(word='edit', args=['1:2'], body=['x = 1'])

    Raises:
        ToolError: If the arguments are not well quoted, the terminator is missing, or
            text follows the command.
    """
    lines = command.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    header, rest = (lines[0], lines[1:]) if lines else ("", [])
    words = split_words(header)
    word, args = (words[0], words[1:]) if words else ("", [])
    if terminator is None:
        _check_nothing_after(rest, f"the {word} command")
        return Invocation(word, args, None)
    ends = [i for i, line in enumerate(rest) if line.strip() == terminator]
    if not ends:
        raise ToolError(
            f"Error: the {word} command must end with a line holding only {terminator}. "
            "Nothing was changed."
        )
    _check_nothing_after(rest[ends[0] + 1 :], terminator)
    return Invocation(word, args, rest[: ends[0]])


def split_words(line: str) -> list[str]:
    """Split a line into words as a shell would (quotes group, backslashes escape).

    Raises:
        ToolError: If a quote is not closed.
    """
    try:
        return shlex.split(line)
    except ValueError as e:
        raise ToolError(f"Error: cannot read the arguments of `{line.strip()}`: {e}.") from None


def _check_nothing_after(lines: list[str], what: str) -> None:
    extra = "\n".join(lines).strip()
    if extra:
        shown = extra if len(extra) <= 200 else extra[:200] + "..."
        raise ToolError(
            f"Error: unexpected text after {what}:\n{shown}\n"
            "Send one command per action. Nothing was run."
        )
