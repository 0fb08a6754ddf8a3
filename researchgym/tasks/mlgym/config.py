"""Reading an MLGym checkout's YAML: task and dataset configs, as MLGym's code reads them.

The models mirror MLGym's ``BaseTaskConfig`` and ``BaseDatasetConfig`` (mlgym/configs/),
so that a key MLGym would refuse is refused here too, with the loader's explanation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict

from researchgym.errors import ConfigError, TaskSpecError, UnknownComponentError
from researchgym.tasks.loader import model_errors, read_spec_file

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ["MLGymDataset", "MLGymTask", "load_dataset", "parse", "task_configs"]

T_Model = TypeVar("T_Model", bound=BaseModel)


class MLGymDataset(BaseModel):
    """configs/datasets/<name>.yaml (MLGym's BaseDatasetConfig)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    data_path: str
    is_local: bool = False
    train_split: Any = None
    valid_split: Any = None
    test_split: Any = None


class MLGymTask(BaseModel):
    """configs/tasks/<name>.yaml (MLGym's BaseTaskConfig)."""

    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    description: str
    dataset_configs: list[str] = []
    task_entrypoint: str = "CSVSubmissionTasks"
    training_timeout: float | None = None
    requirements_path: str | None = None
    benchmark_name: str | None = None
    use_generic_conda: bool = True
    starter_code: list[str] = []
    baseline_paths: list[str] = []
    baseline_scores: list[dict[str, float]] = []
    sample_submission: str | None = None
    evaluation_paths: list[str] = []
    evaluation_read_only: bool = False
    secret_files: list[str] = []
    memory_path: str | None = None


def task_configs(checkout: Path, names: Sequence[str]) -> list[Path]:
    """Return the task configs of an MLGym checkout: every one, or those ``names`` picks.

    Args:
        checkout: The folder MLGym was cloned into.
        names: Config file names (without ``.yaml``) or MLGym ids; none for every task.

    Raises:
        ConfigError: If ``checkout`` has no ``configs/tasks/`` folder.
        UnknownComponentError: If a name is neither a config's name nor an MLGym id.
    """
    folder = checkout / "configs" / "tasks"
    if not folder.is_dir():
        raise ConfigError(
            f"{checkout} is not an MLGym checkout: it has no configs/tasks/ folder. "
            "Pass the folder MLGym was cloned into."
        )
    configs = sorted(folder.glob("*.yaml"))
    if not names:
        return configs
    by_name = {c.stem: c for c in configs} | {_raw_id(c): c for c in configs}
    for name in names:
        if name not in by_name:
            raise UnknownComponentError("MLGym task", name, sorted(c.stem for c in configs))
    return sorted({by_name[name] for name in names})


def _raw_id(config: Path) -> str:
    try:
        data = yaml.safe_load(config.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return config.stem
    return str(data.get("id", config.stem)) if isinstance(data, dict) else config.stem


def parse(path: Path, model: type[T_Model]) -> T_Model:
    """Read a YAML file into ``model``, refusing what MLGym would refuse.

    Raises:
        TaskSpecError: If the file is missing, unreadable or not a YAML mapping, or a key
            is wrong (the first one found).
    """
    data = read_spec_file(path)
    errors = model_errors(path, data, model)
    if errors:
        raise errors[0]
    return model.model_validate(data)


def load_dataset(checkout: Path, config: Path, name: str) -> tuple[MLGymDataset, Path]:
    """Read a task's dataset config, ``configs/<name>``, and find the folder of its files.

    Args:
        checkout: The folder MLGym was cloned into.
        config: The task config that names the dataset (named when the dataset is missing).
        name: The dataset config's path under ``configs/``, as the task config gives it.

    Returns:
        The dataset config, and its data folder.

    Raises:
        TaskSpecError: If the dataset config is missing or wrong, the dataset is not local,
            or its data folder does not exist.
    """
    path = checkout / "configs" / name
    if not path.is_file():
        raise TaskSpecError(config, f"{path} does not exist", key="dataset_configs")
    dataset = parse(path, MLGymDataset)
    if not dataset.is_local:
        raise TaskSpecError(
            path,
            f"the dataset '{dataset.name}' is not local (is_local: false, data_path "
            f"{dataset.data_path}): MLGym fetches it when a run starts. Put its files in a "
            "folder of the checkout, point data_path there with is_local: true, and import "
            "again",
        )
    folder = checkout / dataset.data_path
    if not folder.is_dir():
        raise TaskSpecError(
            path, f"the data folder {folder} does not exist; add the dataset's files there"
        )
    return dataset, folder
