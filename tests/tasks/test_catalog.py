"""The built-in tasks as `tasks list` sees them, and a task's files as `tasks show` does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from researchgym.tasks import builtin_task_ids, builtin_tasks, resolve_task, task_files, tasks_in
from tests.tasks.test_loader import make_task

if TYPE_CHECKING:
    from pathlib import Path


def test_every_builtin_task_is_listed_loaded() -> None:
    entries = builtin_tasks()
    assert [e.task_id for e in entries] == builtin_task_ids()
    assert all(e.task is not None and e.error is None for e in entries)


def test_a_broken_task_is_listed_with_its_error(tmp_path: Path) -> None:
    make_task(tmp_path / "good", lambda s: s.update(id="good"))
    make_task(tmp_path / "bad", lambda s: s.pop("metric"))
    bad, good = tasks_in(tmp_path)
    assert (good.task_id, good.error) == ("good", None)
    assert (bad.task_id, bad.task) == ("bad", None)
    assert bad.error is not None and (bad.error.key, bad.error.problem) == ("metric", "is missing")


def test_files_are_listed_per_folder(tmp_path: Path) -> None:
    root = make_task(tmp_path / "t")
    (root / "data" / "sub").mkdir(parents=True)
    (root / "data" / "sub" / "x.csv").write_text("")
    (root / "workspace" / "main.py").write_text("")
    (root / "eval" / "__pycache__").mkdir()
    (root / "eval" / "__pycache__" / "evaluate.pyc").write_text("")
    files = task_files(resolve_task(str(root)))
    assert files == (["main.py"], ["sub/x.csv"], ["evaluate.py"])
