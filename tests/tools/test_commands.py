from __future__ import annotations

import pytest

from researchgym.tools import (
    COMMANDS,
    ActionClass,
    Bash,
    Create,
    Edit,
    FindFile,
    Goto,
    Insert,
    Open,
    ScrollDown,
    ScrollUp,
    SearchDir,
    SearchFile,
    Submit,
    Validate,
    command_docs,
    find_tool,
)


@pytest.mark.parametrize(
    ("command", "tool", "action_class"),
    [
        ("open train.py 40", Open, ActionClass.VIEW),
        ("goto 12", Goto, ActionClass.VIEW),
        ("scroll_up", ScrollUp, ActionClass.VIEW),
        ("scroll_down", ScrollDown, ActionClass.VIEW),
        ("create model.py", Create, ActionClass.EDIT),
        ("edit 1:2\nx = 1\nend_of_edit", Edit, ActionClass.EDIT),
        ("\ninsert 0\nimport os\nend_of_insert", Insert, ActionClass.EDIT),
        ("search_dir lr src", SearchDir, ActionClass.SEARCH),
        ("search_file lr", SearchFile, ActionClass.SEARCH),
        ("find_file '*.py'", FindFile, ActionClass.SEARCH),
        ("validate", Validate, ActionClass.VALIDATE),
        ("  validate  ", Validate, ActionClass.VALIDATE),
        ("submit", Submit, ActionClass.SUBMIT),
        ("python3 train.py --epochs 3", Bash, ActionClass.PYTHON),
        ("python -c 'print(1)'", Bash, ActionClass.PYTHON),
        ("ls -la", Bash, ActionClass.BASH),
        ("opener.sh", Bash, ActionClass.BASH),
        ("pythonic-tool", Bash, ActionClass.BASH),
        ("validated_results.sh", Bash, ActionClass.BASH),
        ("cd src && open main.py", Bash, ActionClass.BASH),
        ("", Bash, ActionClass.BASH),
    ],
)
def test_lines_go_to_the_right_tool(command: str, tool: type, action_class: ActionClass) -> None:
    assert isinstance(find_tool(command), tool)
    assert find_tool(command).classify(command) is action_class


def test_the_command_set_is_mlgyms() -> None:
    assert list(COMMANDS) == [
        "open",
        "goto",
        "scroll_up",
        "scroll_down",
        "create",
        "edit",
        "insert",
        "search_dir",
        "search_file",
        "find_file",
        "validate",
        "submit",
    ]


def test_every_command_documents_itself_once() -> None:
    docs = command_docs()
    for tool in [*COMMANDS.values(), Bash()]:
        assert docs.count(tool.signature + "\n") == 1
        assert tool.doc.replace("\n", "\n  ") in docs


def test_docs_are_a_signature_then_an_indented_description() -> None:
    blocks = command_docs().split("\n\n")
    assert blocks[0] == (
        "open <path> [<line_number>]\n"
        "  opens the file at the given path in the editor. If line_number is provided, the "
        "window will be moved to include that line"
    )
    assert blocks[5].startswith(
        "edit <start_line>:<end_line>\n<replacement_text>\nend_of_edit\n"
        "  replaces lines <start_line> through <end_line> (inclusive)"
    )
    assert blocks[-1].startswith("<bash command>\n  Any other line runs in a persistent bash")
    assert len(blocks) == len(COMMANDS) + 1
