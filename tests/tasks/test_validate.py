"""validate_task: every problem of a task folder at once, the baseline run for real."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import yaml

from researchgym.tasks import BUILTIN_DIR, task_folder, validate_task
from tests.tasks.test_loader import make_task

if TYPE_CHECKING:
    from pathlib import Path

asyncio_only = pytest.mark.parametrize("anyio_backend", ["asyncio"])
"""The sandbox runs under trio too (tests/sandboxes); once is enough here."""

EVALUATOR = """\
import json, os
answer = open(os.environ["RGYM_SUBMISSION"]).read().strip()
with open(os.environ["RGYM_RESULT"], "w") as f:
    json.dump({"Score": float(answer)}, f)
"""


READ_ONLY = (
    "python3 -c \"import os, sys; p = '{}'; "
    'sys.exit(os.access(p, os.W_OK) and bool(os.stat(p).st_mode & 0o222))"'
)
"""A command that fails unless the file lies on a read-only mount or has no write bits (root
ignores the bits, not the mount: test both)."""


def toy(root: Path, edit: Any = lambda spec: None, *, evaluator: str = EVALUATOR) -> Path:
    """A working task: the baseline writes 0 to answer.txt, the evaluator reads it back."""
    make_task(root, edit)
    (root / "eval" / "evaluate.py").write_text(evaluator)
    return root


def lines(problems: list[Any]) -> list[str]:
    return [f"{p.severity} {p}" for p in problems]


@asyncio_only
async def test_the_builtin_prisoners_dilemma_passes() -> None:
    report = await validate_task(BUILTIN_DIR / "prisoners_dilemma")
    assert report.problems == []
    assert report.ok and report.spec is not None
    assert report.measured == pytest.approx(report.spec.baseline.score, abs=1e-9)
    assert report.seconds is not None and report.seconds > 0


@asyncio_only
async def test_a_working_toy_passes(tmp_path: Path) -> None:
    report = await validate_task(toy(tmp_path / "toy"))
    assert (report.ok, report.problems, report.measured) == (True, [], 0.0)


@asyncio_only
async def test_a_broken_folder_lists_every_problem_at_once(tmp_path: Path) -> None:
    def break_it(spec: dict[str, Any]) -> None:
        spec["descripton"] = spec.pop("description")  # typo: not also reported missing
        spec.pop("domain")
        spec["colour"] = "blue"
        spec["metric"]["direction"] = "up"
        spec["baseline"]["commands"] = ["python3 train.py", "cd sub && python3 elsewhere.py"]
        spec["evaluation"]["command"] = ["python3", "score.py"]
        spec["submission"]["path"] = "../answer.txt"

    root = make_task(tmp_path / "t", break_it, folders=("eval",))
    report = await validate_task(root)
    assert lines(report.problems) == [
        "error task.yaml: key 'colour': is not a known key (known keys: id, name, domain, "
        "description, metric, baseline, submission, evaluation, timeouts, resources, "
        "requires_isolation)",
        "error task.yaml: key 'descripton': is not a known key (did you mean 'description'?)",
        "error task.yaml: key 'domain': is missing",
        "error task.yaml: key 'metric.direction': Input should be 'max' or 'min' (found 'up')",
        "error workspace/: the task has no workspace/ folder; create it",
        "error task.yaml: key 'evaluation.command': eval/score.py does not exist",
        "error task.yaml: key 'submission.path': '../answer.txt' must be a path inside the "
        "workspace, relative to it",
        "error task.yaml: key 'baseline.commands.0': runs workspace/train.py, which does not exist",
    ]
    assert not report.ok and report.spec is None and report.measured is None


@asyncio_only
async def test_missing_task_yaml_and_folders(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    report = await validate_task(tmp_path / "empty")
    assert lines(report.problems) == [
        "error task.yaml: no such file; a task folder needs a task.yaml",
        "error workspace/: the task has no workspace/ folder; create it",
        "error eval/: the task has no eval/ folder; create it",
    ]


@asyncio_only
async def test_not_yaml(tmp_path: Path) -> None:
    root = make_task(tmp_path / "t", text="id: [unclosed\n")
    (problem,) = (await validate_task(root)).problems
    assert str(problem).startswith("task.yaml: not valid YAML: while parsing a flow sequence")


@asyncio_only
async def test_a_failing_baseline_is_an_error_with_its_output(tmp_path: Path) -> None:
    failing = "echo oops && python3 -c 'raise SystemExit(3)'"
    root = toy(tmp_path / "t", lambda s: s["baseline"].update(commands=[failing, "echo 1 > x"]))
    report = await validate_task(root)
    assert lines(report.problems) == [
        f"error task.yaml: key 'baseline.commands.0': {failing!r} failed (exit code 3):\noops"
    ]
    assert report.measured is None


@asyncio_only
async def test_a_baseline_that_ends_the_shell_is_an_error(tmp_path: Path) -> None:
    root = toy(tmp_path / "t", lambda s: s["baseline"].update(commands=["exit 3"]))
    (problem,) = (await validate_task(root)).problems
    assert str(problem).startswith(
        "task.yaml: key 'baseline.commands.0': 'exit 3' broke the sandbox: The sandbox's shell "
        "is gone: the shell exited with status 3"
    )


@asyncio_only
async def test_a_baseline_over_its_time_is_an_error(tmp_path: Path) -> None:
    def slow(spec: dict[str, Any]) -> None:
        spec["baseline"]["commands"] = ["sleep 5"]
        spec["timeouts"] = {"command": 0.5}

    report = await validate_task(toy(tmp_path / "t", slow))
    assert lines(report.problems) == [
        "error task.yaml: key 'baseline.commands.0': 'sleep 5' ran over timeouts.command (0.5 s)"
    ]


@asyncio_only
async def test_an_evaluator_without_the_metric_is_an_error(tmp_path: Path) -> None:
    evaluator = EVALUATOR.replace('"Score"', '"score"')
    report = await validate_task(toy(tmp_path / "t", evaluator=evaluator))
    assert lines(report.problems) == [
        "error eval/: the baseline's artefact was not scored (evaluation_format_error): the "
        "evaluation reported no 'Score'"
    ]


@asyncio_only
async def test_an_artefact_the_baseline_does_not_make_is_an_error(tmp_path: Path) -> None:
    report = await validate_task(toy(tmp_path / "t", lambda s: s["baseline"].update(commands=[])))
    assert lines(report.problems) == [
        "error eval/: the baseline's artefact was not scored (submission_not_found): "
        "answer.txt does not exist in the workspace; create it first."
    ]


@asyncio_only
async def test_a_baseline_score_other_than_measured_is_a_warning(tmp_path: Path) -> None:
    report = await validate_task(toy(tmp_path / "t", lambda s: s["baseline"].update(score=0.5)))
    assert lines(report.problems) == [
        "warning task.yaml: key 'baseline.score': the baseline measures 0.0 but task.yaml "
        "says 0.5; put the measured score in task.yaml (and in the description)"
    ]
    assert report.ok and report.measured == 0.0


@asyncio_only
async def test_the_baseline_runs_in_the_episode_s_layout(tmp_path: Path) -> None:
    """The workspace is the workdir and data/ is read-only inside it, as in an episode."""
    root = toy(
        tmp_path / "t",
        lambda s: s["baseline"].update(
            score=7.0,
            commands=["cat data/seed.txt > answer.txt", READ_ONLY.format("data/seed.txt")],
        ),
    )
    (root / "data").mkdir()
    (root / "data" / "seed.txt").write_text("7\n")
    report = await validate_task(root)
    assert (report.problems, report.measured) == ([], 7.0)


@asyncio_only
async def test_without_running_only_the_folder_is_checked(tmp_path: Path) -> None:
    root = toy(tmp_path / "t", lambda s: s["baseline"].update(commands=["exit 1"]))
    report = await validate_task(root, run=False)
    assert (report.problems, report.measured, report.seconds) == ([], None, None)


@asyncio_only
async def test_scripts_a_baseline_runs_are_checked_where_plain(tmp_path: Path) -> None:
    commands = [
        "python3 -m pip --version",  # a module, not a file
        "python3 make.py --fast && bash run.sh | tee log",
        "./go.sh",
        "python3 data/prep.py",
        "cd sub && python3 there.py",  # after cd, paths mean something else
    ]
    root = make_task(tmp_path / "t", lambda s: s["baseline"].update(commands=commands))
    (root / "workspace" / "run.sh").write_text("")
    spec = yaml.safe_load((root / "task.yaml").read_text())
    assert spec["baseline"]["commands"] == commands
    report = await validate_task(root, run=False)
    assert lines(report.problems) == [
        "error task.yaml: key 'baseline.commands.1': runs workspace/make.py, which does not exist",
        "error task.yaml: key 'baseline.commands.2': runs workspace/go.sh, which does not exist",
        "error task.yaml: key 'baseline.commands.3': runs data/prep.py, which does not exist",
    ]


def test_task_folder_takes_a_path_or_a_builtin_id(tmp_path: Path) -> None:
    assert task_folder("prisoners_dilemma") == BUILTIN_DIR / "prisoners_dilemma"
    assert task_folder(str(tmp_path)) == tmp_path
    assert task_folder("no/such/folder").name == "folder"
