"""import_mlgym: MLGym task folders, written here in MLGym's format, become task folders that
hide their labels and evaluators, and that score through researchgym's evaluator."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from researchgym.errors import ConfigError, UnknownComponentError
from researchgym.sandboxes import LocalSandboxes
from researchgym.tasks import (
    ImportResult,
    MovedFile,
    evaluate,
    import_mlgym,
    load_task,
    metric_direction,
    validate_task,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from researchgym.tasks import Task

asyncio_only = pytest.mark.parametrize("anyio_backend", ["asyncio"])

# A regression task as MLGym ships one: the evaluation script in the starter code (and,
# through the dataset folder, in data/ too), a test.csv that still has its labels, a label
# file, and the workspace named by MLGym's absolute path.
REGRESSION_EVALUATE = """\
import argparse, csv, json

parser = argparse.ArgumentParser()
parser.add_argument("--submission_file", default="submission.csv")
args = parser.parse_args()
test_file = open("/home/agent/workspace/data/test.csv")
truth = {r["id"]: float(r["y"]) for r in csv.DictReader(test_file)}
pred = {r["id"]: float(r["y"]) for r in csv.DictReader(open(args.submission_file))}
if set(pred) != set(truth):
    raise SystemExit("the submission's ids are not the test set's")
rmse = (sum((pred[k] - truth[k]) ** 2 for k in truth) / len(truth)) ** 0.5
print(json.dumps({"rmse": rmse, "n": len(truth), "note": "ok"}))
"""
REGRESSION_BASELINE = """\
import csv

train = list(csv.DictReader(open("data/train.csv")))
mean = sum(float(r["y"]) for r in train) / len(train)
with open("submission.csv", "w") as f:
    f.write("id,y\\n")
    for row in csv.DictReader(open("data/test.csv")):
        f.write(f"{row['id']},{mean}\\n")
"""
TRAIN = "id,x,y\na,1,1\nb,2,2\nc,3,3\n"
TEST = "id,x,y\nd,4,1\ne,5,3\n"  # the mean, 2, is off by 1 for both: RMSE 1

# A game as MLGym ships one: evaluate.py imports the agent's strategy.py and the opponent's
# target.py, both in the starter code.
GAME_EVALUATE = """\
import json
from strategy import row_strategy
from target import column_strategy

score = sum(3 if row_strategy(i) == column_strategy(i) else 0 for i in range(10)) / 10
print("playing...")
print(json.dumps({"Score": score}))
"""
GAME_STRATEGY = "def row_strategy(i):\n    return 0\n"
GAME_TARGET = "def column_strategy(i):\n    return i % 2\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def regression_task() -> dict[str, Any]:
    return {
        "id": "regressionToyPrice",
        "name": "Toy Price Regression",
        "description": "Predict y.\n{dataset_docs}\nWrite submission.csv (id,y).",
        "dataset_configs": ["datasets/toyPrice.yaml"],
        "task_entrypoint": "CSVSubmissionTasks",
        "training_timeout": 600,
        "use_generic_conda": True,
        "starter_code": [f"data/regressionToyPrice/{n}" for n in ("baseline.py", "evaluate.py")],
        "baseline_paths": ["baseline.py"],
        "baseline_scores": [{"rmse": 1.0, "r2": 0.5}],
        "evaluation_paths": ["evaluate.py"],
        "evaluation_read_only": True,
        "memory_path": "data/regressionToyPrice/memory.json",
    }  # fmt: skip


def game_task() -> dict[str, Any]:
    return {
        "id": "matchingGame",
        "name": "Matching Game",
        "description": "Write row_strategy in strategy.py.",
        "task_entrypoint": "PythonSubmissionTasks",
        "training_timeout": 120,
        "starter_code": [f"data/matchingGame/{n}.py" for n in ("target", "evaluate", "strategy")],
        "baseline_paths": ["evaluate.py"],
        "baseline_scores": [{"Score": 1.5}],
        "evaluation_paths": ["evaluate.py"],
    }  # fmt: skip


def make_checkout(
    root: Path,
    edit_regression: Callable[[dict[str, Any]], object] = lambda task: None,
    edit_dataset: Callable[[dict[str, Any]], object] = lambda dataset: None,
) -> Path:
    """A checkout in MLGym's layout with the regression task and the game."""
    task = regression_task()
    edit_regression(task)
    dataset = {
        "name": "toyPrice",
        "description": "Toy prices: id, x and the target y.",
        "data_path": "data/regressionToyPrice/data",
        "is_local": True,
    }
    edit_dataset(dataset)
    write(root / "configs/tasks/regressionToyPrice.yaml", yaml.safe_dump(task, sort_keys=False))
    write(root / "configs/tasks/matchingGame.yaml", yaml.safe_dump(game_task()))
    write(root / "configs/datasets/toyPrice.yaml", yaml.safe_dump(dataset))
    files = root / "data/regressionToyPrice"
    write(files / "baseline.py", REGRESSION_BASELINE)
    write(files / "evaluate.py", REGRESSION_EVALUATE)
    write(files / "data/train.csv", TRAIN)
    write(files / "data/test.csv", TEST)
    write(files / "data/evaluate.py", REGRESSION_EVALUATE)
    write(files / "data/answer_key.txt", "d 1\ne 3\n")
    game = root / "data/matchingGame"
    write(game / "evaluate.py", GAME_EVALUATE)
    write(game / "strategy.py", GAME_STRATEGY)
    write(game / "target.py", GAME_TARGET)
    return root


