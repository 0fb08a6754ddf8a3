from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

import anyio
import pytest

from researchgym.errors import TaskChangedError
from researchgym.sandboxes import LocalSandbox, open_local_sandbox
from researchgym.tasks import EvaluationMode, Task, evaluate, load_task
from tests.tasks.test_loader import make_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


def toy_task(root: Path, evaluator: str) -> Task:
    """A task whose evaluator is the given Python source."""
    make_task(root)
    (root / "eval" / "evaluate.py").write_text(evaluator)
    return load_task(root)


async def load(root: Path, evaluator: str = "") -> Task:
    """toy_task, or load_task if ``evaluator`` is empty, off the event loop."""
    if evaluator:
        return await anyio.to_thread.run_sync(toy_task, root, evaluator)
    return await anyio.to_thread.run_sync(load_task, root)


SCORE_ANSWER = """
import json, os
answer = open(os.environ["RGYM_SUBMISSION"]).read().strip()
result = {"Score": float(answer), "Twice": 2 * float(answer)}
json.dump(result, open(os.environ["RGYM_RESULT"], "w"))
"""


@pytest.fixture
async def sandbox() -> AsyncIterator[LocalSandbox]:
    async with await open_local_sandbox() as sb:
        yield sb


async def test_scored(tmp_path: Path, sandbox: LocalSandbox) -> None:
    task = await load(tmp_path / "toy", SCORE_ANSWER)
    await sandbox.write_file("answer.txt", b"41.5\n")
    result = await evaluate(task, sandbox)
    assert result == ("scored", {"Score": 41.5, "Twice": 83.0}, 41.5, None)


async def test_eval_files_are_removed_after(tmp_path: Path, sandbox: LocalSandbox) -> None:
    task = await load(tmp_path / "toy", SCORE_ANSWER)
    await sandbox.write_file("answer.txt", b"1")
    await evaluate(task, sandbox)
    private = await sandbox.run(["ls", "-A", str(sandbox.private_dir)], timeout=10)
    assert private.output == ""  # the scratch directory is gone
    assert "evaluate.py" not in (await sandbox.exec("ls -AR .", timeout=10)).output


async def test_missing_submission(tmp_path: Path, sandbox: LocalSandbox) -> None:
    result = await evaluate(await load(tmp_path / "toy", SCORE_ANSWER), sandbox)
    assert result == (
        "submission_not_found",
        {},
        None,
        "answer.txt does not exist in the workspace; create it first.",
    )


@pytest.mark.parametrize(
    ("evaluator", "error"),
    [
        ("raise SystemExit('bad input')", "the evaluation failed (exit code 1)"),
        ("raise SystemExit(2)", "the evaluation failed (exit code 2)"),
        ("pass", "the evaluation wrote no result"),
        (
            "import os; open(os.environ['RGYM_RESULT'], 'w').write('not json')",
            "the evaluation's result is not JSON",
        ),
        (
            "import os; open(os.environ['RGYM_RESULT'], 'w').write('[1, 2]')",
            "the evaluation's result is not a mapping of numbers",
        ),
        (
            "import os; open(os.environ['RGYM_RESULT'], 'w').write('{\"Score\": \"high\"}')",
            "the evaluation's result is not a mapping of numbers",
        ),
        (
            "import os; open(os.environ['RGYM_RESULT'], 'w').write('{\"Score\": NaN}')",
            "the evaluation's result is not a mapping of numbers",
        ),
        (
            "import os; open(os.environ['RGYM_RESULT'], 'w').write('{\"Other\": 1}')",
            "the evaluation reported no 'Score'",
        ),
    ],
)
async def test_evaluation_format_errors(
    tmp_path: Path, sandbox: LocalSandbox, evaluator: str, error: str
) -> None:
    task = await load(tmp_path / "toy", evaluator)
    await sandbox.write_file("answer.txt", b"1")
    assert await evaluate(task, sandbox) == ("evaluation_format_error", {}, None, error)


async def test_evaluation_timeout(tmp_path: Path, sandbox: LocalSandbox) -> None:
    root = tmp_path / "slow"
    make_task(root, lambda s: s["evaluation"].update(timeout=0.5))
    (root / "eval" / "evaluate.py").write_text("import time; time.sleep(30)")
    await sandbox.write_file("answer.txt", b"1")
    result = await evaluate(await load(root), sandbox)
    assert result == ("evaluation_format_error", {}, None, "the evaluation took over 0.5 s")


async def test_evaluator_ignores_the_agent_shell_state(
    tmp_path: Path, sandbox: LocalSandbox
) -> None:
    task = await load(tmp_path / "toy", SCORE_ANSWER)
    await sandbox.write_file("answer.txt", b"3")
    # the agent's shell defines a fake python3 and moves away; evaluation must not care
    await sandbox.exec("python3() { echo fake; }; export -f python3; cd /", timeout=10)
    assert (await evaluate(task, sandbox)).score == 3.0


async def test_the_evaluator_is_told_whether_it_validates_or_submits(
    tmp_path: Path, sandbox: LocalSandbox
) -> None:
    task = await load(
        tmp_path / "toy",
        "import json, os\n"
        "score = {'validate': 1, 'submit': 2}[os.environ['RGYM_MODE']]\n"
        "json.dump({'Score': score}, open(os.environ['RGYM_RESULT'], 'w'))\n",
    )
    await sandbox.write_file("answer.txt", b"1")
    assert (await evaluate(task, sandbox, mode="validate")).score == 1
    assert (await evaluate(task, sandbox, mode="submit")).score == 2
    assert (await evaluate(task, sandbox)).score == 2  # the final evaluation by default


