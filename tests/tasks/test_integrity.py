"""No submission to a built-in task can reach a score but by its answers (Docker backend).

For every built-in task, adversarial submissions try to read the hidden side of the
evaluation, to overwrite or monkeypatch the evaluator, to print a result of their own, and
to run past the time limit. Each must end without a score.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

import anyio
import pytest
import yaml

from researchgym.sandboxes import Sandbox, SandboxSpec, open_docker_sandboxes
from researchgym.tasks import Task, builtin_task_ids, evaluate, load_task, resolve_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

pytestmark = pytest.mark.parametrize("anyio_backend", ["asyncio"])  # aiodocker

PRIVATE = "/var/lib/researchgym"

READ_THE_HIDDEN_SIDE = f"""
import os
for name in os.listdir({PRIVATE!r}):
    for root, _, files in os.walk(os.path.join({PRIVATE!r}, name)):
        print([open(os.path.join(root, f)).read() for f in files])
"""

PATCH_THE_EVALUATOR = f"""
import sys
for name in ("rgym_eval", "evaluate"):
    try:
        module = __import__(name)
    except ImportError:
        continue
    sys.exit(f"imported the evaluator's {{name}}")  # a test failure, if it ever happens
open({PRIVATE!r} + "/evaluate.py", "w").write("print('forged')")
"""

PRINT_A_RESULT = """
import json, os
fake = json.dumps({{"{metric}": {value}}})
print(fake)
for fd in range(1, 20):  # every descriptor it may have, the protocol's included
    try:
        os.write(fd, (fake + "\\n").encode())
    except OSError:
        pass
if os.environ.get("RGYM_RESULT"):
    open(os.environ["RGYM_RESULT"], "w").write(fake)
os._exit(0)
"""

SPIN = "while True:\n    pass\n"


@pytest.fixture
async def sandboxes(sandbox_image: str) -> AsyncIterator[Callable[[Task], Any]]:
    async with open_docker_sandboxes(run_id="tests-integrity", image=sandbox_image) as provider:

        def open_for(task: Task) -> Any:
            resources = task.spec.resources
            data = task.data_dir if task.has_data else None
            return provider.open(SandboxSpec(memory=resources.memory, data=data))

        yield open_for


async def laid_out(sandbox: Sandbox, task: Task) -> Sandbox:
    await sandbox.upload(task.workspace_dir, str(sandbox.workdir))
    return sandbox


def impossible_score(task: Task) -> float:
    """A score far better than any real one."""
    return -1.0 if task.spec.metric.direction == "min" else 1e9


async def no_score(task: Task, sandbox: Sandbox, attack: str) -> str:
    """Evaluate with the submission replaced by ``attack``; return why it got no score."""
    await sandbox.write_file(task.spec.submission.path, attack.encode())
    result = await evaluate(task, sandbox)
    assert result.score is None, f"{task.spec.id}: the attack scored {result.score}"
    assert result.status == "evaluation_format_error"
    assert result.error is not None
    return result.error


def with_timeout(task: Task, root: Path, seconds: float) -> Task:
    """A copy of ``task`` whose evaluation may take ``seconds``."""
    shutil.copytree(task.root, root)
    spec = yaml.safe_load((root / "task.yaml").read_text())
    spec["evaluation"]["timeout"] = seconds
    (root / "task.yaml").write_text(yaml.safe_dump(spec))
    return load_task(root)


TASKS = {task_id: resolve_task(task_id) for task_id in builtin_task_ids()}
PROGRAMS = [t for t, task in TASKS.items() if task.spec.submission.kind == "program"]
FILES = [t for t, task in TASKS.items() if task.spec.submission.kind != "program"]


@pytest.mark.parametrize("task_id", PROGRAMS)
async def test_programs_cannot_cheat(
    task_id: str, sandboxes: Callable[[Task], Any], tmp_path: Path
) -> None:
    task = TASKS[task_id]
    fake = PRINT_A_RESULT.format(metric=task.spec.metric.name, value=impossible_score(task))
    async with await sandboxes(task) as sandbox:
        await laid_out(sandbox, task)
        assert "PermissionError" in await no_score(task, sandbox, READ_THE_HIDDEN_SIDE)
        assert "PermissionError" in await no_score(task, sandbox, PATCH_THE_EVALUATOR)
        assert "invalid submission" in await no_score(task, sandbox, fake)
        quick = await anyio.to_thread.run_sync(with_timeout, task, tmp_path / task_id, 3)
        assert await no_score(quick, sandbox, SPIN) == "the evaluation took over 3 s"
        left = await sandbox.run(["pgrep", "-u", "agent", "-f", "python3 -I -c"], timeout=10)
        assert left.output == ""  # the spinning submission died with its evaluator


@pytest.mark.parametrize("task_id", FILES)
async def test_files_cannot_cheat(task_id: str, sandboxes: Callable[[Task], Any]) -> None:
    task = TASKS[task_id]
    path = task.spec.submission.path
    fake = '{"%s": %s}\n' % (task.spec.metric.name, impossible_score(task))  # noqa: UP031
    async with await sandboxes(task) as sandbox:
        await laid_out(sandbox, task)
        # the agent's shell can neither see nor change the evaluator's side
        probe = await sandbox.exec(f"ls {PRIVATE}; touch {PRIVATE}/evaluate.py", timeout=10)
        assert probe.output.count("Permission denied") == 2
        # a result instead of the artefact
        assert "invalid submission" in await no_score(task, sandbox, fake)
        # the artefact as a link to a file only the evaluator may read
        await sandbox.run(["sh", "-c", f"echo {fake!r} > {PRIVATE}/labels"], timeout=10)
        await sandbox.exec(f"rm -f {path}; ln -s {PRIVATE}/labels {path}", timeout=10)
        result = await evaluate(task, sandbox)
        assert result.score is None
        assert result.error is not None and "Permission denied" in result.error
        # a pipe that would block a reader until the time limit
        await sandbox.exec(f"rm -f {path}; mkfifo {path}", timeout=10)
        result = await evaluate(task, sandbox)
        assert result.error is not None and result.error.endswith("is not a regular file")


async def test_the_image_holds_no_copy_of_a_hidden_test_set(
    sandboxes: Callable[[Task], Any],
) -> None:
    """scikit-learn's bundled diabetes and digits sets would give the tabular tasks away."""
    async with await sandboxes(TASKS["digits_classification"]) as sandbox:
        for loader in ("load_digits", "load_diabetes"):
            tried = await sandbox.exec(
                f"python3 -c 'from sklearn import datasets; datasets.{loader}()'", timeout=60
            )
            assert tried.exit_code == 1
            assert "FileNotFoundError" in tried.output