def imported(result: ImportResult, mlgym_id: str) -> Any:
    assert not result.failed, [str(f.error) for f in result.failed]
    return next(t for t in result.imported if t.mlgym_id == mlgym_id)


@pytest.fixture
def tasks(tmp_path: Path) -> dict[str, Task]:
    """Both tasks imported and loaded, by MLGym id (outside the event loop: files block)."""
    result = import_mlgym(make_checkout(tmp_path / "mlgym"), out=tmp_path / "out")
    return {t.mlgym_id: load_task(t.root) for t in result.imported}


def files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_a_csv_task_becomes_a_predictions_task(tmp_path: Path) -> None:
    result = import_mlgym(make_checkout(tmp_path / "mlgym"), out=tmp_path / "out")
    done = imported(result, "regressionToyPrice")
    assert done.root == tmp_path / "out" / "regression_toy_price"
    spec = load_task(done.root).spec
    assert (spec.id, spec.name, spec.domain) == (
        "regression_toy_price",
        "Toy Price Regression",
        "tabular_ml",
    )
    assert (spec.metric.name, spec.metric.direction, spec.baseline.score) == ("rmse", "min", 1.0)
    assert spec.baseline.commands == ["python3 baseline.py"]
    assert (spec.submission.kind, spec.submission.path) == ("predictions", "submission.csv")
    assert (spec.evaluation.command, spec.evaluation.timeout) == (["python3", "evaluate.py"], 600)
    assert spec.timeouts.command == 600
    assert spec.description.startswith(
        "Predict y.\nTOYPRICE:\nToy prices: id, x and the target y.\n\n\nWrite submission.csv"
    )
    assert "It is scored by rmse (lower is better); the baseline scores 1." in " ".join(
        spec.description.split()
    )
    assert "The evaluation script is not in your workspace" in " ".join(spec.description.split())


def test_scoring_files_move_to_eval_and_are_reported(tmp_path: Path) -> None:
    result = import_mlgym(make_checkout(tmp_path / "mlgym"), out=tmp_path / "out")
    done = imported(result, "regressionToyPrice")
    assert done.moved == [
        MovedFile("workspace/evaluate.py", "an evaluation script (evaluation_paths)"),
        MovedFile("data/evaluate.py", "a copy of an evaluation script"),
        MovedFile("data/answer_key.txt", "named like labels"),
        MovedFile(
            "data/test.csv",
            "holds the label column(s) y: the whole file is hidden, and the agent keeps a "
            "copy without them",
        ),
    ]
    assert files(done.root / "workspace") == {"baseline.py"}
    assert files(done.root / "data") == {"train.csv", "test.csv"}
    assert (done.root / "data/test.csv").read_text() == "id,x\nd,4\ne,5\n"
    assert files(done.root / "eval") == {
        "evaluate.py",
        "mlgym.json",
        "mlgym/evaluate.py",
        "mlgym/data/evaluate.py",
        "mlgym/data/answer_key.txt",
        "mlgym/data/test.csv",
    }
    assert (done.root / "eval/mlgym/data/test.csv").read_text() == TEST
    hidden_script = (done.root / "eval/mlgym/evaluate.py").read_text()
    assert 'open("data/test.csv")' in hidden_script and "/home/agent" not in hidden_script
    assert done.notes == [
        "eval/mlgym/data/evaluate.py: /home/agent/workspace made relative",
        "eval/mlgym/evaluate.py: /home/agent/workspace made relative",
        "memory_path is not used",
    ]


