"""Task collections, finding a task by name, and what ``tasks list`` and ``tasks show`` print.

A collection is a folder of task folders, each named by its task's id. ``TASKS`` holds them
by name: ``builtin`` (the package's own tasks), and what plug-ins add by entry points of the
group ``researchgym.tasks``, each a folder (a path) or a callable returning one. A run names
a task by its folder, its id (a built-in's first, then each plug-in collection's), or
``<collection>/<id>``; a collection's name stands for all of its tasks.

A task that does not load is listed with its error, not left out: a broken folder should be
seen, not hidden.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from researchgym.errors import PluginError, TaskSpecError, UnknownComponentError
from researchgym.plugins import Registry
from researchgym.tasks.loader import BUILTIN_DIR, Task, load_task

__all__ = [
    "TASKS",
    "TaskCollection",
    "TaskEntry",
    "TaskFiles",
    "builtin_task_ids",
    "builtin_tasks",
    "collection_folder",
    "resolve_task",
    "task_files",
    "task_folder",
    "task_names",
    "tasks_in",
]

TaskCollection = str | os.PathLike[str] | Callable[[], str | os.PathLike[str]]
"""A folder of task folders, or a callable returning one."""

TASKS = Registry[TaskCollection](
    "task collection",
    "researchgym.tasks",
    accepts=lambda value: isinstance(value, str | os.PathLike) or callable(value),
    expected="a folder of task folders (a path), or a callable returning one",
)
"""Every task collection by name: built in (builtin), and from plug-ins."""
TASKS.add("builtin", BUILTIN_DIR)


class TaskEntry(NamedTuple):
    """One task of a collection: loaded, or the reason it does not load."""

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


def collection_folder(name: str) -> Path:
    """The folder of the task collection ``name`` (blocking: it may import a plug-in).

    Raises:
        UnknownComponentError: If no collection has that name.
        PluginError: If the collection is a plug-in that cannot be used.
    """
    collection = TASKS.get(name)
    return Path(collection() if callable(collection) else collection)


def builtin_task_ids() -> list[str]:
    """Return the ids of the built-in tasks, sorted."""
    return _ids(BUILTIN_DIR)


def task_names(name: str) -> list[str]:
    """What a run's task name stands for: every task of a collection, or itself.

    Raises:
        PluginError: If ``name`` is a plug-in collection that cannot be used.
    """
    if name == "builtin":
        return builtin_task_ids()
    if not Path(name).exists() and name in TASKS.names():
        return [f"{name}/{task_id}" for task_id in _ids(collection_folder(name))]
    return [name]


def resolve_task(name: str) -> Task:
    """Load a task given its folder, its id, or ``<collection>/<id>``.

    Raises:
        UnknownComponentError: If no folder, built-in task or plug-in collection's task has
            the name, listing the ids that would work.
        TaskSpecError: If the folder or its task.yaml is broken.
    """
    folder = _find(name)
    if folder is None:
        plugins = _plugin_folders(None)
        known = [*builtin_task_ids(), *(f"{c}/{i}" for c, f in plugins.items() for i in _ids(f))]
        raise UnknownComponentError("task (an id or a task folder)", name, known)
    return load_task(folder)


def task_folder(name: str) -> Path:
    """The folder that ``name`` means: a path, or a task's id, or ``<collection>/<id>``."""
    return _find(name) or Path(name)


def _find(name: str) -> Path | None:
    path = Path(name)
    if path.is_dir():
        return path
    if (BUILTIN_DIR / name / "task.yaml").is_file():
        return BUILTIN_DIR / name
    collection, _, task_id = name.rpartition("/")
    for folder in _plugin_folders([collection] if collection else None).values():
        if (folder / (task_id or name) / "task.yaml").is_file():
            return folder / (task_id or name)
    return None


def builtin_tasks() -> list[TaskEntry]:
    """Every built-in task, loaded, sorted by folder name."""
    return tasks_in(BUILTIN_DIR)


def tasks_in(folder: Path) -> list[TaskEntry]:
    """Every folder of ``folder`` with a task.yaml, loaded, sorted by folder name."""
    entries = []
    for spec_file in sorted(folder.glob("*/task.yaml")):
        try:
            entries.append(TaskEntry(spec_file.parent.name, load_task(spec_file.parent), None))
        except TaskSpecError as e:
            entries.append(TaskEntry(spec_file.parent.name, None, e))
    return entries


def task_files(task: Task) -> TaskFiles:
    """The files of ``task``'s workspace/, data/ and eval/ folders."""
    return TaskFiles(_files(task.workspace_dir), _files(task.data_dir), _files(task.eval_dir))


def _plugin_folders(names: list[str] | None) -> dict[str, Path]:
    """The folders of the named plug-in collections (None: every one that can be used)."""
    if names is not None:
        return {name: collection_folder(name) for name in names if name in TASKS}
    folders = {}
    for name in TASKS.names():
        try:
            folders[name] = collection_folder(name)
        except PluginError:  # a broken plug-in leaves the others usable
            continue
    return {name: folder for name, folder in folders.items() if folder != BUILTIN_DIR}


def _ids(folder: Path) -> list[str]:
    return sorted(p.parent.name for p in folder.glob("*/task.yaml"))


def _files(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
