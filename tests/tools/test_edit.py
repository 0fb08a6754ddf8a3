"""edit and insert, on a local sandbox: ranges, deletions, and reverted Python edits."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from tests.tools.helpers import observe, write

if TYPE_CHECKING:
    from researchgym.tools import ToolContext

UPDATED = (
    "File updated. Please review the changes and make sure they are correct (correct "
    "indentation, no duplicate lines, etc). Edit the file again if necessary."
)
SOURCE = "import math\n\n\ndef area(r):\n    return math.pi * r**2\n"


async def lines_of(context: ToolContext, path: str) -> list[str]:
    return (await context.sandbox.read_file(path)).decode().splitlines()


@pytest.fixture
async def text(context: ToolContext) -> str:
    """A five-line text file, open in the viewer."""
    await write(context, "notes.txt", "one\ntwo\nthree\nfour\nfive\n")
    await observe(context, "open notes.txt")
    return f"{context.sandbox.workdir}/notes.txt"


@pytest.fixture
async def module(context: ToolContext) -> str:
    """A small Python module, open in the viewer."""
    await write(context, "geometry.py", SOURCE)
    await observe(context, "open geometry.py")
    return f"{context.sandbox.workdir}/geometry.py"


async def test_edit_replaces_the_first_line(context: ToolContext, text: str) -> None:
    assert await observe(context, "edit 1:1\nONE\nend_of_edit") == (
        f"[File: {text} (5 lines total)]\n1:ONE\n2:two\n3:three\n4:four\n5:five\n{UPDATED}"
    )
    assert await lines_of(context, text) == ["ONE", "two", "three", "four", "five"]


async def test_edit_replaces_the_last_line_with_several(context: ToolContext, text: str) -> None:
    await observe(context, "edit 5:5\nfive\nsix\n  seven\nend_of_edit")
    assert await lines_of(context, text) == [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "  seven",
    ]


async def test_an_end_past_the_last_line_stops_there(context: ToolContext, text: str) -> None:
    await observe(context, "edit 4:99\nend\nend_of_edit")
    assert await lines_of(context, text) == ["one", "two", "three", "end"]


async def test_an_empty_edit_deletes(context: ToolContext, text: str) -> None:
    assert await observe(context, "edit 2:4\nend_of_edit") == (
        f"[File: {text} (2 lines total)]\n1:one\n2:five\n{UPDATED}"
    )


async def test_insert_at_the_top_and_at_the_end(context: ToolContext, text: str) -> None:
    await observe(context, "insert 0\nzero\nend_of_insert")
    await observe(context, "insert 6\nsix\nend_of_insert")
    assert await lines_of(context, text) == ["zero", "one", "two", "three", "four", "five", "six"]


async def test_edit_into_an_empty_file(context: ToolContext) -> None:
    await observe(context, "create new.txt")
    await observe(context, "edit 1:1\nhello\nend_of_edit")
    assert await context.sandbox.read_file("new.txt") == b"hello\n"


async def test_the_window_follows_an_edit_out_of_view(context: ToolContext) -> None:
    await write(context, "long.txt", "".join(f"{n}\n" for n in range(1, 301)))
    await observe(context, "open long.txt")
    shown = await observe(context, "edit 250:250\nchanged\nend_of_edit")
    assert "\n250:changed\n" in shown
    assert context.viewer.first == 201  # 250 brought into view, the window kept in the file
    await observe(context, "goto 1")
    await observe(context, "edit 50:50\nagain\nend_of_edit")
    assert context.viewer.first == 1  # already in view: the window stays


@pytest.mark.parametrize(
    ("command", "observation"),
    [
        (
            "edit 1\nx\nend_of_edit",
            "Usage: edit <start_line>:<end_line>\n"
            "Error: give the first and last line to replace, as in edit 5:7.",
        ),
        ("edit 0:1\nx\nend_of_edit", "Error: <start_line> must be at least 1."),
        (
            "edit 3:2\nx\nend_of_edit",
            "Error: <end_line> (2) must not be less than "
            "<start_line> (3). To add lines without replacing any, use insert.",
        ),
        (
            "edit 7:7\nx\nend_of_edit",
            "Error: <start_line> (7) is past the end of the file "
            "(5 lines). To add lines at the end, use insert 5.",
        ),
        (
            "insert x\ny\nend_of_insert",
            "Usage: insert <line_number>\n"
            "Error: give the line to insert after (0 for the top), as in insert 12.",
        ),
        (
            "insert 6\ny\nend_of_insert",
            "Error: <line_number> must be between 0 and 5, the "
            "number of lines in the file; it was 6.",
        ),
        ("insert 1\nend_of_insert", "Error: there are no lines to insert before end_of_insert."),
        (
            "edit 1:1\nx\n",
            "Error: the edit command must end with a line holding only "
            "end_of_edit. Nothing was changed.",
        ),
        (
            "edit 1:1\nx\nend_of_edit\nrm notes.txt",
            "Error: unexpected text after "
            "end_of_edit:\nrm notes.txt\nSend one command per action. Nothing was run.",
        ),
    ],
)
async def test_a_bad_edit_changes_nothing(
    context: ToolContext, text: str, command: str, observation: str
) -> None:
    assert await observe(context, command) == observation
    assert await lines_of(context, text) == ["one", "two", "three", "four", "five"]


async def test_editing_needs_an_open_file(context: ToolContext) -> None:
    no_file = "No file open. Use the open command first."
    assert await observe(context, "edit 1:1\nx\nend_of_edit") == no_file
    assert await observe(context, "insert 0\nx\nend_of_insert") == no_file


async def test_a_syntax_error_is_reverted_with_both_versions_shown(
    context: ToolContext, module: str
) -> None:
    observation = await observe(context, "edit 5:5\n    return math.pi * r**2)\nend_of_edit")
    assert observation == (
        "Your proposed edit has introduced new error(s). Please read this error message "
        "carefully and then retry.\n\n"
        "ERRORS:\n- line 5: SyntaxError: unmatched ')'\n\n"
        "This is how your edit would have looked if applied\n"
        "-------------------------------------------------\n"
        f"[File: {module} (5 lines total)]\n"
        "1:import math\n2:\n3:\n4:def area(r):\n5:    return math.pi * r**2)\n"
        "-------------------------------------------------\n\n"
        "This is the original code before your edit\n"
        "-------------------------------------------------\n"
        f"[File: {module} (5 lines total)]\n"
        "1:import math\n2:\n3:\n4:def area(r):\n5:    return math.pi * r**2\n"
        "-------------------------------------------------\n"
        "Your changes have NOT been applied. Please fix your command and try again.\n"
        "You either need to 1) Specify the correct line arguments or 2) Correct your code.\n"
        "DO NOT re-run the same failed command. Running it again will lead to the same error."
    )
    assert (await context.sandbox.read_file(module)).decode() == SOURCE


async def test_an_undefined_name_is_reverted(context: ToolContext, module: str) -> None:
    observation = await observe(context, "insert 5\n\n\nprint(area(radius))\nend_of_insert")
    assert observation.startswith(
        "Your proposed insertion has introduced new error(s). Please read this error message "
        "carefully and then retry.\n\nERRORS:\n- line 8: undefined name 'radius'\n\n"
        "This is how your insertion would have looked if applied\n"
    )
    assert "\n8:print(area(radius))\n" in observation
    assert (await context.sandbox.read_file(module)).decode() == SOURCE


async def test_a_python_edit_without_new_errors_is_applied(
    context: ToolContext, module: str
) -> None:
    shown = await observe(
        context, "edit 4:5\ndef area(r: float) -> float:\n    return math.pi * r * r\nend_of_edit"
    )
    assert shown.endswith(UPDATED)
    assert (await lines_of(context, module))[3:] == [
        "def area(r: float) -> float:",
        "    return math.pi * r * r",
    ]


async def test_an_already_broken_file_can_still_be_edited(context: ToolContext) -> None:
    await write(context, "broken.py", "x = undefined_thing\ndef f(:\n    pass\ny = 1\n")
    await observe(context, "open broken.py")
    assert (await observe(context, "edit 4:4\ny = 2\nend_of_edit")).endswith(UPDATED)
    assert (await observe(context, "edit 2:2\ndef f():\nend_of_edit")).endswith(UPDATED)
    # The old undefined name shows now that the file parses, but this edit did not add it.
    assert (await observe(context, "insert 0\nimport os\nend_of_insert")).endswith(UPDATED)
    assert await lines_of(context, "broken.py") == [
        "import os",
        "x = undefined_thing",
        "def f():",
        "    pass",
        "y = 2",
    ]


async def test_other_files_are_not_checked(context: ToolContext, text: str) -> None:
    assert (await observe(context, "edit 1:1\ndef (:\nend_of_edit")).endswith(UPDATED)


async def test_a_non_utf8_file_is_not_edited(context: ToolContext) -> None:
    await context.sandbox.write_file("latin.txt", "café\n".encode("latin-1"))
    assert (await observe(context, "open latin.txt")).endswith("\n1:caf\ufffd")
    assert await observe(context, "edit 1:1\ncafe\nend_of_edit") == (
        f"Error: {context.sandbox.workdir}/latin.txt is not UTF-8 text, so it cannot be edited."
    )


async def test_an_edit_keeps_the_files_mode(context: ToolContext) -> None:
    await write(context, "run.sh", "echo hi\n")
    await observe(context, "chmod 750 run.sh")
    await observe(context, "open run.sh")
    await observe(context, "edit 1:1\necho hello\nend_of_edit")
    assert await observe(context, "stat -c %a run.sh && ./run.sh") == "750\nhello\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any file (the Docker tests cover it)")
async def test_a_read_only_file_is_refused(context: ToolContext) -> None:
    await write(context, "frozen.py", "x = 1\n")
    await observe(context, "chmod 444 frozen.py")
    await observe(context, "open frozen.py")
    path = f"{context.sandbox.workdir}/frozen.py"
    assert await observe(context, "edit 1:1\nx = 2\nend_of_edit") == (
        f"Error: {path} is read-only; you cannot edit it."
    )
