from __future__ import annotations

import pytest

from researchgym.tools.lint import Problem, Span, introduced_problems, problems


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("x = 1\n", []),
        ("def f(:\n", [Problem(1, 7, "SyntaxError: invalid syntax", "syntax")]),
        (
            "if x:\npass\n",
            [
                Problem(
                    2,
                    1,
                    "IndentationError: expected an indented block after 'if' statement on line 1",
                    "syntax",
                )
            ],
        ),
        ("return 1\n", [Problem(1, 1, "SyntaxError: 'return' outside function", "syntax")]),
        ("print(y)\n", [Problem(1, 6, "undefined name 'y'")]),
        ("__all__ = ['z']\n", [Problem(1, 0, "undefined name 'z' in __all__")]),
        ("import re\npattern = '\\d'\n", []),  # a SyntaxWarning is no problem
        (
            "x = 1\0\n",
            [Problem(1, 0, "SyntaxError: source code string cannot contain null bytes", "syntax")],
        ),
    ],
)
def test_problems_are_syntax_errors_or_undefined_names(source: str, found: list[Problem]) -> None:
    assert problems(source, "m.py") == found


def test_a_problem_reads_as_a_list_item() -> None:
    assert str(Problem(3, 0, "undefined name 'q'")) == "- line 3: undefined name 'q'"


async def test_problems_the_original_had_elsewhere_are_not_new() -> None:
    before = "print(a)\nx = 1\nprint(b)\n"
    after = "print(a)\nx = 1\ny = 2\nz = c\nprint(b)\n"  # line 2 replaced by three lines
    found = await introduced_problems(before, after, filename="m.py", span=Span(2, 2, 3))
    assert found == [Problem(4, 4, "undefined name 'c'")]


async def test_a_problem_on_a_replaced_line_counts_again() -> None:
    before = "print(a)\n"
    after = "print(a)  # still\n"
    found = await introduced_problems(before, after, filename="m.py", span=Span(1, 1, 1))
    assert found == [Problem(1, 6, "undefined name 'a'")]


async def test_removing_a_definition_breaks_its_uses() -> None:
    before = "import os\n\nprint(os.sep)\n"
    after = "\nprint(os.sep)\n"
    found = await introduced_problems(before, after, filename="m.py", span=Span(1, 1, 0))
    assert found == [Problem(2, 6, "undefined name 'os'")]


async def test_in_a_file_that_did_not_compile_only_the_edited_lines_count() -> None:
    before = "print(a)\ndef f(:\n    pass\nclass :\n"
    fixed = "print(a)\ndef f():\n    pass\nclass :\n"
    assert await introduced_problems(before, fixed, filename="m.py", span=Span(2, 2, 1)) == []
    broken = "print(a) = 1\ndef f(:\n    pass\nclass :\n"
    found = await introduced_problems(before, broken, filename="m.py", span=Span(1, 1, 1))
    assert [(p.line, p.kind) for p in found] == [(1, "syntax")]
