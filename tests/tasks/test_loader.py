from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

import anyio
import pytest
import yaml

from researchgym.errors import TaskSpecError, UnknownComponentError
from researchgym.tasks import (
    BUILTIN_DIR,
    Problem,
    builtin_task_ids,
    load_task,
    resolve_task,
    validate_task,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def valid_spec() -> dict[str, Any]:
    return {
        "id": "toy",
        "name": "Toy",
        "domain": "testing",
        "description": "Make answer.txt say 42.",
        "metric": {"name": "Score", "direction": "max"},
        "baseline": {"score": 0.0, "commands": ["echo 0 > answer.txt"]},
        "submission": {"kind": "predictions", "path": "answer.txt"},
        "evaluation": {"command": ["python3", "evaluate.py"], "timeout": 30},
    }


def make_task(
    root: Path,
    edit: Callable[[dict[str, Any]], object] = lambda spec: None,
    *,
    folders: tuple[str, ...] = ("workspace", "eval"),
    text: str | None = None,
) -> Path:
    """Write a task folder; ``edit`` mutates the spec, ``text`` replaces task.yaml outright."""
    root.mkdir(parents=True, exist_ok=True)
    spec = valid_spec()
    edit(spec)
    (root / "task.yaml").write_text(text if text is not None else yaml.safe_dump(spec))
    for folder in folders:
        (root / folder).mkdir(exist_ok=True)
    if "eval" in folders:
        (root / "eval" / "evaluate.py").write_text("")
    return root


def test_valid_task_loads(tmp_path: Path) -> None:
    task = load_task(make_task(tmp_path / "toy"))
    assert task.spec.id == "toy"
    assert task.spec.metric.direction == "max"
    assert task.workspace_dir == tmp_path / "toy" / "workspace"
    assert task.spec.timeouts.command == 300.0  # default


def expect(path: Path, key: str | None, problem: str) -> str:
    where = f"{path}: key '{key}'" if key else str(path)
    return "^" + re.escape(f"Broken task: {where}: {problem}") + "$"


def test_missing_key_names_file_and_key(tmp_path: Path) -> None:
    root = make_task(tmp_path / "t", lambda s: s["metric"].pop("direction"))
    with pytest.raises(
        TaskSpecError, match=expect(root / "task.yaml", "metric.direction", "is missing")
    ) as info:
        load_task(root)
    assert (info.value.path, info.value.key) == (root / "task.yaml", "metric.direction")


def test_mistyped_key_suggests_the_right_one(tmp_path: Path) -> None:
    root = make_task(tmp_path / "t", lambda s: s.update(descripton=s.pop("description")))
    with pytest.raises(
        TaskSpecError,
        match=expect(
            root / "task.yaml", "descripton", "is not a known key (did you mean 'description'?)"
        ),
    ):
        load_task(root)
    root2 = make_task(tmp_path / "t2", lambda s: s["metric"].update(nmae="x"))
    with pytest.raises(
        TaskSpecError,
        match=expect(
            root2 / "task.yaml", "metric.nmae", "is not a known key (did you mean 'name'?)"
        ),
    ):
        load_task(root2)


def test_wrong_value_is_quoted(tmp_path: Path) -> None:
    root = make_task(tmp_path / "t", lambda s: s["metric"].update(direction="up"))
    with pytest.raises(
        TaskSpecError,
        match=expect(
            root / "task.yaml", "metric.direction", "Input should be 'max' or 'min' (found 'up')"
        ),
    ):
        load_task(root)


def test_bad_id_is_refused(tmp_path: Path) -> None:
    root = make_task(tmp_path / "t", lambda s: s.update(id="Has Spaces"))
    with pytest.raises(TaskSpecError, match=r"key 'id'"):
        load_task(root)


def test_not_yaml(tmp_path: Path) -> None:
    root = make_task(tmp_path / "t", text="id: [unclosed\n")
    with pytest.raises(
        TaskSpecError, match="^" + re.escape(f"Broken task: {root / 'task.yaml'}: not valid YAML")
    ):
        load_task(root)


def test_not_a_mapping(tmp_path: Path) -> None:
    root = make_task(tmp_path / "t", text="- a\n- b\n")
    with pytest.raises(
        TaskSpecError,
        match=expect(
            root / "task.yaml", None, "expected a mapping of keys to values at the top level"
        ),
    ):
        load_task(root)


def test_missing_task_yaml(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        TaskSpecError,
        match=expect(
            tmp_path / "empty" / "task.yaml", None, "no such file; a task folder needs a task.yaml"
        ),
    ):
        load_task(tmp_path / "empty")


def test_missing_folder(tmp_path: Path) -> None:
    root = make_task(tmp_path / "t", folders=("eval",))
    with pytest.raises(
        TaskSpecError,
        match=expect(root / "workspace", None, "the task has no workspace/ folder; create it"),
    ):
        load_task(root)


def test_missing_evaluator_script(tmp_path: Path) -> None:
    root = make_task(
        tmp_path / "t", lambda s: s["evaluation"].update(command=["python3", "score.py"])
    )
    with pytest.raises(
        TaskSpecError,
        match=expect(root / "task.yaml", "evaluation.command", "eval/score.py does not exist"),
    ):
        load_task(root)


def test_resolve_builtin_and_folder(tmp_path: Path) -> None:
    assert "prisoners_dilemma" in builtin_task_ids()
    assert resolve_task("prisoners_dilemma").root == BUILTIN_DIR / "prisoners_dilemma"
    folder = make_task(tmp_path / "toy")
    assert resolve_task(str(folder)).spec.id == "toy"


def test_resolve_unknown_lists_the_known_tasks() -> None:
    with pytest.raises(
        UnknownComponentError,
        match=r"^Unknown task \(an id or a task folder\) 'nope'\. "
        r"Choose one of: .*example/guess.*prisoners_dilemma.*\.$",
    ):
        resolve_task("nope")


@pytest.mark.parametrize("task_id", builtin_task_ids())
def test_every_builtin_task_loads_and_keeps_eval_out_of_the_workspace(task_id: str) -> None:
    task = resolve_task(task_id)
    assert task.spec.id == task_id == task.root.name
    workspace_files = {p.name for p in task.workspace_dir.rglob("*")}
    eval_files = {p.name for p in task.eval_dir.rglob("*") if p.is_file()}
    assert eval_files and not (eval_files & workspace_files)


def test_evaluation_command_with_arguments(tmp_path: Path) -> None:
    root = make_task(
        tmp_path / "t",
        lambda s: s["evaluation"].update(command=["python3", "evaluate.py", "--fast"]),
    )
    assert load_task(root).spec.evaluation.command[-1] == "--fast"
    empty = make_task(tmp_path / "e", lambda s: s["evaluation"].update(command=[]))
    with pytest.raises(
        TaskSpecError, match=r"key 'evaluation\.command': List should have at least 1"
    ):
        load_task(empty)


def test_unreadable_task_yaml(tmp_path: Path) -> None:
    root = make_task(tmp_path / "t")
    (root / "task.yaml").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(TaskSpecError, match=r"task\.yaml: cannot be read: 'utf-8' codec"):
        load_task(root)


def test_memory_size_is_checked(tmp_path: Path) -> None:
    root = make_task(tmp_path / "t", lambda s: s.update(resources={"memory": "big"}))
    with pytest.raises(
        TaskSpecError, match=r"key 'resources\.memory': Value error, 'big' is not a memory size"
    ):
        load_task(root)


def test_the_eval_digest_covers_paths_bytes_and_the_executable_bit(tmp_path: Path) -> None:
    root = make_task(tmp_path / "t")
    first = load_task(root).eval_digest
    assert load_task(root).eval_digest == first  # the same folder, the same digest
    script = root / "eval" / "evaluate.py"
    seen = {first}
    for change in (
        lambda: script.write_text("print(1)"),
        lambda: script.chmod(0o755),
        lambda: (root / "eval" / "labels").mkdir(),
        lambda: (root / "eval" / "labels" / "test.csv").write_text(""),
        lambda: (root / "eval" / "labels" / "test.csv").rename(root / "eval" / "test.csv"),
    ):
        change()
        digest = load_task(root).eval_digest
        assert digest not in seen
        seen.add(digest)
    # bytecode is neither hashed nor copied
    (root / "eval" / "__pycache__").mkdir()
    (root / "eval" / "__pycache__" / "evaluate.cpython-311.pyc").write_bytes(b"stale")
    assert load_task(root).eval_digest == digest


@pytest.mark.parametrize("kind", ["link", "fifo"])
async def test_eval_holds_only_files_and_folders(tmp_path: Path, kind: str) -> None:
    root = make_task(tmp_path / "t")
    odd = root / "eval" / "labels.csv"
    if kind == "link":
        (tmp_path / "labels.csv").write_text("id,target\n")
        odd.symlink_to(tmp_path / "labels.csv")
        problem = (
            "is a symbolic link; eval/ may hold only files and folders, since it is copied for"
            " each evaluation: put the file itself there"
        )
    else:
        os.mkfifo(odd)
        problem = (
            "is a FIFO, not a file or a folder; eval/ may hold only files and folders, since it"
            " is copied for each evaluation"
        )
    with pytest.raises(TaskSpecError, match=expect(odd, None, problem)):
        await anyio.to_thread.run_sync(load_task, root)
    report = await validate_task(root, run=False)  # every problem, never an exception
    assert report.problems == [Problem("error", "eval/labels.csv", problem)]


def test_eval_itself_may_not_be_a_link(tmp_path: Path) -> None:
    root = make_task(tmp_path / "t", folders=("workspace",))
    make_task(tmp_path / "other")
    (root / "eval").symlink_to(tmp_path / "other" / "eval")
    problem = (
        "is a symbolic link; eval/ may hold only files and folders, since it is copied for each"
        " evaluation: put the file itself there"
    )
    with pytest.raises(TaskSpecError, match=expect(root / "eval", None, problem)):
        load_task(root)
