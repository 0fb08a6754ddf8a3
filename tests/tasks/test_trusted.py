"""rgym_eval, the trusted side of an evaluation: the agent's code in a process of its own.

Every test runs on every backend (tests/sandboxes/backends.py). Docker runs the agent's code
as ``agent`` and the evaluator as root; an isolated local sandbox under root runs it as
``nobody``; elsewhere a local sandbox runs both as the current user, which the tests show
where it matters (``Sandbox.agent_user`` is None).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import pytest

from researchgym.sandboxes import LocalSandbox, Sandbox
from researchgym.tasks import Task, evaluate
from tests.sandboxes.backends import any_sandbox, parametrize_backends
from tests.tasks.test_evaluator import load
from tests.tasks.test_loader import make_task

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["any_sandbox"]  # the fixture, imported for its tests


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_backends(metafunc)


async def program_task(root: Path, evaluator: str, *, timeout: float = 30) -> Task:
    """A task whose submission is the program answer.py, and whose evaluator is given."""
    make_task(
        root,
        lambda s: s.update(
            submission={"kind": "program", "path": "answer.py"},
            evaluation={"command": ["python3", "evaluate.py"], "timeout": timeout},
        ),
    )
    (root / "eval" / "evaluate.py").write_text(
        f"import os, rgym_eval\n\ndef evaluate():\n{evaluator}\n\nrgym_eval.main(evaluate)\n"
    )
    return await load(root)


async def test_calls_and_batches_reach_the_submission(any_sandbox: Sandbox, tmp_path: Path) -> None:
    task = await program_task(
        tmp_path / "t",
        "    with rgym_eval.Player() as player:\n"
        "        one = player.call('add', 40, 2)\n"
        "        many = player.map('add', [[1, 2], [3, 4]])\n"
        "    return {'Score': one, 'Batch': sum(many)}",
    )
    # what it prints, at import and in a call, goes to its log, never into the protocol
    await any_sandbox.write_file(
        "answer.py",
        b"print('{\"ok\": 1000}')\n"
        b"def add(a, b):\n    print('{\"Score\": 1e9}')\n    return a + b\n",
    )
    result = await evaluate(task, any_sandbox)
    assert result.metrics == {"Score": 42.0, "Batch": 10.0}


UNQUOTED = " (the final evaluation does not quote its message)"


@pytest.mark.parametrize(
    ("submission", "validated", "submitted"),
    [
        ("def other(): pass", "add() failed: it defines no function add", None),
        (
            "def add(a, b): raise ValueError('nope')",
            "add() failed: ValueError: nope",
            "add() failed: ValueError" + UNQUOTED,
        ),
        (
            "def add(a, b): return {1, 2}",
            "add() failed: TypeError: set is not a JSON value",
            "add() failed: TypeError" + UNQUOTED,
        ),
        (
            "def add(a, b): return float('nan')",
            "add() failed: ValueError: Out of range float",
            "add() failed: ValueError" + UNQUOTED,
        ),
        ("import os\ndef add(a, b): os._exit(0)", "answer.py exited (code 0) during add()", None),
        ("import time\ndef add(a, b): time.sleep(30)", "add() took over 1 s", None),
        (
            "import no_such_module",
            "loading answer.py failed: the module does not load: ModuleNotFoundError: No module",
            "loading answer.py failed: the module does not load: ModuleNotFoundError" + UNQUOTED,
        ),
        (
            "def add(a, b):\n  return a +",
            "loading answer.py failed: the module does not load: SyntaxError: invalid syntax",
            "loading answer.py failed: the module does not load: SyntaxError" + UNQUOTED,
        ),
        (
            "class Secret(Exception): pass\ndef add(a, b): raise Secret('hidden')",
            "add() failed: Secret: hidden",
            "add() failed: an exception" + UNQUOTED,  # the name is the submission's own
        ),
    ],
)
async def test_a_failing_submission_is_invalid_and_says_why(
    any_sandbox: Sandbox, tmp_path: Path, submission: str, validated: str, submitted: str | None
) -> None:
    task = await program_task(
        tmp_path / "t",
        "    with rgym_eval.Player() as player:\n"
        "        return {'Score': player.call('add', 1, 2, timeout=1)}",
    )
    await any_sandbox.write_file("answer.py", submission.encode())
    result = await evaluate(task, any_sandbox, mode="validate")
    assert result.status == "evaluation_format_error"
    assert result.error is not None
    assert result.error.startswith(f"invalid submission: {validated}")
    result = await evaluate(task, any_sandbox, mode="submit")
    assert (result.status, result.error) == (
        "evaluation_format_error",
        f"invalid submission: {submitted or validated}",
    )


SECRETS = {"validate": "seen-while-validating", "submit": "the-final-secret"}

TELL = """
import os, sys
def guess(secret):
    print(secret)
    print(secret, file=sys.stderr)
    print('invalid submission: ' + secret, file=sys.stderr)
{ending}
"""
"""A submission that prints the hidden input it is given, then ends as ``ending`` says."""

ENDINGS = {
    "raises": ("    raise ValueError(secret)", "guess() failed: ValueError" + UNQUOTED),
    "answers": (
        "    return secret",
        "guess() returned a str of 16 characters; it must be a number",
    ),
    "exits": ("    os._exit(3)", "answer.py exited (code 3) during guess()"),
    "names its exception": (
        "    raise type(secret, (Exception,), {})()",
        "guess() failed: an exception" + UNQUOTED,
    ),
    "forges an answer": (
        # the protocol's descriptor is among its own: an error message of its own making
        "    line = '{\"error\": \"ValueError: ' + secret + '\"}\\n'\n"
        "    for fd in range(3, 20):\n"
        "        try:\n"
        "            os.write(fd, line.encode())\n"
        "        except OSError:\n"
        "            pass\n"
        "    os._exit(0)",
        "guess() failed: ValueError" + UNQUOTED,
    ),
}


@pytest.mark.parametrize("ending", ENDINGS)
async def test_the_final_evaluation_quotes_nothing_the_submission_says(
    any_sandbox: Sandbox, tmp_path: Path, ending: str
) -> None:
    task = await program_task(
        tmp_path / "t",
        f"    secret = {SECRETS}[rgym_eval.mode()]\n"
        "    with rgym_eval.Player() as player:\n"
        "        answer = player.call('guess', secret)\n"
        "    shown = rgym_eval.shown(answer)\n"
        "    raise rgym_eval.Invalid(f'guess() returned {shown}; it must be a number')",
    )
    code, reason = ENDINGS[ending]
    await any_sandbox.write_file("answer.py", TELL.format(ending=code).encode())
    validated = await evaluate(task, any_sandbox, mode="validate")
    assert validated.error is not None and SECRETS["validate"] in validated.error
    submitted = await evaluate(task, any_sandbox, mode="submit")
    assert (submitted.status, submitted.error) == (
        "evaluation_format_error",
        f"invalid submission: {reason}",
    )


async def running(sandbox: Sandbox, pattern: str) -> str:
    """The processes matching ``pattern``: the host's for a local sandbox, whose trusted
    programs run in PID namespaces of their own."""
    if isinstance(sandbox, LocalSandbox):
        found = await anyio.run_process(["pgrep", "-f", pattern], check=False)
        return found.stdout.decode()
    return (await sandbox.run(["pgrep", "-f", pattern], timeout=10)).output


async def test_the_submission_runs_as_the_agent_and_cannot_read_the_evaluator(
    any_sandbox: Sandbox, tmp_path: Path
) -> None:
    task = await program_task(
        tmp_path / "t",
        "    with rgym_eval.Player() as player:\n"
        "        uid = player.call('uid')\n"
        "        peeked = player.call('peek', os.path.abspath('evaluate.py'))\n"
        "    return {'Score': uid, 'Peeked': peeked}",
    )
    await any_sandbox.write_file(
        "answer.py",
        b"import os\n"
        b"def uid():\n    return os.getuid()\n"
        b"def peek(path):\n"
        b"    try:\n        return len(open(path).read())\n"
        b"    except OSError:\n        return -1\n",
    )
    result = await evaluate(task, any_sandbox)
    shell_uid = int((await any_sandbox.exec("id -u", timeout=10)).output)
    assert result.metrics["Score"] == shell_uid  # the agent's user, not the evaluator's
    if any_sandbox.agent_user is not None:
        assert result.metrics["Peeked"] == -1
    else:  # the agent and the evaluator share a user: the evaluator's files are readable
        assert result.metrics["Peeked"] > 0


async def test_the_evaluators_time_limit_kills_the_submission(
    any_sandbox: Sandbox, tmp_path: Path
) -> None:
    task = await program_task(
        tmp_path / "t",
        "    with rgym_eval.Player() as player:\n"
        "        return {'Score': player.call('spin', timeout=60)}",
        timeout=2,
    )
    await any_sandbox.write_file("answer.py", b"def spin():\n    while True:\n        pass\n")
    result = await evaluate(task, any_sandbox)
    assert (result.status, result.error) == (
        "evaluation_format_error",
        "the evaluation took over 2 s",
    )
    assert await running(any_sandbox, "rgym_player|answer.py") == ""  # died with the evaluator


async def test_file_submissions_are_read_with_the_agents_permissions(
    any_sandbox: Sandbox, tmp_path: Path
) -> None:
    task = await program_task(
        tmp_path / "t", "    return {'Score': len(rgym_eval.read_submission())}"
    )
    await any_sandbox.write_file("answer.py", b"12345")
    assert (await evaluate(task, any_sandbox)).score == 5
    # a link to a file only the trusted user may read
    secret = f"{any_sandbox.private_dir}/secret"
    await any_sandbox.run(["sh", "-c", f"echo hidden > {secret}; chmod 600 {secret}"], timeout=10)
    await any_sandbox.exec(f"ln -sf {secret} answer.py", timeout=10)
    result = await evaluate(task, any_sandbox)
    if any_sandbox.agent_user is not None:
        assert result.status == "evaluation_format_error"
        assert result.error == "invalid submission: cannot read answer.py: " + (
            f"PermissionError: [Errno 13] Permission denied: '{any_sandbox.workdir}/answer.py'"
        )
    else:
        assert result.score == len("hidden\n")
    await any_sandbox.exec("rm answer.py; mkfifo answer.py", timeout=10)
    result = await evaluate(task, any_sandbox)
    assert result.error is not None
    assert result.error.endswith("answer.py is not a regular file")


async def test_the_submission_is_not_told_where_the_result_goes(
    any_sandbox: Sandbox, tmp_path: Path
) -> None:
    task = await program_task(
        tmp_path / "t",
        "    with rgym_eval.Player() as player:\n"
        "        return {'Score': len(player.call('told'))}",
    )
    await any_sandbox.write_file(
        "answer.py",
        b"import os\n"
        b"def told():\n"
        b"    return [k for k in os.environ if k.startswith('RGYM_') or k == 'PYTHONPATH']\n",
    )
    assert (await evaluate(task, any_sandbox)).score == 0
