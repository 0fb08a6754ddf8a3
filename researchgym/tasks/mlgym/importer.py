"""Importing MLGym's tasks: ``researchgym tasks import-mlgym``.

An MLGym checkout describes a task in ``configs/tasks/<name>.yaml`` and its datasets in
``configs/datasets/<name>.yaml``; the files live under ``data/<task>/``. MLGym copies the
``starter_code`` files into the agent's workspace, each local dataset's folder to
``workspace/data`` (read-only), runs ``python <baseline_paths[0]>`` there for the baseline,
and scores by running ``evaluation_paths[0]`` in the workspace and reading the JSON object
it prints. How its keys become a researchgym task folder:

==================== =====================================================================
MLGym                researchgym
==================== =====================================================================
id                   id, in snake_case (``regressionKaggleHousePrice`` ->
                     ``regression_kaggle_house_price``); also the folder's name
name                 name
description          description, ``{dataset_docs}`` filled in as MLGym does, and a closing
                     note on the artefact, the metric and the hidden evaluator
(id keywords)        domain, by ``DOMAINS``
baseline_scores[0]   metric: its first key is the metric's name, its value baseline.score;
                     the direction comes from the name, by ``DIRECTION_WORDS``
baseline_paths[0]    baseline.commands: ``python3 <path>``
task_entrypoint      submission, by ``ENTRYPOINTS``: CSVSubmissionTasks -> predictions
                     ``submission.csv``; PythonSubmissionTasks -> program, the module the
                     evaluation script imports; ModelSubmissionTasks -> program, the
                     starter code's YAML config. LMSubmissionTasks is not imported.
training_timeout     timeouts.command and evaluation.timeout (MLGym's default: 3600 s)
starter_code         workspace/ (each path, relative to the checkout, by its name)
dataset_configs      data/: each local dataset's ``data_path`` folder, merged
evaluation_paths     eval/mlgym/, with the wrapper eval/evaluate.py (``mlgym/evaluate.py``)
secret_files         eval/mlgym/
requirements_path,   not used: a note says so (the sandbox image has numpy, scipy,
use_generic_conda    scikit-learn and pandas)
sample_submission    names the label columns of a labelled test file (see below)
memory_path,         not used (eval/ is never visible, let alone writable, to the agent)
benchmark_name,
evaluation_read_only
==================== =====================================================================

The PythonSubmissionTasks submission is the one starter module the evaluation script
imports that is not a secret file; if there are several, the one that is the baseline, or
else the one the description names.

MLGym leaves some scoring files where the agent can read them. The import moves to eval/
(and says so, one line each): the evaluation scripts, and copies of them in data/; the
secret files; the starter modules an evaluation script imports that are not the
submission (an opponent's strategy); files named like labels (``*label*``, ``*answer*``,
``*ground_truth*``, ``*solution*``, other than code); and every ``test*.csv`` whose header
holds its ``train*.csv``'s label columns: the full file goes to eval/, and the agent keeps
a copy without those columns. The label columns are the sample submission's columns after
its first (the id), or else the last column of the train file.

MLGym's evaluation scripts print JSON; researchgym's evaluators write ``$RGYM_RESULT``. The
generated eval/evaluate.py bridges the two: see ``mlgym/evaluate.py``. A script that names
MLGym's workspace absolutely (``/home/agent/workspace/...``) is made relative.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal, NamedTuple

import yaml

from researchgym.errors import TaskSpecError
from researchgym.tasks.mlgym.config import (
    MLGymDataset,
    MLGymTask,
    load_dataset,
    parse,
    task_configs,
)
from researchgym.tasks.mlgym.hidden import drop_columns, imported_modules, scoring_files
from researchgym.tasks.spec import Direction, TaskSpec

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "DIRECTION_WORDS",
    "DOMAINS",
    "ENTRYPOINTS",
    "ImportFailure",
    "ImportResult",
    "ImportedTask",
    "MovedFile",
    "import_mlgym",
    "metric_direction",
]

DIRECTION_WORDS: dict[str, Direction] = {
    **dict.fromkeys(
        ["loss", "rmse", "mse", "mae", "rmsle", "error", "err", "nll", "perplexity", "ppl"],
        "min",
    ),
    **dict.fromkeys(["time", "seconds", "latency", "cost", "regret", "distance", "wer"], "min"),
    **dict.fromkeys(["accuracy", "acc", "score", "reward", "return", "r2", "f1", "auc"], "max"),
    **dict.fromkeys(["precision", "recall", "bleu", "rouge", "win", "success", "iou"], "max"),
}
"""The words of a metric's name that say which way is better. A name is split into
lowercase words (``Reward Mean`` -> reward, mean; ``val_loss`` -> val, loss); its words
must point one way only, or the import asks for ``--direction NAME=max|min``."""

DOMAINS: list[tuple[str, str]] = [
    ("rl", "rl"),
    ("battle", "game_theory"),
    ("prisoner", "game_theory"),
    ("blotto", "game_theory"),
    ("game", "game_theory"),
    ("image", "computer_vision"),
    ("cifar", "computer_vision"),
    ("mnist", "computer_vision"),
    ("language", "language_modelling"),
    ("regression", "tabular_ml"),
    ("classification", "tabular_ml"),
    ("kaggle", "tabular_ml"),
    ("titanic", "tabular_ml"),
]
"""A word of the MLGym id (first match wins) and the domain it gives; otherwise ``mlgym``."""

ENTRYPOINTS: dict[str, tuple[Literal["program", "predictions"], str | None]] = {
    "CSVSubmissionTasks": ("predictions", "--submission_file"),
    "PythonSubmissionTasks": ("program", None),
    "ModelSubmissionTasks": ("program", "--config_fname"),
}
"""MLGym's task classes that import: the submission's kind, and the option its evaluation
script takes the submission's path by (None: it finds it itself)."""

