from __future__ import annotations

import pytest

from researchgym.tools import DEFAULT_WINDOW, Viewer
from researchgym.tools.viewer import LINE_CAP, clamp_first, render_window, split_lines
from tests.tools.helpers import numbered

LINES = [f"line{n}" for n in range(1, 251)]


def test_the_first_window_shows_how_many_lines_lie_below() -> None:
    assert render_window("/w/a.py", LINES, 1, 100) == (
        f"[File: /w/a.py (250 lines total)]\n{numbered(1, 100)}\n(150 more lines below)"
    )


def test_a_middle_window_shows_lines_above_and_below() -> None:
    assert render_window("/w/a.py", LINES, 101, 100) == (
        "[File: /w/a.py (250 lines total)]\n(100 more lines above)\n"
        f"{numbered(101, 200)}\n(50 more lines below)"
    )


def test_the_last_window_shows_no_lines_below() -> None:
    assert render_window("/w/a.py", LINES, 151, 100) == (
        f"[File: /w/a.py (250 lines total)]\n(150 more lines above)\n{numbered(151, 250)}"
    )


def test_a_short_file_fits_in_one_window() -> None:
    assert render_window("/w/a.py", LINES[:3], 1, 100) == (
        f"[File: /w/a.py (3 lines total)]\n{numbered(1, 3)}"
    )
    assert render_window("/w/e.py", [], 1, 100) == "[File: /w/e.py (0 lines total)]"


def test_a_very_long_line_is_cut() -> None:
    window = render_window("/w/min.js", ["x" * (LINE_CAP + 5)], 1, 100)
    assert window.endswith("\n1:" + "x" * LINE_CAP + "... [5 more characters on this line]")


@pytest.mark.parametrize(
    ("first", "total", "expected"),
    [(1, 250, 1), (0, 250, 1), (151, 250, 151), (152, 250, 151), (400, 250, 151), (9, 30, 1)],
)
def test_the_window_stays_in_the_file(first: int, total: int, expected: int) -> None:
    assert clamp_first(first, total, 100) == expected


def test_only_newlines_end_lines() -> None:
    assert split_lines("a\r\nb\x0cc\n\n") == ["a\r", "b\x0cc", ""]
    assert split_lines("no final newline") == ["no final newline"]


def test_showing_a_line_puts_it_a_sixth_of_a_window_from_the_top() -> None:
    viewer = Viewer(cwd="/w")
    assert viewer.window == DEFAULT_WINDOW
    viewer.show("/w/a.py", LINES, line=120)
    assert (viewer.path, viewer.first) == ("/w/a.py", 120 - DEFAULT_WINDOW // 6)
    viewer.show("/w/a.py", LINES, line=249)
    assert viewer.first == 151
    viewer.first = 500  # kept unless asked to move, but always within the file
    viewer.show("/w/a.py", LINES[:10])
    assert viewer.first == 1