def test_a_python_task_becomes_a_program_task_without_its_opponent(tmp_path: Path) -> None:
    result = import_mlgym(
        make_checkout(tmp_path / "mlgym"), out=tmp_path / "out", names=["matchingGame"]
    )
    done = imported(result, "matchingGame")
    spec = load_task(done.root).spec
    assert (spec.id, spec.domain, spec.metric.direction) == ("matching_game", "game_theory", "max")
    assert (spec.submission.kind, spec.submission.path) == ("program", "strategy.py")
    assert spec.baseline.commands == []  # MLGym's baseline path was the evaluation script
    assert done.moved == [
        MovedFile("workspace/evaluate.py", "an evaluation script (evaluation_paths)"),
        MovedFile("workspace/target.py", "imported by evaluate.py, and not the submission"),
    ]
    assert files(done.root / "workspace") == {"strategy.py"}
    assert done.notes == [
        "MLGym's evaluation script runs the agent's code itself, as the evaluator's user: "
        "port it to rgym_eval.Player before letting untrusted agents at it",
        "baseline_paths names evaluate.py, which the agent cannot run",
    ]
    assert not (done.root / "data").exists()  # no dataset: no data/
    assert json.loads((done.root / "eval/mlgym.json").read_text()) == {
        "mlgym_id": "matchingGame",
        "entrypoint": "PythonSubmissionTasks",
        "kind": "program",
        "script": "evaluate.py",
        "argument": None,
        "submission": "strategy.py",
        "metric": "Score",
    }


@asyncio_only
async def test_the_imported_csv_task_validates(tasks: dict[str, Task]) -> None:
    report = await validate_task(tasks["regressionToyPrice"].root)
    assert (report.problems, report.measured) == ([], 1.0)


@asyncio_only
async def test_the_imported_csv_task_scores_and_refuses(tasks: dict[str, Task]) -> None:
    task = tasks["regressionToyPrice"]
    async with await LocalSandboxes().open(task.sandbox_spec()) as box:
        await task.lay_out(box)
        await box.write_file("submission.csv", b"id,y\nd,1\ne,3\n")
        perfect = await evaluate(task, box)
        assert (perfect.status, perfect.metrics) == ("scored", {"rmse": 0.0, "n": 2.0})
        await box.write_file("submission.csv", b"id,y\nd,1\n")
        wrong = await evaluate(task, box)
        assert wrong.status == "evaluation_format_error"
        assert wrong.error == (
            "invalid submission: MLGym's evaluation script failed (exit code 1):\n"
            "the submission's ids are not the test set's"
        )
        await box.remove(str(box.workdir / "submission.csv"))
        assert (await evaluate(task, box)).status == "submission_not_found"


@asyncio_only
async def test_the_imported_python_task_scores(tasks: dict[str, Task]) -> None:
    task = tasks["matchingGame"]
    async with await LocalSandboxes().open(task.sandbox_spec()) as box:
        await task.lay_out(box)
        assert (await evaluate(task, box)).metrics == {"Score": 1.5}  # the baseline's score
        await box.write_file("strategy.py", b"def row_strategy(i):\n    return i % 2\n")
        assert (await evaluate(task, box)).score == 3.0
        await box.write_file("strategy.py", b"def row_strategy(i):\n    return 1 / 0\n")
        broken = await evaluate(task, box, mode="validate")
        assert broken.status == "evaluation_format_error"
        assert broken.error is not None and "ZeroDivisionError" in broken.error
        # MLGym's script runs the agent's code: the final evaluation quotes none of its output
        broken = await evaluate(task, box)
        assert (broken.status, broken.error) == (
            "evaluation_format_error",
            "invalid submission: MLGym's evaluation script failed (exit code 1)",
        )


def test_a_sample_submission_names_the_label_columns(tmp_path: Path) -> None:
    def with_sample(task: dict[str, Any]) -> None:
        task["starter_code"].append("data/regressionToyPrice/sample_submission.csv")

    checkout = make_checkout(tmp_path / "mlgym", with_sample)
    write(checkout / "data/regressionToyPrice/sample_submission.csv", "id,x\nd,0\n")
    done = imported(import_mlgym(checkout, out=tmp_path / "out"), "regressionToyPrice")
    # The sample says the label is x, not the train file's last column.
    assert (done.root / "data/test.csv").read_text() == "id,y\nd,1\ne,3\n"
    assert "workspace/sample_submission.csv" not in [m.path for m in done.moved]


