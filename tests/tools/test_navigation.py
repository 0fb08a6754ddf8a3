"""open, goto, scroll_up, scroll_down and create, on a local sandbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.tools.helpers import numbered, observe, write

if TYPE_CHECKING:
    from researchgym.tools import ToolContext

TEXT = "".join(f"line{n}\n" for n in range(1, 251))


@pytest.fixture
async def path(context: ToolContext) -> str:
    """A 250-line file in the workspace, not yet open."""
    await write(context, "a.txt", TEXT)
    return f"{context.sandbox.workdir}/a.txt"


def header(path: str, total: int = 250) -> str:
    return f"[File: {path} ({total} lines total)]"


async def test_open_shows_the_first_window(context: ToolContext, path: str) -> None:
    assert await observe(context, "open a.txt") == (
        f"{header(path)}\n{numbered(1, 100)}\n(150 more lines below)"
    )
    assert (context.viewer.path, context.viewer.first) == (path, 1)


async def test_open_at_a_line_shows_the_window_around_it(context: ToolContext, path: str) -> None:
    assert await observe(context, "open a.txt 120") == (
        f"{header(path)}\n(103 more lines above)\n{numbered(104, 203)}\n(47 more lines below)"
    )


async def test_open_beyond_the_end_warns_and_shows_the_last_window(
    context: ToolContext, path: str
) -> None:
    assert await observe(context, "open a.txt 900") == (
        "Warning: <line_number> (900) is greater than the number of lines in the file (250)\n"
        "Warning: Setting <line_number> to 250\n"
        f"{header(path)}\n(150 more lines above)\n{numbered(151, 250)}"
    )
    assert (await observe(context, "open a.txt 0")).startswith(
        "Warning: <line_number> (0) is less than 1\nWarning: Setting <line_number> to 1\n"
    )


async def test_open_takes_paths_from_the_shells_directory(context: ToolContext) -> None:
    await observe(context, "mkdir -p 'sub dir' && printf 'x\\n' > 'sub dir/b.txt' && cd 'sub dir'")
    workspace = context.sandbox.workdir
    assert await observe(context, "open b.txt") == (
        f"[File: {workspace}/sub dir/b.txt (1 lines total)]\n1:x"
    )
    assert context.viewer.cwd == f"{workspace}/sub dir"
    await observe(context, "cd ..")
    assert (await observe(context, 'open "sub dir/b.txt"')).startswith("[File: ")


@pytest.mark.parametrize(
    ("command", "observation"),
    [
        ("open missing.txt", "Error: File missing.txt not found."),
        (
            "open .",
            "Error: . is a directory. You can only open files. "
            "Use cd or ls to navigate directories.",
        ),
        (
            "open",
            "Usage: open <path> [<line_number>]\n"
            "Error: give one path, and at most one line number.",
        ),
        (
            "open a.txt x",
            "Usage: open <path> [<line_number>]\nError: <line_number> must be a number",
        ),
        ("goto 5", "No file open. Use the open command first."),
        ("scroll_down", "No file open. Use the open command first."),
        ("scroll_up", "No file open. Use the open command first."),
        ("create", "Usage: create <filename>"),
        ("create a.txt", "Error: File 'a.txt' already exists. Use open a.txt to view it."),
    ],
)
async def test_what_cannot_be_shown_says_why(
    context: ToolContext, path: str, command: str, observation: str
) -> None:
    assert await observe(context, command) == observation
    assert context.viewer.path is None


async def test_a_binary_file_is_not_shown(context: ToolContext) -> None:
    await context.sandbox.write_file("w.bin", b"\x00\x01weights")
    assert await observe(context, "open w.bin") == (
        "Error: w.bin is a binary file; only text files can be shown."
    )


async def test_goto_moves_the_window(context: ToolContext, path: str) -> None:
    await observe(context, "open a.txt")
    assert await observe(context, "goto 200") == (
        f"{header(path)}\n(150 more lines above)\n{numbered(151, 250)}"
    )
    assert (await observe(context, "goto 50")).startswith(
        f"{header(path)}\n(33 more lines above)\n34:line34\n"
    )


@pytest.mark.parametrize("line", ["0", "251"])
async def test_goto_beyond_the_file_says_so(context: ToolContext, path: str, line: str) -> None:
    await observe(context, "open a.txt")
    assert await observe(context, f"goto {line}") == (
        f"Error: <line_number> must be between 1 and 250, the number of lines in the file; "
        f"it was {line}."
    )
    assert context.viewer.first == 1
    assert await observe(context, "goto") == (
        "Usage: goto <line_number>\nError: <line_number> must be a number"
    )


async def test_scrolling_moves_a_window_at_a_time_and_stops_at_the_edges(
    context: ToolContext, path: str
) -> None:
    await observe(context, "open a.txt")
    assert await observe(context, "scroll_down") == (
        f"{header(path)}\n(100 more lines above)\n{numbered(101, 200)}\n(50 more lines below)"
    )
    last = f"{header(path)}\n(150 more lines above)\n{numbered(151, 250)}"
    assert await observe(context, "scroll_down") == last
    assert await observe(context, "scroll_down") == (
        f"{last}\n(You are already at the end of the file.)"
    )
    assert (await observe(context, "scroll_up")).startswith(
        f"{header(path)}\n(50 more lines above)\n51:line51\n"
    )
    await observe(context, "scroll_up")
    assert (await observe(context, "scroll_up")).endswith(
        "(150 more lines below)\n(You are already at the top of the file.)"
    )
    assert await observe(context, "scroll_up 3") == "Usage: scroll_up (it takes no arguments)"


async def test_a_short_file_does_not_scroll(context: ToolContext) -> None:
    await write(context, "s.txt", "a\nb\n")
    await observe(context, "open s.txt")
    assert (await observe(context, "scroll_down")).endswith(
        "\n1:a\n2:b\n(You are already at the end of the file.)"
    )


async def test_create_makes_an_empty_file_and_opens_it(context: ToolContext) -> None:
    workspace = context.sandbox.workdir
    assert await observe(context, "create models/net.py") == (
        f"[File: {workspace}/models/net.py (0 lines total)]"
    )
    assert context.viewer.path == f"{workspace}/models/net.py"
    assert await context.sandbox.read_file("models/net.py") == b""


async def test_create_never_replaces_a_file(context: ToolContext) -> None:
    await write(context, "keep.py", "x = 1\n")
    await observe(context, "ln -s keep.py link.py")
    for name in ("keep.py", "link.py"):
        assert (await observe(context, f"create {name}")).startswith(f"Error: File '{name}'")
    assert await context.sandbox.read_file("keep.py") == b"x = 1\n"