async def test_only_validating_quotes_the_evaluators_output(
    tmp_path: Path, sandbox: LocalSandbox
) -> None:
    task = await load(tmp_path / "toy", "print('working'); raise SystemExit('bad input')")
    await sandbox.write_file("answer.txt", b"1")
    validated = await evaluate(task, sandbox, mode="validate")
    assert validated.error == "the evaluation failed (exit code 1):\nworking\nbad input\n"
    assert (await evaluate(task, sandbox, mode="submit")).error == (
        "the evaluation failed (exit code 1)"
    )


SECRETS: dict[EvaluationMode, str] = {"validate": "seen-while-validating", "submit": "final-secret"}

TELLS = """
import sys
secret = sys.stdin.read()
print(secret)
print(secret, file=sys.stderr)
print("invalid submission: " + secret, file=sys.stderr)  # a verdict of its own
print(secret)  # and after it
sys.exit(2)
"""
"""A program submission that prints the hidden input it is given, every way it can."""


def careless(stdout: str) -> str:
    """The start of an evaluator that shows the submission a hidden input."""
    return f"""
import os, subprocess, sys
import rgym_eval

SECRET = {SECRETS}[rgym_eval.mode()]

def run():
    # The submission writes to the evaluator's own output: careless, but the evaluator's choice.
    return subprocess.run(
        [sys.executable, os.environ["RGYM_SUBMISSION"]],
        input=SECRET, text=True, stdout={stdout}, check=False,
    )
"""


LEAKING_EVALUATORS = {
    # It judges the submission itself: the verdict is its own words, the output is not.
    "invalid": careless(stdout="None")
    + "def evaluate():\n"
    + "    run()\n"
    + "    raise rgym_eval.Invalid('the answer is wrong')\n"
    + "rgym_eval.main(evaluate)\n",
    # It crashes on the answer: the traceback quotes the answer.
    "crash": careless(stdout="subprocess.PIPE") + "float(run().stdout)\n",
    # It passes the submission's exit code on: the submission printed a verdict of its own.
    "forged": careless(stdout="None") + "sys.exit(run().returncode)\n",
}


@pytest.mark.parametrize(
    ("evaluator", "final_error"),
    [
        ("invalid", "invalid submission: the answer is wrong"),
        ("crash", "the evaluation failed (exit code 1)"),
        ("forged", "the evaluation failed (exit code 2)"),
    ],
)
async def test_the_final_evaluation_quotes_nothing_the_submission_printed(
    tmp_path: Path, sandbox: LocalSandbox, evaluator: str, final_error: str
) -> None:
    task = await load(tmp_path / "toy", LEAKING_EVALUATORS[evaluator])
    await sandbox.write_file("answer.txt", TELLS.encode())
    validated = await evaluate(task, sandbox, mode="validate")
    assert validated.error is not None and SECRETS["validate"] in validated.error
    submitted = await evaluate(task, sandbox, mode="submit")
    assert submitted == ("evaluation_format_error", {}, None, final_error)


def changed(root: Path) -> str:
    return (
        "^"
        + re.escape(
            f"The task folder {root} changed during the run: its eval/ is no longer what the run"
            " loaded, so the evaluation did not run. Leave task folders alone while a run uses"
            " them, and restart the run to use the task as it is now."
        )
        + "$"
    )


async def test_an_evaluator_changed_after_loading_does_not_run(
    tmp_path: Path, sandbox: LocalSandbox
) -> None:
    task = await load(tmp_path / "toy", SCORE_ANSWER)
    await sandbox.write_file("answer.txt", b"2")
    assert (await evaluate(task, sandbox)).score == 2.0  # unchanged: scored as before
    script = task.eval_dir / "evaluate.py"
    forged = SCORE_ANSWER.replace("float(answer)", "1e9")
    await anyio.to_thread.run_sync(script.write_text, forged)
    with pytest.raises(TaskChangedError, match=changed(task.root)) as info:
        await evaluate(task, sandbox)
    assert (info.value.root, info.value.detail) == (task.root, None)
    private = await sandbox.run(["ls", "-A", str(sandbox.private_dir)], timeout=10)
    assert private.output == ""  # nothing was uploaded, or it is gone
    # the evaluator put back as it was loaded scores again; bytecode beside it changes nothing
    await anyio.to_thread.run_sync(script.write_text, SCORE_ANSWER)
    await anyio.to_thread.run_sync(os.mkdir, task.eval_dir / "__pycache__")
    assert (await evaluate(task, sandbox)).score == 2.0


@pytest.mark.parametrize("change", ["mode", "added", "removed", "link"])
async def test_every_change_to_eval_is_refused(
    tmp_path: Path, sandbox: LocalSandbox, change: str
) -> None:
    task = await load(tmp_path / "toy", SCORE_ANSWER)
    await sandbox.write_file("answer.txt", b"2")
    script = task.eval_dir / "evaluate.py"
    detail = None

    def make_the_change() -> None:
        nonlocal detail
        if change == "mode":
            script.chmod(0o755)
        elif change == "added":
            (task.eval_dir / "rgym_eval.py").write_text("forged = True\n")
        elif change == "removed":
            script.unlink()
        else:
            script.rename(tmp_path / "elsewhere.py")
            script.symlink_to(tmp_path / "elsewhere.py")
            detail = "eval/evaluate.py is a symbolic link"

    await anyio.to_thread.run_sync(make_the_change)
    found = changed(task.root)
    if detail:
        found = found.replace("loaded,", re.escape(f"loaded ({detail}),"))
    with pytest.raises(TaskChangedError, match=found) as info:
        await evaluate(task, sandbox)
    assert info.value.detail == detail
