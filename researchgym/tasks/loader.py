"""Finding and loading task folders, with errors that name the file and the key."""

from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ValidationError

from researchgym.errors import TaskSpecError
from researchgym.sandboxes import SandboxSpec
from researchgym.tasks._snapshot import Unfit, tree_digest, unfit_entries
from researchgym.tasks.spec import Evaluation, TaskSpec

if TYPE_CHECKING:
    from researchgym.sandboxes import Sandbox

__all__ = [
    "BUILTIN_DIR",
    "Task",
    "folder_errors",
    "load_task",
    "model_errors",
    "read_spec_file",
    "spec_errors",
]

BUILTIN_DIR = Path(__file__).parent / "builtin"
"""Where the built-in tasks live: one folder per task, named by its id."""


@dataclass(frozen=True)
class Task:
    """A loaded task: its spec and its folder."""

    spec: TaskSpec
    root: Path
    has_data: bool = False
    """Whether the task has a ``data/`` folder (looked at once, when loading)."""
    eval_digest: str = field(kw_only=True)
    """The SHA-256 of ``eval/`` when the task was loaded: every evaluation uploads a copy of
    eval/ only if the copy has this digest (``evaluate`` raises ``TaskChangedError`` if not)."""
    content_hash: str = field(kw_only=True)
    """What the task is, hashed when it was loaded (``_content_hash``): the same for the same
    folder in every run and every researchgym version, so that a resumed run knows its
    episodes again, and sees when a task changed."""

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

    def sandbox_spec(self) -> SandboxSpec:
        """What an episode of this task asks of its sandbox.

        Its resources, and its ``data/`` (read-only at ``workdir/data``) where it has one.
        """
        resources = self.spec.resources
        return SandboxSpec(
            cpus=resources.cpus,
            memory=resources.memory,
            gpus=resources.gpus,
            disk=resources.disk,
            network=resources.network,
            data=self.data_dir if self.has_data else None,
        )

    async def lay_out(self, sandbox: Sandbox) -> None:
        """Lay the task out in ``sandbox`` (opened with ``sandbox_spec()``) as an episode starts.

        ``workspace/`` is copied into the workdir; ``eval/`` stays out.

        Raises:
            SandboxError: If the sandbox fails.
        """
        await sandbox.upload(self.workspace_dir, str(sandbox.workdir))


def load_task(root: Path) -> Task:
    """Load the task in folder ``root``.

    eval/ is hashed here, once: what each evaluation runs is checked against it.

    Raises:
        TaskSpecError: If task.yaml is missing, is not YAML, has a missing, unknown or
            mistyped key, a required folder is missing, or eval/ holds something other than
            files and folders (a symbolic link, a FIFO) or cannot be read.
    """
    spec_file = root / "task.yaml"
    data = read_spec_file(spec_file)
    problems = spec_errors(spec_file, data)
    if problems:
        raise problems[0]
    spec = TaskSpec.model_validate(data)
    problems = folder_errors(root, spec.evaluation)
    if problems:
        raise problems[0]
    try:
        digest = tree_digest(root / "eval")
    except Unfit as e:
        raise TaskSpecError(e.path, e.problem) from None
    # Absolute: a Docker daemon mounts data/ by its path, which must not depend on a cwd.
    return Task(
        spec=spec,
        root=root.absolute(),
        has_data=(root / "data").is_dir(),
        eval_digest=digest,
        content_hash=_content_hash(root, digest),
    )