_DEFAULT_TIMEOUT = 3600.0
"""MLGym's training_timeout when a task gives none (MLGYM_AGENT_LONG_TIMEOUT)."""
_MLGYM_WORKSPACE = "/home/agent/workspace"
_WRAPPER = Path(__file__).with_name("evaluate.py")


class MovedFile(NamedTuple):
    """A file the import hid from the agent: moved (or copied, in part) to eval/."""

    path: str
    """Where MLGym had it, in the task folder's terms: ``workspace/x`` or ``data/x``."""
    reason: str


@dataclass(frozen=True)
class ImportedTask:
    """A task folder the import wrote."""

    mlgym_id: str
    root: Path
    moved: list[MovedFile]
    notes: list[str] = field(default_factory=list)
    """What else the import changed or left out, in words."""


class ImportFailure(NamedTuple):
    """An MLGym task that was not imported."""

    config: Path
    error: TaskSpecError


class ImportResult(NamedTuple):
    """What ``import_mlgym`` did."""

    imported: list[ImportedTask]
    failed: list[ImportFailure]


def import_mlgym(
    checkout: Path,
    *,
    out: Path = Path("tasks/mlgym"),
    names: Sequence[str] = (),
    directions: Mapping[str, Direction] | None = None,
) -> ImportResult:
    """Write a researchgym task folder into ``out`` for each MLGym task of ``checkout``.

    Each task is imported on its own: one that cannot be is reported in ``failed`` and the
    others go on. A task folder of the same id already in ``out`` is replaced.

    Args:
        checkout: The MLGym checkout (holding configs/tasks/).
        out: Where the task folders go, one per task, named by id.
        names: Only these tasks (a config's file name without .yaml, or its MLGym id).
        directions: Metric name to direction, for names ``DIRECTION_WORDS`` cannot place.

    Raises:
        ConfigError: If ``checkout`` has no configs/tasks/ folder.
        UnknownComponentError: If a name matches no task.
    """
    configs = task_configs(checkout, names)
    out.mkdir(parents=True, exist_ok=True)
    result = ImportResult([], [])
    for config in configs:
        try:
            result.imported.append(_import_task(checkout, config, out, directions or {}))
        except TaskSpecError as e:
            result.failed.append(ImportFailure(config, e))
    return result


