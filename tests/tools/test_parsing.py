from __future__ import annotations

import pytest

from researchgym.tools import ToolError
from researchgym.tools.parsing import Invocation, command_word, parse
from tests.tools.helpers import pinned


@pytest.mark.parametrize(
    ("command", "word"),
    [("open a.py", "open"), ("\n  edit 1:2\nx\nend_of_edit", "edit"), ("", ""), ("  \n", "")],
)
def test_the_first_word_picks_the_command(command: str, word: str) -> None:
    assert command_word(command) == word


def test_a_one_line_command_splits_like_a_shell() -> None:
    assert parse("open 'my file.py' 12") == Invocation("open", ["my file.py", "12"], None)
    assert parse("\n\nscroll_down  \n  \n") == Invocation("scroll_down", [], None)


def test_a_body_ends_at_its_terminator() -> None:
    command = "edit 2:3\n    x = 'end_of_edit'\n\n  end_of_edit  \n\n"
    assert parse(command, terminator="end_of_edit") == Invocation(
        "edit", ["2:3"], ["    x = 'end_of_edit'", ""]
    )


def test_an_empty_body_is_empty() -> None:
    assert parse("edit 2:3\nend_of_edit", terminator="end_of_edit").body == []


def test_a_missing_terminator_is_an_error() -> None:
    with pytest.raises(
        ToolError,
        match=pinned(
            "Error: the edit command must end with a line holding only end_of_edit. "
            "Nothing was changed."
        ),
    ):
        parse("edit 2:3\nx = 1\nend_of_insert", terminator="end_of_edit")


def test_text_after_the_terminator_is_an_error_not_dropped() -> None:
    with pytest.raises(
        ToolError,
        match=pinned(
            "Error: unexpected text after end_of_insert:\npython3 a.py\n"
            "Send one command per action. Nothing was run."
        ),
    ):
        parse("insert 0\nx = 1\nend_of_insert\npython3 a.py", terminator="end_of_insert")


def test_text_after_a_one_line_command_is_an_error() -> None:
    with pytest.raises(
        ToolError,
        match=pinned(
            "Error: unexpected text after the open command:\nls\n"
            "Send one command per action. Nothing was run."
        ),
    ):
        parse("open a.py\nls")


def test_long_trailing_text_is_shortened() -> None:
    with pytest.raises(ToolError) as caught:
        parse("goto 1\n" + "x" * 500)
    assert "x" * 200 + "...\n" in str(caught.value)


def test_an_open_quote_is_an_error() -> None:
    with pytest.raises(ToolError, match=r"^Error: cannot read the arguments of `open 'a\.py`: "):
        parse("open 'a.py")
