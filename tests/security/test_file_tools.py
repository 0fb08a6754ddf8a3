"""Attacks on the file tools: links swapped in while a tool works, and files too big to hold.

A background loop swaps ``x.txt`` between a file of the agent's and a link to somewhere the
agent may not write (a system ``.pth`` file that the root evaluator would run; a host file),
hundreds of times while the agent edits, inserts, creates and opens it. A file tool that
checked the path and then wrote through it with more rights than the agent's would plant
the payload, which forges the evaluation's result; nothing of the kind may happen.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from tests.security.conftest import MEMORY_BUDGET, attack, make_secret_task

if TYPE_CHECKING:
    from pathlib import Path

PAYLOAD = (
    'import os, atexit; p = os.environ.get("RGYM_RESULT"); '
    "p and atexit.register(lambda: open(p, 'w').write('{\"Score\": 1000.0}'))"
)
"""A .pth line: run at the start of any Python that loads it, it forges the result."""

ROUNDS = 40
"""Rounds of five file commands each, against the swapping loop: 200 tries."""


def swapping(target: str) -> str:
    """Start a loop that swaps x.txt between the agent's file and a link to ``target``."""
    loop = (
        f"while :; do ln -sfn {shlex.quote(target)} x.new && mv -fT x.new x.txt; "
        "cp x.keep x.new2 && mv -fT x.new2 x.txt; done"
    )
    return (
        "printf 'line\\n' > x.keep && cp x.keep x.txt && "
        f"(setsid nohup bash -c {shlex.quote(loop)} >/dev/null 2>&1 &)"
    )


def racing_commands() -> list[str]:
    return [
        "open x.txt",
        *[
            command
            for _ in range(ROUNDS)
            for command in (
                f"edit 1:1\n{PAYLOAD}\nend_of_edit",
                f"insert 0\n{PAYLOAD}\nend_of_insert",
                "create x.txt",
                "open x.txt",
                "goto 1",
            )
        ],
        "pkill -f 'while :; do ln'; true",
    ]


async def test_a_link_swapped_in_during_edits_plants_nothing(
    backend: str, tmp_path: Path, secret: str
) -> None:
    task = make_secret_task(tmp_path / "task", secret)
    canary = tmp_path / "host" / "canary.pth"
    canary.parent.mkdir()
    canary.write_text("untouched\n")
    targets = (
        ["/usr/lib/python3/dist-packages/zz.pth", "/usr/local/lib/python3.11/dist-packages/zz.pth"]
        if backend == "docker"
        else [str(canary), str(canary.parent / "new.pth")]
    )
    commands = [swapping(target) for target in targets[:1]]
    commands += racing_commands()
    commands += [swapping(targets[1]), *racing_commands()]
    commands += [f"ls {' '.join(targets)} 2>&1 | sed 's/.*cannot access //'", "validate"]
    done = await attack(tmp_path, backend, commands, task=task)
    assert done.scores == [0.0, 0.0]  # validate and submit: honest, nothing forged
    listed = done.outputs[len(commands) - 2]  # the command before validate
    assert listed.splitlines() == [f"'{target}': No such file or directory" for target in targets]
    assert canary.read_text() == "untouched\n"
    assert not (canary.parent / "new.pth").exists()
    updated = sum("File updated" in output for output in done.outputs)
    refused = sum("outside your workspace and home" in output for output in done.outputs)
    assert updated > 0 and refused > 0, (updated, refused)  # the race was run, both ways
    assert done.memory_rise < MEMORY_BUDGET


async def test_a_sparse_file_of_gigabytes_is_never_read(
    backend: str, tmp_path: Path, secret: str
) -> None:
    task = make_secret_task(tmp_path / "task", secret)
    commands = [
        "truncate -s 8G huge.txt && ln -s huge.txt alias.txt",
        "open huge.txt",
        "open alias.txt",
        "search_file zero huge.txt",
        "search_dir zero",
        "find_file huge.txt",
        swapping("huge.txt"),
        *["open x.txt", "goto 1", "search_file line x.txt"] * 30,
    ]
    done = await attack(tmp_path, backend, commands, task=task)
    assert done.outputs[1] == (
        "Error: huge.txt is 8192 MiB, too large to open (the limit is 32 MiB). Look at parts "
        "of it with head, tail, grep or sed -n '100,200p'."
    )
    assert done.outputs[2].startswith("Error: alias.txt is 8192 MiB, too large to open")
    assert done.outputs[3] == 'No matches found for "zero" in /home/agent/workspace/huge.txt'
    assert done.memory_rise < MEMORY_BUDGET
    assert done.scores == [0.0]