def _content_hash(root: Path, eval_digest: str) -> str:
    """A SHA-256 of what the task in ``root`` is (blocking).

    Its task.yaml, eval/ (by ``eval_digest``), every entry of workspace/ with its bytes, and
    data/'s entries by name and size only: data sets can be large, and are read-only.
    Links count by where they point.
    """
    digest = hashlib.sha256((root / "task.yaml").read_bytes())
    digest.update(eval_digest.encode())
    for folder, with_bytes in (("workspace", True), ("data", False)):
        for top, dirs, files in sorted(os.walk(root / folder)):  # links are not followed
            for name in sorted(files) + [d for d in dirs if os.path.islink(Path(top, d))]:
                path = Path(top, name)
                entry = path.relative_to(root).as_posix()
                if path.is_symlink():
                    digest.update(f"link {entry} {os.readlink(path)}\0".encode())
                    continue
                digest.update(f"file {entry} {path.stat().st_size}\0".encode())
                if with_bytes:
                    digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def folder_errors(root: Path, evaluation: Evaluation | None) -> list[TaskSpecError]:
    """What is missing from the task folder ``root`` (empty if nothing).

    Its ``workspace/`` and ``eval/``, the scripts of eval/ that the ``evaluation`` command
    names, and what eval/ may not hold: anything but files and folders.
    """
    problems = [
        TaskSpecError(root / folder, f"the task has no {folder}/ folder; create it")
        for folder in ("workspace", "eval")
        if not (root / folder).is_dir()
    ]
    if evaluation is not None and (root / "eval").is_dir():
        problems += [
            TaskSpecError(
                root / "task.yaml", f"eval/{script} does not exist", key="evaluation.command"
            )
            for script in _scripts(evaluation.command)
            if not (root / "eval" / script).is_file()
        ]
    if (root / "eval").is_dir():
        problems += [TaskSpecError(e.path, e.problem) for e in unfit_entries(root / "eval")]
    return problems


def _scripts(command: list[str]) -> list[str]:
    """The arguments of an evaluation command that name a script of eval/ (by extension)."""
    return [arg for arg in command if Path(arg).suffix in (".py", ".sh") and "/" not in arg[:1]]


def read_spec_file(spec_file: Path) -> dict[str, Any]:
    """Read a task.yaml as a mapping (not yet checked against ``TaskSpec``).

    Raises:
        TaskSpecError: If it is missing, unreadable, not YAML, or not a mapping.
    """
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


def spec_errors(spec_file: Path, data: dict[str, Any]) -> list[TaskSpecError]:
    """Every way ``data``, read from ``spec_file``, fails ``TaskSpec`` (empty if none)."""
    return model_errors(spec_file, data, TaskSpec)


def model_errors(path: Path, data: dict[str, Any], model: type[BaseModel]) -> list[TaskSpecError]:
    """Every way ``data``, read from the file ``path``, fails ``model`` (empty if none).

    Unknown keys come first. A mistyped key also makes the right key missing: the typo's
    hint explains both, so that missing key is not reported again.
    """
    try:
        model.model_validate(data)
    except ValidationError as e:
        errors = sorted(e.errors(), key=lambda x: x["type"] != "extra_forbidden")
        meant = {
            (*x["loc"][:-1], _meant(x, model)) for x in errors if x["type"] == "extra_forbidden"
        }
        return [
            TaskSpecError(path, _explain(x, model), key=".".join(map(str, x["loc"])))
            for x in errors
            if not (x["type"] == "missing" and tuple(x["loc"]) in meant)
        ]
    return []


def _explain(error: Any, model: type[BaseModel]) -> str:
    if error["type"] == "missing":
        return "is missing"
    if error["type"] == "extra_forbidden":
        close = _meant(error, model)
        known = ", ".join(_known_keys(model, error["loc"][:-1]))
        hint = f"did you mean '{close}'?" if close else f"known keys: {known}"
        return f"is not a known key ({hint})"
    return f"{error['msg']} (found {error['input']!r})"


def _meant(error: Any, model: type[BaseModel]) -> str | None:
    """The known key an unknown key was probably meant to be (None if none is close)."""
    close = difflib.get_close_matches(
        str(error["loc"][-1]), _known_keys(model, error["loc"][:-1]), n=1
    )
    return close[0] if close else None


def _known_keys(model: type[BaseModel], parents: tuple[Any, ...]) -> list[str]:
    for part in parents:
        annotation = model.model_fields[str(part)].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)
