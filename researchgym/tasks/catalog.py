"""What ``researchgym tasks list`` and ``tasks show`` print: the built-in tasks, a task's files.

A built-in task that does not load is listed with its error, not left out: a broken folder
under ``builtin/`` should be seen, not hidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from researchgym.errors import TaskSpecError
from researchgym.tasks.loader import BUILTIN_DIR, Task, load_task

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["TaskEntry", "TaskFiles", "builtin_tasks", "task_files"]


class TaskEntry(NamedTuple):
    """One built-in task: loaded, or the reason it does not load."""

    task_id: str
    """The folder's name (the task's id when it loads)."""
    task: Task | None
    error: TaskSpecError | None


class TaskFiles(NamedTuple):
    """The files of a task folder, as paths relative to each part, sorted."""

    workspace: list[str]
    """What the agent starts with."""
    data: list[str]
    """Read-only inputs at ``data/`` in the agent's workdir."""
    hidden: list[str]
    """``eval/``: the evaluator and its files, never visible to the agent."""


def builtin_tasks() -> list[TaskEntry]:
    """Every folder of ``builtin/`` with a task.yaml, loaded, sorted by folder name."""
    entries = []
    for spec_file in sorted(BUILTIN_DIR.glob("*/task.yaml")):
        try:
            entries.append(TaskEntry(spec_file.parent.name, load_task(spec_file.parent), None))
        except TaskSpecError as e:
            entries.append(TaskEntry(spec_file.parent.name, None, e))
    return entries


def task_files(task: Task) -> TaskFiles:
    """The files of ``task``'s workspace/, data/ and eval/ folders."""
    return TaskFiles(_files(task.workspace_dir), _files(task.data_dir), _files(task.eval_dir))


def _files(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