def metric_direction(name: str, directions: Mapping[str, Direction] | None = None) -> Direction:
    """Whether a higher or lower ``name`` is better: ``directions`` first, then its words.

    >>> metric_direction("Reward Mean"), metric_direction("val_loss")
    ('max', 'min')

    Raises:
        ValueError: If neither settles it.
    """
    if directions and name in directions:
        return directions[name]
    words = re.findall(r"[a-z0-9]+", re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower())
    found = {DIRECTION_WORDS[w] for w in words if w in DIRECTION_WORDS}
    if len(found) != 1:
        raise ValueError(
            f"cannot tell whether a higher or lower '{name}' is better; "
            f"pass --direction '{name}=max' or --direction '{name}=min'"
        )
    return found.pop()


def _import_task(
    checkout: Path, config: Path, out: Path, directions: Mapping[str, Direction]
) -> ImportedTask:
    task = parse(config, MLGymTask)
    datasets = [load_dataset(checkout, config, path) for path in task.dataset_configs]
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=out))
    try:
        build = _Build(checkout, config, task, staging)
        build.lay_out(datasets)
        spec = build.spec(datasets, directions)
        build.write(spec)
        root = _publish(staging, out / spec.id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ImportedTask(task.id, root, build.moved, build.notes)


def _publish(staging: Path, root: Path) -> Path:
    if root.exists():
        if not (root / "task.yaml").is_file():
            raise TaskSpecError(root, "exists and is not a task folder; move it away first")
        shutil.rmtree(root)
    (staging / "task").rename(root)
    return root


class _Build:
    """One task folder being built in ``staging/task``, step by step."""

    def __init__(self, checkout: Path, config: Path, task: MLGymTask, staging: Path) -> None:
        self.checkout, self.config, self.task = checkout, config, task
        self.root = staging / "task"
        self.workspace, self.data = self.root / "workspace", self.root / "data"
        self.hidden = self.root / "eval" / "mlgym"
        self.moved: list[MovedFile] = []
        self.notes: list[str] = []
        self.kind, self.argument = self._entrypoint()
        self.submission = "submission.csv"

    def _entrypoint(self) -> tuple[Literal["program", "predictions"], str | None]:
        entry = ENTRYPOINTS.get(self.task.task_entrypoint)
        if entry is None:
            known = ", ".join(ENTRYPOINTS)
            raise TaskSpecError(
                self.config,
                f"'{self.task.task_entrypoint}' tasks cannot be imported (known: {known})",
                key="task_entrypoint",
            )
        return entry

    def lay_out(self, datasets: list[tuple[MLGymDataset, Path]]) -> None:
        """Copy starter code and data in, then hide what the agent must not see."""
        for folder in (self.workspace, self.data, self.hidden):
            folder.mkdir(parents=True)
        for i, item in enumerate(self.task.starter_code):
            source = self.checkout / item
            if not source.exists():
                raise TaskSpecError(
                    self.config, f"{source} does not exist", key=f"starter_code.{i}"
                )
            _copy(source, self.workspace / source.name)
        for _, folder in datasets:
            shutil.copytree(folder, self.data, dirs_exist_ok=True)
        scripts = self._evaluation_scripts()
        secrets = [s for s in self._secrets() if s[0] not in dict(scripts)]
        for path, reason in [*scripts, *secrets]:
            self._move(path, reason)
        self._choose_submission(scripts[0][0], {p for p, _ in secrets})
        sample = PurePosixPath(self.task.sample_submission or "").name or None
        found = scoring_files(self.root, [p for p, _ in scripts], self.submission, sample=sample)
        for path, reason in found.moved:
            self._move(path, reason)
        for path, columns, reason in found.split:
            self._split(path, columns, reason)
        self._relativize()

    def _evaluation_scripts(self) -> list[tuple[str, str]]:
        if not self.task.evaluation_paths:
            raise TaskSpecError(self.config, "is empty: nothing scores", key="evaluation_paths")
        scripts = []
        for i, path in enumerate(self.task.evaluation_paths):
            if not (self.workspace / path).is_file():
                raise TaskSpecError(
                    self.config,
                    f"{path} is not in the workspace that starter_code makes",
                    key=f"evaluation_paths.{i}",
                )
            scripts.append((f"workspace/{path}", "an evaluation script (evaluation_paths)"))
        return scripts

    def _secrets(self) -> list[tuple[str, str]]:
        secrets = []
        for path in self.task.secret_files:
            name = PurePosixPath(path).name
            for candidate in (f"workspace/{path}", f"workspace/{name}", f"data/{name}"):
                if (self.root / candidate).exists():
                    secrets.append((candidate, "listed in secret_files"))
                    break
            else:
                self.notes.append(f"secret_files names {path}, which no starter file is")
        return secrets

    def _choose_submission(self, script: str, secrets: set[str]) -> None:
        if self.task.task_entrypoint == "PythonSubmissionTasks":
            imported = imported_modules(self.hidden / script.removeprefix("workspace/"))
            self.submission = self._module_submitted(imported, secrets)
        elif self.task.task_entrypoint == "ModelSubmissionTasks":
            configs = sorted(
                str(p.relative_to(self.workspace)) for p in self.workspace.rglob("*.yaml")
            )
            if len(configs) != 1:
                raise TaskSpecError(
                    self.config,
                    f"a model task's submission is its YAML config, but the starter code has "
                    f"{len(configs)} ({', '.join(configs) or 'none'})",
                    key="starter_code",
                )
            self.submission = configs[0]

    def _module_submitted(self, imported: list[str], secrets: set[str]) -> str:
        modules = [
            f"{m}.py"
            for m in imported
            if (self.workspace / f"{m}.py").is_file() and f"workspace/{m}.py" not in secrets
        ]
        # The submission is the one module that is the baseline, or else the one module the
        # description names (a task tells the agent which file to write).
        for chosen in (
            modules,
            [m for m in modules if m in self.task.baseline_paths],
            [m for m in modules if m in self.task.description],
        ):
            if len(chosen) == 1:
                return chosen[0]
        raise TaskSpecError(
            self.config,
            f"cannot tell which module the agent submits: the evaluation script imports "
            f"{', '.join(modules) or 'none of the starter code'}; list the others in "
            "secret_files",
            key="evaluation_paths",
        )

    def _move(self, path: str, reason: str) -> None:
        source = self.root / path
        target = self.hidden / _view_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)
        self.moved.append(MovedFile(path, reason))

    def _split(self, path: str, columns: list[str], reason: str) -> None:
        target = self.hidden / _view_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(self.root / path, target)
        drop_columns(self.root / path, columns)
        self.moved.append(MovedFile(path, reason))

    def _relativize(self) -> None:
        """MLGym's scripts may name its workspace absolutely; ours runs elsewhere."""
        for script in sorted([*self.workspace.rglob("*.py"), *self.hidden.rglob("*.py")]):
            text = script.read_text(errors="surrogateescape")
            if _MLGYM_WORKSPACE in text:
                text = text.replace(_MLGYM_WORKSPACE + "/", "").replace(_MLGYM_WORKSPACE, ".")
                script.write_text(text, errors="surrogateescape")
                shown = script.relative_to(self.root)
                self.notes.append(f"{shown}: {_MLGYM_WORKSPACE} made relative")

    def spec(
        self, datasets: list[tuple[MLGymDataset, Path]], directions: Mapping[str, Direction]
    ) -> TaskSpec:
        """The task.yaml of the imported task."""
        metric, score = self._baseline_score()
        try:
            direction = metric_direction(metric, directions)
        except ValueError as e:
            raise TaskSpecError(self.config, str(e), key="baseline_scores") from None
        timeout = self.task.training_timeout or _DEFAULT_TIMEOUT
        self._note_unused()
        return TaskSpec.model_validate(
            {
                "id": _snake(self.task.id),
                "name": self.task.name,
                "domain": _domain(self.task.id),
                "description": self._description(datasets, metric, direction, score),
                "metric": {"name": metric, "direction": direction},
                "baseline": {"score": score, "commands": self._baseline_commands()},
                "submission": {"kind": self.kind, "path": self.submission},
                "evaluation": {"command": ["python3", "evaluate.py"], "timeout": timeout},
                "timeouts": {"command": timeout},
            }
        )

    def _baseline_score(self) -> tuple[str, float]:
        scores = self.task.baseline_scores
        if not scores or not scores[0]:
            raise TaskSpecError(
                self.config,
                "is missing: researchgym needs the baseline's score (MLGym measures it on "
                "first use); run the baseline in MLGym and add baseline_scores",
                key="baseline_scores",
            )
        if len(scores) > 1:
            self.notes.append("baseline_scores has one entry per dataset: the first is used")
        metric, score = next(iter(scores[0].items()))
        return metric, score

    def _baseline_commands(self) -> list[str]:
        paths = self.task.baseline_paths
        if not paths:
            self.notes.append(
                "baseline_paths is empty: no baseline runs, so `researchgym tasks validate` "
                "cannot measure baseline.score"
            )
        if len(paths) > 1:
            self.notes.append(
                f"MLGym runs only the first of baseline_paths; so does this: {paths[0]}"
            )
        commands = []
        for path in paths[:1]:
            if (self.workspace / path).is_file():
                commands.append(f"python3 {path}")
            else:
                self.notes.append(f"baseline_paths names {path}, which the agent cannot run")
        return commands

    def _description(
        self,
        datasets: list[tuple[MLGymDataset, Path]],
        metric: str,
        direction: Direction,
        score: float,
    ) -> str:
        docs = "".join(f"{d.name.upper()}:\n{d.description}\n\n" for d, _ in datasets)
        text = self.task.description.replace("{dataset_docs}", docs)
        text = text.replace("{{", "{").replace("}}", "}")
        text = "\n".join(line.rstrip() for line in text.strip().splitlines())
        better = "higher" if direction == "max" else "lower"
        data = " The data is in `data/` (read-only)." if datasets else ""
        note = (
            f"Imported from MLGym ({self.task.id}). What you must produce: "
            f"`{self.submission}` in your workspace. It is scored by {metric} ({better} is "
            f"better); the baseline scores {score:.6g}. The evaluation script is not in "
            f"your workspace: use `validate` to score your current submission.{data}"
        )
        return f"{text}\n\n{textwrap.fill(note, width=88)}\n"

    def _note_unused(self) -> None:
        if not self.task.use_generic_conda or self.task.requirements_path:
            self.notes.append(
                f"requirements_path ({self.task.requirements_path}) is not installed: the "
                "sandbox has numpy, scipy, scikit-learn and pandas"
            )
        if self.task.memory_path:
            self.notes.append("memory_path is not used")
        if self.kind == "program":
            self.notes.append(
                "MLGym's evaluation script runs the agent's code itself, as the evaluator's "
                "user: port it to rgym_eval.Player before letting untrusted agents at it"
            )

    def write(self, spec: TaskSpec) -> None:
        """Write task.yaml and the evaluator's wrapper."""
        (self.root / "eval" / "evaluate.py").write_text(_WRAPPER.read_text())
        script = self.task.evaluation_paths[0]
        config = {
            "mlgym_id": self.task.id,
            "entrypoint": self.task.task_entrypoint,
            "kind": self.kind,
            "script": script,
            "argument": self.argument,
            "submission": self.submission,
            "metric": spec.metric.name,
        }
        (self.root / "eval" / "mlgym.json").write_text(json.dumps(config, indent=2) + "\n")
        if not any(self.data.iterdir()):
            self.data.rmdir()
        data = spec.model_dump(mode="json")
        (self.root / "task.yaml").write_text(
            yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
        )


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)


def _view_path(path: str) -> str:
    """Where a task folder's file sits in MLGym's workspace (workspace/x -> x; data/x)."""
    return path.removeprefix("workspace/")


def _snake(mlgym_id: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", mlgym_id).lower()
    return re.sub(r"[^a-z0-9_\-]+", "_", snake).strip("_-") or "task"


def _domain(mlgym_id: str) -> str:
    words = _snake(mlgym_id).split("_")
    for keyword, domain in DOMAINS:
        if keyword in words or (len(keyword) > 3 and keyword in mlgym_id.lower()):
            return domain
    return "mlgym"


class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings (the description) as literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)
