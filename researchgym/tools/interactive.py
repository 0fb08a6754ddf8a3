"""Interactive programs, refused before they run, with what to do instead.

Commands run with no terminal and stdin from /dev/null, so an editor, a pager, a monitor
or a bare REPL would at best exit at once and at worst hang until the time limit. Each
simple command of the action is checked (split at ``;``, ``&&``, ``|``, ...), after
``sudo``/``env``/``timeout``-style wrappers and variable assignments. Lines after one that
starts a here-document are not checked: they are data, not commands.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from typing import NamedTuple

__all__ = ["interactive_refusal"]

_NO_TERMINAL = "and commands here get no terminal or input"
_EDITORS = {"vim", "vi", "nvim", "view", "nano", "pico", "emacs", "joe", "micro", "jed"}
_PAGERS = {"less", "more", "most"}
_MONITORS = {"top", "htop", "btop", "atop", "nvtop", "watch"}
_SHELLS = {"bash", "sh", "zsh", "dash", "fish"}
_PYTHON = re.compile(r"python[0-9.]*|ipython3?")
_WRAPPERS = {"sudo", "time", "nohup", "exec", "command", "nice", "env", "stdbuf"}
_TAKES_VALUE = {"-W", "-X", "-Q"}
_JUST_PRINTS = {"-V", "-VV", "--version", "-h", "--help", "-?"}
_COMMIT_MESSAGE = ("--message", "--file", "--no-edit", "--reuse-message")


def interactive_refusal(command: str) -> str | None:
    """Return why ``command`` needs a terminal and what to do instead; None if it does not.

    >>> interactive_refusal("ls && python3 train.py") is None
    True
    >>> print(interactive_refusal("cd src; vim main.py"))  # doctest: +ELLIPSIS
    Error: vim is an interactive editor, and commands here get no terminal or input. ...
    """
    for simple in _simple_commands(command):
        refusal = _refusal(simple.words, reads_terminal=simple.reads_terminal)
        if refusal is not None:
            return refusal
    return None


class _Simple(NamedTuple):
    words: list[str]
    reads_terminal: bool
    """False if its stdin is a pipe or a file."""


def _simple_commands(command: str) -> list[_Simple]:
    commands: list[_Simple] = []
    for line in command.split("\n"):
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        try:
            tokens = list(lexer)
        except ValueError:  # an open quote: bash will say so
            tokens = []
        current: list[str] = []
        reads_terminal, redirected = True, False
        for token in tokens:
            if redirected:  # the redirection's target
                redirected = False
            elif token and all(c in "<>&" for c in token) and token not in ("&", "&&"):
                redirected = True
                reads_terminal = reads_terminal and "<" not in token
            elif token and all(c in "();|&" for c in token):
                commands.append(_Simple(_unwrapped(current), reads_terminal))
                current, reads_terminal = [], token not in ("|", "|&")
            else:
                current.append(token)
        commands.append(_Simple(_unwrapped(current), reads_terminal))
        if "<<" in line:
            break
    return [simple for simple in commands if simple.words]


def _unwrapped(words: list[str]) -> list[str]:
    """Drop leading assignments and wrappers (``sudo``, ``env -i X=1``, ``timeout 10``)."""
    while words:
        first = words[0]
        if "=" in first and not first.startswith("-"):
            words = words[1:]
        elif first in _WRAPPERS or first == "timeout":
            rest = words[1:]
            while rest and rest[0].startswith("-"):
                rest = rest[1:]
            words = rest[1:] if first == "timeout" else rest
        else:
            return words
    return words


def _refusal(words: list[str], *, reads_terminal: bool) -> str | None:
    program, args = posixpath.basename(words[0]), words[1:]
    if program in _EDITORS and not {"--batch", "-batch", "--version"} & set(args):
        return (
            f"Error: {program} is an interactive editor, {_NO_TERMINAL}. Use open <file> to "
            "view a file, edit or insert to change it, and create <file> to make a new one."
        )
    if program in _PAGERS:
        return (
            f"Error: {program} is an interactive pager, {_NO_TERMINAL}. Use open <file> to "
            "view a file, or cat, head, tail or grep."
        )
    if program in _MONITORS and "-b" not in args:
        return (
            f"Error: {program} runs until someone quits it, {_NO_TERMINAL}. Take a snapshot "
            "instead: ps aux, nvidia-smi, or top -b -n 1."
        )
    if not reads_terminal:  # a REPL or shell reading a pipe or a file runs a program
        return _refusal_of_git(program, args)
    if _PYTHON.fullmatch(program) and _starts_a_repl(args):
        return (
            f"Error: {program} without a script starts an interactive interpreter, "
            f"{_NO_TERMINAL}. Run a script (python3 train.py) or a snippet "
            "(python3 -c 'print(1)')."
        )
    if program in _SHELLS and all(arg.startswith("-") and arg != "-c" for arg in args):
        return (
            f"Error: {program} without a script starts an interactive shell, {_NO_TERMINAL}. "
            "Run your commands directly, or a script (bash run.sh)."
        )
    return _refusal_of_git(program, args)


def _refusal_of_git(program: str, args: list[str]) -> str | None:
    if program == "git" and args[:1] == ["commit"] and not _has_message(args[1:]):
        return (
            f"Error: git commit without a message opens an editor, {_NO_TERMINAL}. "
            "Give the message: git commit -m 'message'."
        )
    return None


def _starts_a_repl(args: list[str]) -> bool:
    """True if python with these arguments reads its program from a terminal."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _TAKES_VALUE:
            skip = True
        elif arg in _JUST_PRINTS or arg == "-":
            return False
        elif arg.startswith("-") and not arg.startswith("--"):
            if "c" in arg or "m" in arg:
                return False
        elif not arg.startswith("-"):
            return False  # a script
    return True


def _has_message(args: list[str]) -> bool:
    """True if git commit's arguments give the message (``-m``, ``-am``, ``--file``...)."""
    for arg in args:
        if arg.startswith(_COMMIT_MESSAGE):
            return True
        if arg.startswith("-") and not arg.startswith("--") and set(arg[1:]) & {"m", "F", "C"}:
            return True
    return False
