from __future__ import annotations

import pytest

from researchgym.tools import COMMANDS, ActionClass, Bash, Submit, Validate, command_docs, find_tool


@pytest.mark.parametrize(
    ("command", "tool", "action_class"),
    [
        ("validate", Validate, ActionClass.VALIDATE),
        ("  validate  ", Validate, ActionClass.VALIDATE),
        ("submit", Submit, ActionClass.SUBMIT),
        ("python3 train.py --epochs 3", Bash, ActionClass.PYTHON),
        ("python -c 'print(1)'", Bash, ActionClass.PYTHON),
        ("ls -la", Bash, ActionClass.BASH),
        ("pythonic-tool", Bash, ActionClass.BASH),
        ("validated_results.sh", Bash, ActionClass.BASH),
        ("", Bash, ActionClass.BASH),
    ],
)
def test_lines_go_to_the_right_tool(command: str, tool: type, action_class: ActionClass) -> None:
    assert isinstance(find_tool(command), tool)
    assert find_tool(command).classify(command) is action_class


def test_every_command_documents_itself_once() -> None:
    docs = command_docs()
    for tool in [*COMMANDS.values(), Bash()]:
        assert docs.count(tool.signature + "\n") == 1
        assert tool.doc in docs
