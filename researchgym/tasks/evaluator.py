"""Scoring a submission: the task's eval/ goes into the sandbox only for the evaluation.

The evaluator runs in a fresh process outside the agent's shell (``Sandbox.run``), in a
scratch directory under the sandbox's private directory (out of the agent's reach where the
backend isolates) that is removed afterwards, and must write one JSON
object (metric name to value) to ``$RGYM_RESULT``. Beside it goes ``rgym_eval``, the trusted
library that runs the agent's code in a process of its own as the agent's user
(``trusted/rgym_eval.py``); it is on the evaluator's ``PYTHONPATH``. Anything else is an
``evaluation_format_error``; a missing artefact is ``submission_not_found``. Neither gives a
score.

What the evaluator uploads is a copy of eval/ whose digest is checked against the one taken
when the task was loaded (``_snapshot``): if eval/ changed since, nothing runs and
``TaskChangedError`` ends the episode.

An error may quote the evaluator's output only while validating. In the final evaluation
(submit) the submission's code sees the hidden final inputs, and whatever it prints could
carry them, so only the evaluator's own verdict is kept: for exit code 2 the reason that
``rgym_eval.main`` writes to ``$RGYM_VERDICT`` (in the scratch directory, out of the
submission's reach), never a line of output that merely looks like one; for any other
failure, the exit code alone.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

import anyio

from researchgym.errors import TaskChangedError
from researchgym.tasks._snapshot import Unfit, snapshot

if TYPE_CHECKING:
    from researchgym.sandboxes import ExecResult, Sandbox
    from researchgym.tasks.loader import Task

__all__ = ["EvaluationMode", "EvaluationResult", "EvaluationStatus", "evaluate"]

EvaluationMode = Literal["validate", "submit"]
"""validate: the evaluator scores on its validation inputs (seeds, instances, hidden
labels) which the episode may see many times; submit: on its final inputs, which it sees
once, when the episode ends. An agent whose code records what it is shown in one
evaluation learns nothing of the final one."""

EvaluationStatus = Literal["scored", "submission_not_found", "evaluation_format_error"]
"""scored: metrics were read; the others: why there is no score."""

TRUSTED_DIR = Path(__file__).parent / "trusted"
"""``rgym_eval`` and the submission's side of its protocol, uploaded with every evaluator."""

INVALID_EXIT = 2
"""The exit code of an evaluator that judged the submission invalid; ``$RGYM_VERDICT`` (and,
while validating, its output) says why."""

_OUTPUT_SHOWN = 2000
"""Characters of the evaluator's output quoted in an error."""
_RESULT_LIMIT = 1 << 20
"""Bytes the evaluator's result (or verdict) may take."""

_NOT_SUBMITTED = 86
_NOT_SUBMITTED_SAID = "rgym: no submission\n"
_IF_SUBMITTED = [
    "sh",
    "-c",
    'if [ ! -e "$RGYM_SUBMISSION" ] && [ ! -L "$RGYM_SUBMISSION" ]; then '
    f'echo "{_NOT_SUBMITTED_SAID.strip()}"; exit {_NOT_SUBMITTED}; fi; exec "$@"',
    "sh",
]
"""Runs the evaluator if there is something at the submission's path, and says so if not:
one process for both, rather than a look of its own first."""


class EvaluationResult(NamedTuple):
    """The outcome of one evaluation."""

    status: EvaluationStatus
    metrics: dict[str, float]
    """Every metric the evaluator reported (empty unless scored)."""
    score: float | None
    """The primary metric's value (None unless scored)."""
    error: str | None
    """Why there is no score, in words the agent can act on."""


async def evaluate(
    task: Task, sandbox: Sandbox, *, mode: EvaluationMode = "submit"
) -> EvaluationResult:
    """Evaluate the current artefact of ``task`` in ``sandbox``, in ``mode`` (``$RGYM_MODE``).

    Raises:
        TaskChangedError: If the task's eval/ changed since it was loaded; nothing ran.
        SandboxError: If the sandbox itself fails (not the submission).
    """
    submission = str(sandbox.workdir / task.spec.submission.path)
    scratch = str(sandbox.private_dir / f"eval-{uuid.uuid4().hex[:12]}")
    try:
        await _upload_eval(task, sandbox, scratch)
        return await _run_evaluator(task, sandbox, scratch, submission, mode)
    finally:
        with anyio.CancelScope(shield=True):
            await sandbox.remove(scratch)


