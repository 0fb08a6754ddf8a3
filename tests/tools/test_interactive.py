from __future__ import annotations

import re

import pytest

from researchgym.tools.interactive import interactive_refusal

NO_TERMINAL = "and commands here get no terminal or input"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            "vim train.py",
            f"Error: vim is an interactive editor, {NO_TERMINAL}. Use open <file> to view a "
            "file, edit or insert to change it, and create <file> to make a new one.",
        ),
        (
            "cat log.txt | less",
            f"Error: less is an interactive pager, {NO_TERMINAL}. Use open <file> to view a "
            "file, or cat, head, tail or grep.",
        ),
        (
            "top",
            f"Error: top runs until someone quits it, {NO_TERMINAL}. Take a snapshot instead: "
            "ps aux, nvidia-smi, or top -b -n 1.",
        ),
        (
            "python3",
            f"Error: python3 without a script starts an interactive interpreter, {NO_TERMINAL}."
            " Run a script (python3 train.py) or a snippet (python3 -c 'print(1)').",
        ),
        (
            "bash",
            f"Error: bash without a script starts an interactive shell, {NO_TERMINAL}. Run your "
            "commands directly, or a script (bash run.sh).",
        ),
        (
            "git add -A && git commit",
            f"Error: git commit without a message opens an editor, {NO_TERMINAL}. Give the "
            "message: git commit -m 'message'.",
        ),
    ],
)
def test_interactive_programs_are_refused_with_what_to_do_instead(
    command: str, message: str
) -> None:
    refusal = interactive_refusal(command)
    assert refusal is not None
    assert re.fullmatch(re.escape(message), refusal)


@pytest.mark.parametrize(
    "command",
    [
        "nano x",
        "emacs -nw x",
        "/usr/bin/vi x",
        "cd src && vim model.py",
        "ls; more README.md",
        "sudo htop",
        "watch nvidia-smi",
        "python",
        "python -u",
        "python3.11 -W ignore",
        "ipython",
        "X=1 python3",
        "env -i PATH=/bin python3",
        "timeout 10 python3",
        "nohup python3 &",
        "sh",
        "bash -l",
        "git commit --amend",
    ],
)
def test_refused(command: str) -> None:
    assert interactive_refusal(command) is not None


@pytest.mark.parametrize(
    "command",
    [
        "ls -la",
        "python3 train.py --epochs 3",
        "python -c 'print(1)'",
        "python3 -m pytest -q",
        "python -uc 'print(1)'",
        "python -W ignore train.py",
        "python --version",
        "echo 'print(1)' | python3",
        "python3 < script.py",
        "python3 - < script.py",
        "bash run.sh",
        "bash -c 'echo hi'",
        "ls | bash",
        "top -b -n 1",
        "emacs --batch -l f.el",
        "git commit -m 'fix'",
        "git commit -am 'fix'",
        "git log --oneline",
        "echo vim is great",
        "grep -r less src",
        "cat > notes.md <<EOF\nless is more\nvim\nEOF",
        "echo 'unclosed",
        "",
    ],
)
def test_allowed(command: str) -> None:
    assert interactive_refusal(command) is None
