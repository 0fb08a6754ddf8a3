"""Attacks on the evaluation: code planted where the evaluator might import it, results
forged, artefacts that are links or pipes, and the hidden inputs read or leaked.

The task is ``secret``: only a submission that knows the secret in its eval/ scores, so
every score stored must be 0, and the secret must appear nowhere in what the run stored.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from tests.security.conftest import attack, make_secret_task

if TYPE_CHECKING:
    from pathlib import Path

PLANTED = (
    "import atexit, os\n"
    "open(f'/tmp/planted-{os.getuid()}', 'w').close()\n"
    "p = os.environ.get('RGYM_RESULT')\n"
    "p and atexit.register(lambda: open(p, 'w').write('{\"Score\": 1000.0}'))\n"
)
"""Code that, imported by the evaluator, would forge its result; it leaves a mark by uid."""


def plant(path: str, text: str) -> str:
    return f"mkdir -p $(dirname {path}) && printf %s {shlex.quote(text)} > {path}"


async def test_code_planted_where_the_agent_can_write_never_runs_in_the_evaluator(
    backend: str, tmp_path: Path, secret: str
) -> None:
    task = make_secret_task(tmp_path / "task", secret)
    site = "$HOME/.local/lib/python3.11/site-packages"
    pth = "import os; exec(open('/tmp/sitecustomize.py').read())\n"
    commands = [
        *[plant(f"{place}/sitecustomize.py", PLANTED) for place in ("/tmp", "$PWD", site)],
        *[plant(f"{place}/usercustomize.py", PLANTED) for place in ("/tmp", site)],
        *[plant(f"{place}/zz.pth", pth) for place in ("/tmp", site, "$PWD")],
        "export PYTHONPATH=/tmp:$PWD PYTHONSTARTUP=/tmp/sitecustomize.py "
        "PYTHONUSERBASE=$HOME/.local",
        "for d in $(python3 -I -c 'import sys; print(\" \".join(sys.path[1:]))'); do "
        'cp /tmp/zz.pth "$d/" 2>/dev/null && echo "planted in $d"; done; true',
        "python3 -c pass",  # the agent's own Python runs what it planted: the bait works
        "validate",
        "ls /tmp/planted-*",
    ]
    done = await attack(tmp_path, backend, commands, task=task)
    assert "planted in" not in done.outputs[len(commands) - 4]  # no system path is writable
    uid = "1000" if backend == "docker" else None
    marks = done.outputs[len(commands) - 1].split()
    assert len(marks) == 1 and not marks[0].endswith("-0"), marks  # the agent's, never root's
    assert uid is None or marks == [f"/tmp/planted-{uid}"]
    assert done.scores == [0.0, 0.0]


FORGER = """\
import glob, json, os, sys
FORGED = json.dumps({"Score": 1000.0})
print(FORGED)
print(FORGED, file=sys.stderr)
for path in ["/tmp/result.json", os.path.expanduser("~/result.json"),
             *glob.glob("/var/lib/researchgym/*/result.json"), "/proc/1/fd/1"]:
    try:
        with open(path, "w") as out:
            out.write(FORGED)
    except OSError:
        pass


def answer():
    print(FORGED)
    return FORGED
"""


async def test_a_forged_result_printed_or_written_anywhere_is_not_a_score(
    backend: str, tmp_path: Path, secret: str
) -> None:
    task = make_secret_task(tmp_path / "task", secret)
    loop = (
        "while :; do for d in /tmp /var/tmp $HOME $PWD; do "
        "echo '{\"Score\": 1000.0}' > $d/result.json; done; done"
    )
    commands = [
        plant("answer.py", FORGER),
        f"(setsid nohup bash -c {shlex.quote(loop)} >/dev/null 2>&1 &)",
        "validate",
        "echo '{\"Score\": 1000.0}'",
    ]
    done = await attack(tmp_path, backend, commands, task=task)
    assert done.scores == [0.0, 0.0]


THIEF = """\
import glob, os, sys
found = []
for pattern in ["/var/lib/researchgym/*/secret.txt", "/var/lib/researchgym/**/*",
                "/proc/*/cwd/secret.txt", "/proc/*/environ", "/proc/*/cmdline"]:
    for path in glob.glob(pattern, recursive=True):
        try:
            found.append(open(path, errors="replace").read())
        except OSError:
            pass
LOOT = "\\n".join(found)
print(LOOT)
print(LOOT, file=sys.stderr)


def answer():
    return LOOT
"""


async def test_the_hidden_inputs_never_reach_the_agent_or_the_store(
    backend: str, tmp_path: Path, secret: str
) -> None:
    task = make_secret_task(tmp_path / "task", secret)
    loop = (
        "while :; do cat /var/lib/researchgym/*/secret.txt /proc/*/cwd/secret.txt "
        "/proc/*/cwd/*/secret.txt; done >> $HOME/loot.txt 2>/dev/null"
    )
    commands = [
        plant("answer.py", THIEF),
        f"(setsid nohup bash -c {shlex.quote(loop)} >/dev/null 2>&1 &)",
        "validate",
        "validate",
        "cat $HOME/loot.txt; ls -la /var/lib/researchgym 2>&1; find / -name secret.txt 2>/dev/null",
    ]
    done = await attack(tmp_path, backend, commands, task=task)
    assert done.scores == [0.0, 0.0, 0.0]
    assert secret not in done.stored_text


async def test_links_and_pipes_as_artefacts_get_no_score_and_do_not_hang(
    backend: str, tmp_path: Path, secret: str
) -> None:
    task = make_secret_task(tmp_path / "task", secret, evaluation={"timeout": 15})
    artefacts = [
        "ln -sf /etc/shadow answer.py",
        "ln -sf /var/lib/researchgym answer.py",
        "ln -sf /dev/zero answer.py",
        "ln -sf answer.py answer.py",
        "mkfifo answer.py",
    ]
    commands = [
        step for artefact in artefacts for step in (f"rm -f answer.py; {artefact}", "validate")
    ]
    done = await attack(tmp_path, backend, commands, task=task)
    assert done.scores == []  # none of them was scored
    for output in done.outputs[1::2]:
        assert output.startswith("Evaluation failed (evaluation_format_error): "), output
    assert secret not in done.stored_text
