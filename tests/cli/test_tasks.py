"""researchgym tasks list / show / validate / import-mlgym, run as a user runs them."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from researchgym.tasks import builtin_task_ids, resolve_task
from tests.cli.helpers import cli
from tests.tasks.mlgym.test_importer import make_checkout
from tests.tasks.test_loader import make_task

if TYPE_CHECKING:
    from pathlib import Path


def squeeze(text: str) -> str:
    return " ".join(text.split())


def test_list_shows_every_task_with_its_direction() -> None:
    done = cli("tasks", "list")
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines() if line.strip()}
    assert set(builtin_task_ids()) <= set(rows)
    assert rows["prisoners_dilemma"] == ["prisoners_dilemma", "game_theory", "Score", "↑", "2.643"]
    for task_id in builtin_task_ids():
        spec = resolve_task(task_id).spec
        assert rows[task_id][3] == ("↑" if spec.metric.direction == "max" else "↓")
    # and the example plug-in's collection
    assert rows["example/guess"][:4] == ["example/guess", "testing", "Closeness", "↑"]
    assert f"{len(builtin_task_ids()) + 1} tasks (↑ higher is better, ↓ lower)" in done.stdout


def test_show_prints_the_description_and_marks_eval_hidden() -> None:
    done = cli("tasks", "show", "prisoners_dilemma")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Iterated Prisoner's Dilemma (prisoners_dilemma, game_theory)")
    assert "You play the row player in an iterated Prisoner's Dilemma" in done.stdout
    assert lines[-3:] == [
        "metric: Score (higher is better), baseline 2.64314; submission: program strategy.py",
        "  workspace/strategy.py",
        "  eval/evaluate.py  (hidden from the agent)",
    ]


def test_show_lets_the_terminal_wrap_prose_but_keeps_examples() -> None:
    done = cli("tasks", "show", "diabetes_regression")  # COLUMNS=200
    lines = done.stdout.splitlines()
    # a paragraph written over several lines of task.yaml is one line, wrapped at 200
    paragraph = next(line for line in lines if line.startswith("What you must produce:"))
    assert len(paragraph) > 150
    # the indented example stays as written, a line each
    start = lines.index("    id,prediction")
    assert lines[start + 1 : start + 3] == ["    0,151.2", "    1,98.75"]


def test_show_an_unknown_task_lists_the_known_ones() -> None:
    done = cli("tasks", "show", "nope")
    assert done.returncode == 1
    assert squeeze(done.stderr).startswith(
        "error: Unknown task (an id or a task folder) 'nope'. Choose one of:"
    )


def test_validate_a_good_task_says_ok() -> None:
    done = cli("tasks", "validate", "prisoners_dilemma")
    assert done.returncode == 0, done.stdout + done.stderr
    assert squeeze(done.stdout).startswith("OK: prisoners_dilemma (")
    assert "the baseline scores 2.64314 in" in done.stdout


def test_validate_a_broken_task_lists_every_problem(tmp_path: Path) -> None:
    def break_it(spec: dict[str, object]) -> None:
        spec.pop("domain")
        spec["metric"] = {"name": "Score", "direction": "up"}

    root = make_task(tmp_path / "broken", break_it, folders=("eval",))
    done = cli("tasks", "validate", root)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "error task.yaml: key 'domain': is missing",
        "error task.yaml: key 'metric.direction': Input should be 'max' or 'min' (found 'up')",
        "error workspace/: the task has no workspace/ folder; create it",
        f"{root}: 3 problems.",
    ]


def test_import_mlgym_reports_hidden_files_and_the_task_validates(tmp_path: Path) -> None:
    checkout = make_checkout(tmp_path / "mlgym")
    done = cli("tasks", "import-mlgym", checkout, "--task", "regressionToyPrice", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    root = tmp_path / "tasks/mlgym/regression_toy_price"  # the default --out, from cwd
    assert done.stdout.splitlines()[:5] == [
        f"imported regressionToyPrice -> {root.relative_to(tmp_path)}",
        "  hidden in eval/: workspace/evaluate.py: an evaluation script (evaluation_paths)",
        "  hidden in eval/: data/evaluate.py: a copy of an evaluation script",
        "  hidden in eval/: data/answer_key.txt: named like labels",
        "  hidden in eval/: data/test.csv: holds the label column(s) y: the whole file is "
        "hidden, and the agent keeps a copy without them",
    ]
    assert done.stdout.splitlines()[-1] == "1 imported, 0 not."
    validated = cli("tasks", "validate", root)
    assert validated.returncode == 0, validated.stdout
    assert "OK: regression_toy_price" in validated.stdout
    assert "the baseline scores 1 in" in validated.stdout


def test_import_mlgym_fails_clearly_on_an_unknown_metric(tmp_path: Path) -> None:
    checkout = make_checkout(
        tmp_path / "mlgym", lambda t: t.update(baseline_scores=[{"Wobble": 2.0}])
    )
    done = cli("tasks", "import-mlgym", checkout, "--out", tmp_path / "out")
    assert done.returncode == 1
    assert "imported matchingGame ->" in done.stdout
    assert "1 imported, 1 not." in done.stdout
    assert squeeze(done.stderr).startswith("not imported: regressionToyPrice: Broken task:")
    assert "pass --direction 'Wobble=max' or --direction 'Wobble=min'" in squeeze(done.stderr)
    again = cli(
        "tasks", "import-mlgym", checkout, "--out", tmp_path / "out", "--direction", "Wobble=min"
    )
    assert again.returncode == 0, again.stderr
    bad = cli("tasks", "import-mlgym", checkout, "--direction", "Wobble")
    assert bad.returncode == 1
    assert squeeze(bad.stderr) == (
        "error: --direction takes METRIC=max or METRIC=min, not 'Wobble'."
    )


def test_import_mlgym_refuses_a_folder_that_is_not_a_checkout(tmp_path: Path) -> None:
    done = cli("tasks", "import-mlgym", tmp_path)
    assert done.returncode == 1
    assert squeeze(done.stderr) == (
        f"error: {tmp_path} is not an MLGym checkout: it has no configs/tasks/ folder. "
        "Pass the folder MLGym was cloned into."
    )


def test_a_relative_task_folder_with_data_validates_and_runs_in_docker(
    tmp_path: Path, sandbox_image: str
) -> None:
    shutil.copytree(resolve_task("diabetes_regression").root, tmp_path / "mine")
    validated = cli("tasks", "validate", "mine", "--sandbox", "docker", cwd=tmp_path)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert squeeze(validated.stdout).startswith("OK: diabetes_regression (mine): the baseline")
    args = ["run", "--task", "mine", "--agent", "baseline", "--attempts", "1"]
    ran = cli(*args, "--sandbox", "docker", "--db", "db.duckdb", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "1 episodes (0 crashed)" in ran.stdout
    statuses = cli(
        "sql",
        "SELECT exit_status FROM episodes",
        "--db",
        "db.duckdb",
        "--format",
        "csv",
        cwd=tmp_path,
    )
    assert statuses.stdout.split() == ['"exit_status"', '"submitted"']