async def _upload_eval(task: Task, sandbox: Sandbox, scratch: str) -> None:
    """Upload the checked copy of eval/, with ``rgym_eval`` in its ``.rgym/``, in one go."""
    # The thread runs to its end even if cancelled; the copy it made must not be lost.
    with anyio.CancelScope(shield=True):
        copy = await anyio.to_thread.run_sync(_checked_copy, task)
    try:
        await sandbox.upload(copy / "eval", scratch)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(shutil.rmtree, copy)


def _checked_copy(task: Task) -> Path:
    """A new folder holding a copy of eval/ that has the digest taken at load."""
    folder = Path(tempfile.mkdtemp(prefix="rgym-eval-"))
    try:
        if snapshot(task.eval_dir, folder / "eval") != task.eval_digest:
            raise TaskChangedError(task.root)
        shutil.copytree(TRUSTED_DIR, folder / "eval" / ".rgym")
    except Unfit as e:
        shutil.rmtree(folder)
        where = e.path.relative_to(task.root) if e.path.is_relative_to(task.root) else e.path
        raise TaskChangedError(task.root, detail=f"{where} {e.what}") from None
    except BaseException:
        shutil.rmtree(folder)
        raise
    return folder


async def _run_evaluator(
    task: Task, sandbox: Sandbox, scratch: str, submission: str, mode: EvaluationMode
) -> EvaluationResult:
    result_file = f"{scratch}/result.json"
    env = {
        "RGYM_WORKSPACE": str(sandbox.workdir),
        "RGYM_SUBMISSION": submission,
        "RGYM_RESULT": result_file,
        "RGYM_VERDICT": f"{scratch}/verdict.txt",  # out of the submission's reach
        "RGYM_MODE": mode,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": f"{scratch}/.rgym",
    }
    if sandbox.agent_user:
        env["RGYM_AGENT_USER"] = sandbox.agent_user
    spec = task.spec.evaluation
    command = [*_IF_SUBMITTED, *spec.command]
    ran = await sandbox.run(command, timeout=spec.timeout, cwd=scratch, env=env)
    if ran.exit_code == _NOT_SUBMITTED and ran.output == _NOT_SUBMITTED_SAID:
        return _failure(
            "submission_not_found",
            f"{task.spec.submission.path} does not exist in the workspace; create it first.",
        )
    if ran.timed_out:
        return _failure("evaluation_format_error", f"the evaluation took over {spec.timeout:g} s")
    if ran.exit_code != 0:
        why = await _why(sandbox, ran, scratch, mode)
        return _failure("evaluation_format_error", why)
    # The result lies in the private directory, which only trusted programs write.
    try:
        raw = await sandbox.read_private(result_file, limit=_RESULT_LIMIT)
    except OSError:
        return _failure("evaluation_format_error", "the evaluation wrote no result")
    return _parse_metrics(raw, task.spec.metric.name)


async def _why(sandbox: Sandbox, ran: ExecResult, scratch: str, mode: EvaluationMode) -> str:
    """Why the evaluation failed: its output while validating, its verdict alone if not."""
    failed = f"the evaluation failed (exit code {ran.exit_code})"
    if mode == "validate":
        if ran.exit_code == INVALID_EXIT:
            return ran.output[-_OUTPUT_SHOWN:].strip()
        return f"{failed}:\n{ran.output[-_OUTPUT_SHOWN:]}"
    if ran.exit_code == INVALID_EXIT:
        try:
            said = await sandbox.read_private(f"{scratch}/verdict.txt", limit=_RESULT_LIMIT)
        except OSError:
            return failed
        reason = said.decode(errors="replace").strip()[:_OUTPUT_SHOWN]
        if reason:
            return f"invalid submission: {reason}"
    return failed


def _parse_metrics(raw: bytes, metric: str) -> EvaluationResult:
    try:
        data = json.loads(raw)
    except ValueError:
        return _failure("evaluation_format_error", "the evaluation's result is not JSON")
    if not isinstance(data, dict) or not all(_is_number(v) for v in data.values()):
        return _failure(
            "evaluation_format_error", "the evaluation's result is not a mapping of numbers"
        )
    if metric not in data:
        return _failure("evaluation_format_error", f"the evaluation reported no '{metric}'")
    metrics = {str(k): float(v) for k, v in data.items()}
    return EvaluationResult("scored", metrics, metrics[metric], None)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _failure(status: EvaluationStatus, error: str) -> EvaluationResult:
    return EvaluationResult(status, {}, None, error)
