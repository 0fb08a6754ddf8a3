r"""Reading a model's reply: a discussion, then exactly one command in a fenced block.

>>> parse_reply("I will look.\n```\nls -la\n```\n").command
'ls -la'
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["FormatError", "Reply", "parse_reply"]

MAX_REPLY_CHARS = 100_000
"""A reply longer than this is treated as malformed (a model that rambles without end)."""

_FENCE = re.compile(r"^```[^\n`]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


class Reply(NamedTuple):
    """A well-formed reply."""

    discussion: str
    command: str


class FormatError(ValueError):
    """A reply that does not follow the format; ``str()`` says what is wrong, for the model."""


def parse_reply(text: str) -> Reply:
    """Split a reply into its discussion and its one command.

    Raises:
        FormatError: If the reply is empty or enormous, has no fenced block or several, a
            block with no command, no discussion before it, or text after it.
    """
    if not text.strip():
        raise FormatError("your reply was empty")
    if len(text) > MAX_REPLY_CHARS:
        raise FormatError(f"your reply was {len(text):,} characters long, over {MAX_REPLY_CHARS:,}")
    blocks = list(_FENCE.finditer(text))
    if not blocks:
        raise FormatError("your reply had no command in a fenced code block (```)")
    if len(blocks) > 1:
        raise FormatError(f"your reply had {len(blocks)} fenced code blocks; give exactly one")
    block = blocks[0]
    command = block[1].strip("\n")
    if not command.strip():
        raise FormatError("the fenced code block was empty")
    discussion = text[: block.start()].strip()
    if not discussion:
        raise FormatError("your reply had no discussion before the command")
    if text[block.end() :].strip():
        raise FormatError("your reply went on after the command; end it with the code block")
    return Reply(discussion, command)
