"""Finding and loading task folders, with errors that name the file and the key."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from researchgym.errors import TaskSpecError, UnknownComponentError
from researchgym.tasks.spec import TaskSpec

__all__ = ["BUILTIN_DIR", "Task", "builtin_task_ids", "load_task", "resolve_task"]

BUILTIN_DIR = Path(__file__).parent / "builtin"
"""Where the built-in tasks live: one folder per task, named by its id."""


@dataclass(frozen=True)
class Task:
    """A loaded task: its spec and its folder."""

    spec: TaskSpec
    root: Path
    has_data: bool = False
    """Whether the task has a ``data/`` folder (looked at once, when loading)."""

    @property
    def workspace_dir(self) -> Path:
        """What the agent starts with."""
        return self.root / "workspace"

    @property
    def data_dir(self) -> Path:
        """Read-only inputs (may not exist)."""
        return self.root / "data"

    @property
    def eval_dir(self) -> Path:
        """The evaluator, never shown to the agent."""
        return self.root / "eval"


def builtin_task_ids() -> list[str]:
    """Return the ids of the built-in tasks, sorted."""
    return sorted(p.parent.name for p in BUILTIN_DIR.glob("*/task.yaml"))


def resolve_task(name: str) -> Task:
    """Load a task given a built-in id or the path of a task folder.

    Raises:
        UnknownComponentError: If ``name`` is neither a built-in id nor a folder.
        TaskSpecError: If the folder or its task.yaml is broken.
    """
    path = Path(name)
    if path.is_dir():
        return load_task(path)
    if (BUILTIN_DIR / name / "task.yaml").is_file():
        return load_task(BUILTIN_DIR / name)
    raise UnknownComponentError("task (built-in id or task folder)", name, builtin_task_ids())


def load_task(root: Path) -> Task:
    """Load the task in folder ``root``.

    Raises:
        TaskSpecError: If task.yaml is missing, is not YAML, has a missing, unknown or
            mistyped key, or a required folder is missing.
    """
    spec_file = root / "task.yaml"
    spec = _parse_spec(spec_file, _read_yaml(spec_file))
    for folder in ("workspace", "eval"):
        if not (root / folder).is_dir():
            raise TaskSpecError(root / folder, f"the task has no {folder}/ folder; create it")
    for script in _scripts(spec.evaluation.command):
        if not (root / "eval" / script).is_file():
            raise TaskSpecError(
                spec_file, f"eval/{script} does not exist", key="evaluation.command"
            )
    return Task(spec=spec, root=root, has_data=(root / "data").is_dir())


def _scripts(command: list[str]) -> list[str]:
    """The arguments of an evaluation command that name a script of eval/ (by extension)."""
    return [arg for arg in command if Path(arg).suffix in (".py", ".sh") and "/" not in arg[:1]]


def _read_yaml(spec_file: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(spec_file.read_text())
    except FileNotFoundError:
        raise TaskSpecError(spec_file, "no such file; a task folder needs a task.yaml") from None
    except (OSError, UnicodeDecodeError) as e:
        raise TaskSpecError(spec_file, f"cannot be read: {e}") from e
    except yaml.YAMLError as e:
        raise TaskSpecError(spec_file, f"not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise TaskSpecError(spec_file, "expected a mapping of keys to values at the top level")
    return data


def _parse_spec(spec_file: Path, data: dict[str, Any]) -> TaskSpec:
    try:
        return TaskSpec.model_validate(data)
    except ValidationError as e:
        # A mistyped key also makes the right key missing: report the typo, it explains both.
        error = next((x for x in e.errors() if x["type"] == "extra_forbidden"), e.errors()[0])
        key = ".".join(str(part) for part in error["loc"])
        raise TaskSpecError(spec_file, _explain(error, TaskSpec), key=key) from e


def _explain(error: Any, model: type[BaseModel]) -> str:
    if error["type"] == "missing":
        return "is missing"
    if error["type"] == "extra_forbidden":
        known = _known_keys(model, error["loc"][:-1])
        close = difflib.get_close_matches(str(error["loc"][-1]), known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
        return f"is not a known key ({hint})"
    return f"{error['msg']} (found {error['input']!r})"


def _known_keys(model: type[BaseModel], parents: tuple[Any, ...]) -> list[str]:
    for part in parents:
        annotation = model.model_fields[str(part)].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)
