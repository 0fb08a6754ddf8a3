"""The Python check of edits: syntax errors and undefined names an edit would introduce.

Syntax comes from ``compile()`` (the parser and the compiler's own checks, such as
``return`` outside a function); undefined names from pyflakes. Only problems the edit
introduced count, so that an already broken file can still be edited:

- If the original compiled, a problem it had outside the edited lines, moved to where
  that line lands after the edit, is not new (SWE-agent's rule).
- If it did not, its names were never checked and Python reports only its first syntax
  error, so fixing that one may bring others to light: only problems on the edited lines
  count.

The checks run on the host, in a worker thread.
"""

from __future__ import annotations

import ast
import warnings
from typing import Literal, NamedTuple

import anyio
from pyflakes import checker, messages

__all__ = ["Problem", "Span", "introduced_problems", "problems"]

_UNDEFINED = (messages.UndefinedName, messages.UndefinedExport, messages.UndefinedLocal)


class Problem(NamedTuple):
    """One error in a Python source."""

    line: int
    """Its line, from 1."""
    column: int
    message: str
    kind: Literal["syntax", "name"] = "name"
    """A syntax error (the source does not compile), or an undefined name."""

    def __str__(self) -> str:
        return f"- line {self.line}: {self.message}"


class Span(NamedTuple):
    """Which lines an edit replaced, and with how many."""

    start: int
    """The first replaced line, from 1 (for an insert: the line after the insertion)."""
    end: int
    """The last replaced line (``start - 1`` for an insert)."""
    added: int
    """How many lines took their place."""


async def introduced_problems(
    before: str, after: str, *, filename: str, span: Span
) -> list[Problem]:
    """Return the problems of ``after`` that ``before``, edited at ``span``, did not have."""
    return await anyio.to_thread.run_sync(_introduced, before, after, filename, span)


def problems(source: str, filename: str) -> list[Problem]:
    r"""Return a syntax error of ``source``, or else its undefined names.

    >>> problems("def f(:\n", "a.py")
    [Problem(line=1, column=7, message='SyntaxError: invalid syntax', kind='syntax')]
    >>> problems("print(x)\n", "a.py")
    [Problem(line=1, column=6, message="undefined name 'x'", kind='name')]
    """
    # Compiling warns (an invalid escape sequence); the warning is no problem of the edit,
    # and under an "error" filter the compiler would turn it into a SyntaxError. (Python
    # 3.11's catch_warnings swaps process-wide filters: another thread warning meanwhile
    # could go unshown. That is the price of not printing the agent's warnings on the host.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(source, filename)
            compile(tree, filename, "exec", dont_inherit=True)
        except SyntaxError as e:
            message = f"{type(e).__name__}: {e.msg}"
            return [Problem(e.lineno or 1, e.offset or 0, message, "syntax")]
        except ValueError as e:  # null bytes
            return [Problem(1, 0, f"SyntaxError: {e}", "syntax")]
    found = checker.Checker(tree, filename=filename).messages
    return sorted(
        Problem(m.lineno, m.col, m.message % m.message_args)
        for m in found
        if isinstance(m, _UNDEFINED)
    )


def _introduced(before: str, after: str, filename: str, span: Span) -> list[Problem]:
    new = problems(after, filename)
    if not new:
        return []
    old = problems(before, filename)
    if old and old[0].kind == "syntax":
        last = max(span.start, span.start + span.added - 1)
        return [p for p in new if span.start <= p.line <= last]
    shift = span.added - (span.end - span.start + 1)
    kept = {
        p._replace(line=p.line if p.line < span.start else p.line + shift)
        for p in old
        if not span.start <= p.line <= span.end
    }
    return [p for p in new if p not in kept]
