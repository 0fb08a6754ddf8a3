"""Checking a task folder and reporting every problem at once: ``researchgym tasks validate``.

``validate_task(root)`` looks at everything it can before it stops:

1. task.yaml: readable YAML, then every key ``TaskSpec`` rejects (missing, unknown, mistyped,
   a metric direction other than max or min), each with the loader's own explanation;
2. the folder: ``workspace/``, ``eval/``, the eval/ scripts the evaluation command names, the
   workspace scripts the baseline commands run (where a command names one plainly:
   ``python3 train.py``, ``bash run.sh``, ``./run.sh``);
3. if all that holds, a real run in a local sandbox laid out as an episode's is: each baseline
   command in the agent's shell (within ``timeouts.command``), then the task's evaluator on
   the artefact, which must give one JSON result holding the metric. A measured score other
   than task.yaml's ``baseline.score`` is a warning that names both numbers.

Errors make a folder unusable; warnings do not (``ValidationReport.ok`` ignores them).
"""

from __future__ import annotations

import math
import shlex
import time
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal, NamedTuple, TypeVar

import anyio
from pydantic import BaseModel, ValidationError

from researchgym.errors import SandboxBrokenError, SandboxError, TaskSpecError
from researchgym.sandboxes import LocalSandboxes
from researchgym.tasks.evaluator import evaluate
from researchgym.tasks.loader import (
    folder_errors,
    load_task,
    read_spec_file,
    spec_errors,
)
from researchgym.tasks.spec import Baseline, Evaluation, Submission, TaskSpec

if TYPE_CHECKING:
    from researchgym.sandboxes import Sandbox, SandboxProvider
    from researchgym.tasks.loader import Task

__all__ = ["Problem", "Severity", "ValidationReport", "validate_task"]

Severity = Literal["error", "warning"]
"""error: the task cannot be used as it is; warning: it can, but something looks wrong."""

_INTERPRETERS = {"python", "python3", "bash", "sh"}
"""Programs whose first argument, in a baseline command, is a script of the workspace."""
_CONTROL = {"&&", "||", ";", "|", "&", "(", ")"}
T_Part = TypeVar("T_Part", bound=BaseModel)
_OUTPUT_SHOWN = 1500
"""Characters of a failing command's output quoted in its problem."""


class Problem(NamedTuple):
    """One thing wrong with a task folder."""

    severity: Severity
    where: str
    """The file, folder or task.yaml key at fault, relative to the task folder."""
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ValidationReport(NamedTuple):
    """What ``validate_task`` found."""

    root: Path
    problems: list[Problem]
    spec: TaskSpec | None
    """The spec, if task.yaml is valid."""
    measured: float | None
    """The baseline score the evaluator gave (None if it was not measured)."""
    seconds: float | None
    """How long the baseline commands and the evaluation took together (None if not run)."""

    @property
    def ok(self) -> bool:
        """Whether the folder has no errors (warnings allowed)."""
        return not any(p.severity == "error" for p in self.problems)


async def validate_task(
    root: Path, *, run: bool = True, sandboxes: SandboxProvider | None = None
) -> ValidationReport:
    """Check the task folder ``root`` and return every problem found.

    Args:
        root: The task folder.
        run: Whether to run the baseline and the evaluator (only if nothing else is wrong).
        sandboxes: Where to run them (default: local sandboxes).

    Returns:
        The report; it raises nothing for a broken folder.

    Raises:
        SandboxError: If no sandbox can be opened at all.
    """
    spec, problems = await anyio.to_thread.run_sync(_static_problems, root)
    measured = seconds = None
    if run and spec is not None and not problems:
        task = await anyio.to_thread.run_sync(load_task, root)
        started = time.monotonic()
        run_problems, measured = await _run(task, sandboxes or LocalSandboxes())
        seconds = time.monotonic() - started
        problems += run_problems
    return ValidationReport(root, problems, spec, measured, seconds)


def _static_problems(root: Path) -> tuple[TaskSpec | None, list[Problem]]:
    spec_file = root / "task.yaml"
    try:
        data = read_spec_file(spec_file)
    except TaskSpecError as e:
        data, errors = {}, [e]
    else:
        errors = spec_errors(spec_file, data)
    spec = None if errors else TaskSpec.model_validate(data)
    # Where task.yaml is broken elsewhere, its valid parts are still checked against the folder.
    evaluation = _part(Evaluation, data.get("evaluation", {}))
    baseline = _part(Baseline, data.get("baseline"))
    submission = _part(Submission, data.get("submission"))
    errors += folder_errors(root, evaluation)
    problems = [_problem(root, e) for e in errors]
    if submission is not None:
        problems += _submission_problems(submission)
    if baseline is not None:
        problems += _baseline_file_problems(root, baseline)
    return spec, problems


