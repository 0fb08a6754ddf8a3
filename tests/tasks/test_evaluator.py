from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import pytest

from researchgym.sandboxes import LocalSandbox, open_local_sandbox
from researchgym.tasks import Task, evaluate, load_task
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
        ("raise SystemExit('bad input')", "the evaluation failed (exit code 1):\nbad input\n"),
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