def test_an_unknown_metric_needs_a_direction(tmp_path: Path) -> None:
    checkout = make_checkout(
        tmp_path / "mlgym", lambda t: t.update(baseline_scores=[{"Wobble": 2.0}])
    )
    result = import_mlgym(checkout, out=tmp_path / "out", names=["regressionToyPrice"])
    (failure,) = result.failed
    assert str(failure.error) == (
        f"Broken task: {checkout / 'configs/tasks/regressionToyPrice.yaml'}: key "
        "'baseline_scores': cannot tell whether a higher or lower 'Wobble' is better; pass "
        "--direction 'Wobble=max' or --direction 'Wobble=min'"
    )
    assert not (tmp_path / "out" / "regression_toy_price").exists()
    again = import_mlgym(
        checkout, out=tmp_path / "out", names=["regressionToyPrice"], directions={"Wobble": "min"}
    )
    spec = load_task(imported(again, "regressionToyPrice").root).spec
    assert (spec.metric.name, spec.metric.direction) == ("Wobble", "min")


def test_a_dataset_that_is_not_local_is_reported(tmp_path: Path) -> None:
    checkout = make_checkout(
        tmp_path / "mlgym", edit_dataset=lambda d: d.update(is_local=False, data_path="org/toy")
    )
    result = import_mlgym(checkout, out=tmp_path / "out")
    assert [t.mlgym_id for t in result.imported] == ["matchingGame"]  # the other goes on
    (failure,) = result.failed
    assert failure.config.name == "regressionToyPrice.yaml"
    assert str(failure.error) == (
        f"Broken task: {checkout / 'configs/datasets/toyPrice.yaml'}: the dataset 'toyPrice' "
        "is not local (is_local: false, data_path org/toy): MLGym fetches it when a run "
        "starts. Put its files in a folder of the checkout, point data_path there with "
        "is_local: true, and import again"
    )


def test_a_missing_data_folder_is_reported(tmp_path: Path) -> None:
    checkout = make_checkout(tmp_path / "mlgym", edit_dataset=lambda d: d.update(data_path="x"))
    (failure,) = import_mlgym(checkout, out=tmp_path / "out").failed
    assert str(failure.error).endswith(
        f"the data folder {checkout / 'x'} does not exist; add the dataset's files there"
    )


def test_unknown_mlgym_keys_are_named(tmp_path: Path) -> None:
    checkout = make_checkout(tmp_path / "mlgym", lambda t: t.update(starter_cod=[]))
    (failure,) = import_mlgym(checkout, out=tmp_path / "out").failed
    assert failure.error.key == "starter_cod"
    assert failure.error.problem == "is not a known key (did you mean 'starter_code'?)"


def test_a_reimport_replaces_the_folder(tmp_path: Path) -> None:
    checkout = make_checkout(tmp_path / "mlgym")
    import_mlgym(checkout, out=tmp_path / "out")
    (tmp_path / "out/matching_game/workspace/stale.py").write_text("")
    import_mlgym(checkout, out=tmp_path / "out", names=["matchingGame"])
    assert files(tmp_path / "out/matching_game/workspace") == {"strategy.py"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "matching_game",
        "regression_toy_price",
    ]  # no staging folder left behind


def test_names_select_by_file_or_id_and_unknown_ones_are_refused(tmp_path: Path) -> None:
    checkout = make_checkout(tmp_path / "mlgym")
    by_id = import_mlgym(checkout, out=tmp_path / "a", names=["regressionToyPrice"])
    assert [t.mlgym_id for t in by_id.imported] == ["regressionToyPrice"]
    with pytest.raises(
        UnknownComponentError,
        match=r"^Unknown MLGym task 'nope'\. Choose one of: matchingGame, regressionToyPrice",
    ):
        import_mlgym(checkout, out=tmp_path / "b", names=["nope"])


def test_a_folder_without_configs_is_not_a_checkout(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"{tmp_path} is not an MLGym checkout")):
        import_mlgym(tmp_path, out=tmp_path / "out")


@pytest.mark.parametrize(
    ("name", "direction"),
    [
        ("rmse", "min"),
        ("val_loss", "min"),
        ("Time", "min"),
        ("accuracy", "max"),
        ("Reward Mean", "max"),
        ("r2", "max"),
        ("Score", "max"),
        ("winRate", "max"),
    ],
)
def test_directions_come_from_the_metric_s_words(name: str, direction: str) -> None:
    assert metric_direction(name) == direction


def test_a_name_with_words_both_ways_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot tell whether a higher or lower 'loss_score'"):
        metric_direction("loss_score")
    assert metric_direction("loss_score", {"loss_score": "max"}) == "max"