def _part(model: type[T_Part], data: object) -> T_Part | None:
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


def _problem(root: Path, error: TaskSpecError) -> Problem:
    path = error.path
    where = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    if path.is_dir() or path.name in ("workspace", "eval"):
        where += "/"
    if error.key:
        where += f": key '{error.key}'"
    return Problem("error", where, error.problem)


def _submission_problems(submission: Submission) -> list[Problem]:
    path = PurePosixPath(submission.path)
    if path.is_absolute() or ".." in path.parts:
        message = f"'{path}' must be a path inside the workspace, relative to it"
        return [Problem("error", "task.yaml: key 'submission.path'", message)]
    return []


def _baseline_file_problems(root: Path, baseline: Baseline) -> list[Problem]:
    problems = []
    for i, command in enumerate(baseline.commands):
        for script in _scripts_run_by(command):
            # The workdir is workspace/ with the task's data/ inside it.
            path = script if script.startswith("data/") else f"workspace/{script}"
            if not (root / path).is_file():
                where = f"task.yaml: key 'baseline.commands.{i}'"
                problems.append(Problem("error", where, f"runs {path}, which does not exist"))
    return problems


def _scripts_run_by(command: str) -> list[str]:
    """The workspace scripts a shell command plainly runs (``python3 x.py``, ``./run.sh``).

    Only the start of the command is read: after a ``cd`` the paths mean something else.
    """
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:
        return []
    scripts, segment = [], []
    for token in [*tokens, ";"]:
        if token not in _CONTROL:
            segment.append(token)
            continue
        if segment and segment[0] == "cd":
            break
        scripts += _script_of(segment)
        segment = []
    return scripts


def _script_of(argv: list[str]) -> list[str]:
    if argv and argv[0].startswith("./"):
        return [argv[0][2:]]
    if len(argv) >= 2 and argv[0] in _INTERPRETERS and not argv[1].startswith("-"):
        path = PurePosixPath(argv[1])
        if path.suffix in (".py", ".sh") and not path.is_absolute() and ".." not in path.parts:
            return [str(path)]
    return []


async def _run(task: Task, sandboxes: SandboxProvider) -> tuple[list[Problem], float | None]:
    try:
        async with await sandboxes.open(task.sandbox_spec()) as box:
            await task.lay_out(box)
            problems = await _run_baseline(task, box)
            if problems:
                return problems, None
            return await _evaluate_baseline(task, box)
    except SandboxError as e:
        return [Problem("error", "sandbox", f"the sandbox failed: {e}")], None


async def _run_baseline(task: Task, box: Sandbox) -> list[Problem]:
    timeout = task.spec.timeouts.command
    for i, command in enumerate(task.spec.baseline.commands):
        where = f"task.yaml: key 'baseline.commands.{i}'"
        try:
            ran = await box.exec(command, timeout=timeout)
        except SandboxBrokenError as e:
            return [Problem("error", where, f"{command!r} broke the sandbox: {e}")]
        if ran.timed_out:
            message = f"{command!r} ran over timeouts.command ({timeout:g} s)"
            return [Problem("error", where, message)]
        if ran.exit_code != 0:
            output = ran.output[-_OUTPUT_SHOWN:].strip()
            message = f"{command!r} failed (exit code {ran.exit_code}):\n{output}"
            return [Problem("error", where, message)]
    return []


async def _evaluate_baseline(task: Task, box: Sandbox) -> tuple[list[Problem], float | None]:
    result = await evaluate(task, box)
    if result.score is None:
        message = f"the baseline's artefact was not scored ({result.status}): {result.error}"
        return [Problem("error", "eval/", message)], None
    expected = task.spec.baseline.score
    if not math.isclose(result.score, expected, rel_tol=1e-6, abs_tol=1e-9):
        message = (
            f"the baseline measures {result.score!r} but task.yaml says {expected!r}; "
            "put the measured score in task.yaml (and in the description)"
        )
        return [Problem("warning", "task.yaml: key 'baseline.score'", message)], result.score
    return [], result.score
