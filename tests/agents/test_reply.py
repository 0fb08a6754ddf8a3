from __future__ import annotations

import re

import pytest

from researchgym.agents.reply import MAX_REPLY_CHARS, FormatError, parse_reply


@pytest.mark.parametrize(
    ("text", "discussion", "command"),
    [
        ("Look first.\n```\nls -la\n```", "Look first.", "ls -la"),
        ("Look.\n```bash\nls\n```\n\n", "Look.", "ls"),
        (
            "Fix the loop.\n```\nedit 3:4\n    return 1\nend_of_edit\n```",
            "Fix the loop.",
            "edit 3:4\n    return 1\nend_of_edit",
        ),
        ("A\nB\n```\nvalidate\n```", "A\nB", "validate"),
    ],
)
def test_well_formed_replies(text: str, discussion: str, command: str) -> None:
    assert parse_reply(text) == (discussion, command)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "your reply was empty"),
        ("   \n", "your reply was empty"),
        ("I will run ls", "your reply had no command in a fenced code block (```)"),
        (
            "Two.\n```\nls\n```\nand\n```\npwd\n```",
            "your reply had 2 fenced code blocks; give exactly one",
        ),
        ("Empty.\n```\n\n```", "the fenced code block was empty"),
        ("```\nls\n```", "your reply had no discussion before the command"),
        (
            "Go.\n```\nls\n```\nthen more",
            "your reply went on after the command; end it with the code block",
        ),
        (
            "x" * (MAX_REPLY_CHARS + 1),
            f"your reply was {MAX_REPLY_CHARS + 1:,} characters long, over {MAX_REPLY_CHARS:,}",
        ),
    ],
)
def test_malformed_replies_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(FormatError, match=f"^{re.escape(problem)}$"):
        parse_reply(text)
