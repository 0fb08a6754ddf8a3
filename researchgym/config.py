"""RunConfig: what a run is. Every field has a default, so ``RunConfig()`` is the default run.

A run is every task x every agent x ``attempts`` episodes. From YAML::

    tasks: [prisoners_dilemma]
    agents:
      - kind: baseline
      - kind: scripted
        label: lazy
        params: {commands: ["ls"]}
    attempts: 2
    limits: {max_steps: 50, concurrent_episodes: 16}
    cpus: {engine: [0], sandboxes: [1, 2, 3]}
    storage: {format: duckdb, path: runs/researchgym.duckdb}
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from researchgym.errors import ConfigError
from researchgym.sandboxes import SANDBOXES
from researchgym.storage import SINKS
from researchgym.tasks import MemorySize

if TYPE_CHECKING:
    from typing import Self

__all__ = [
    "AgentConfig",
    "Cpus",
    "Limits",
    "ModelsConfig",
    "RunConfig",
    "SandboxConfig",
    "StorageConfig",
    "load_run_config",
    "merge",
    "run_config",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgentConfig(_Strict):
    """One agent of the run."""

    kind: str = "baseline"
    """A registered agent kind (``researchgym.agents.agent_kinds()``)."""
    label: str = ""
    """The agent's name in reports; defaults to its kind."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Arguments of the agent kind's factory."""

    @model_validator(mode="after")
    def _default_label(self) -> Self:
        if not self.label:
            object.__setattr__(self, "label", self.kind)
        return self


class Limits(_Strict):
    """How much each episode, and the run, may do at once."""

    max_steps: int = Field(default=50, ge=1)
    """Actions per episode before the artefact is autosubmitted."""
    max_cost_usd: float | None = Field(default=None, gt=0)
    """Dollars an episode may spend on models (a team's members together)."""
    max_tokens: int | None = Field(default=None, ge=1)
    """Model tokens, in and out, an episode may use."""
    max_wall_s: float | None = Field(default=None, gt=0)
    """Seconds an episode may run."""
    max_format_errors: int | None = Field(default=None, ge=1)
    """Malformed model replies an episode may have, over all its calls (each one is asked
    again, up to the agent's ``format_retries`` in a row); one more ends it (exit_format)."""
    concurrent_episodes: int = Field(default=16, ge=1)
    """Episodes running at the same time: at most what the open-file limit allows
    (``engine.admit`` raises the soft limit to the hard one, and says when it runs fewer)."""


class SandboxConfig(_Strict):
    """Where episodes run."""

    kind: str = "auto"
    """docker: a container per episode; local: on this machine, isolated where bubblewrap
    runs (``researchgym sandbox status``); auto: docker wherever a Docker daemon answers,
    else local, saying so; or a plug-in provider (``researchgym plugins``), or
    ``module:attribute``. A stored run's configuration holds the kind that ran."""
    chosen: str | None = None
    """Why ``auto`` chose the kind that ran: researchgym writes it into the stored
    configuration (``auto: no Docker daemon answers, ...``); leave it out."""
    image: str | None = None
    """The Docker image (default: ``researchgym/sandbox:<version>``)."""
    pool: int = Field(default=0, ge=0)
    """Docker containers kept started ahead of need, per kind of task resources."""
    concurrent_starts: int = Field(default=8, ge=1)
    """Docker containers being started at the same time, at most."""
    cpus: float | None = Field(default=None, gt=0)
    """CPU cores per sandbox, overriding what each task asks for."""
    memory: MemorySize | None = None
    """Memory per sandbox (512m, 4g), overriding what each task asks for."""
    gpus: int | None = Field(default=None, ge=0)
    """GPUs per sandbox, overriding what each task asks for."""
    disk: MemorySize | None = None
    """Disk per sandbox (its home, workspace, /tmp), overriding what each task asks for
    (default 4g). Enforced where researchgym runs as root (``researchgym sandbox status``)."""
    pids: int = Field(default=1024, ge=16)
    """Processes a sandbox may hold at once."""

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        problem = SANDBOXES.unknown(kind, also=("auto",))
        if problem is not None:
            raise ValueError(problem)
        return kind


class ModelsConfig(_Strict):
    """How models are called."""

    api_base: str | None = None
    """An OpenAI-compatible server (``http://127.0.0.1:8000/v1``) for models that name none."""
    timeout: float = Field(default=300.0, gt=0)
    """Seconds one request may take."""
    retries: int = Field(default=5, ge=0)
    """Retries of a request that failed for a reason retrying can fix (429, 5xx, timeouts)."""
    concurrency: dict[str, int] = Field(default_factory=dict)
    """Requests in flight at once, per provider (``openai: 8``); ``default`` for the rest."""


class Cpus(_Strict):
    """Which CPUs the engine and the sandboxes run on (default: all CPUs, shared).

    On a small machine, giving the engine a CPU of its own and the sandboxes the others
    keeps every shell the event loop wakes from preempting it.
    """

    engine: list[int] | None = None
    """CPUs of the engine process (event loop, recorder, writer); one is enough."""
    sandboxes: list[int] | None = None
    """CPUs the sandboxes' processes may run on."""


class StorageConfig(_Strict):
    """Where events are stored."""

    format: str = "duckdb"
    """duckdb: one database file; parquet: a directory of files partitioned by run; or a
    plug-in sink (``researchgym plugins``), or ``module:attribute``, which researchgym
    writes to but does not read back."""
    path: Path = Path("runs/researchgym.duckdb")
    """The DuckDB file, or the Parquet directory (or what the plug-in sink stores under)."""

    @field_validator("format")
    @classmethod
    def _known_format(cls, format: str) -> str:
        problem = SINKS.unknown(format)
        if problem is not None:
            raise ValueError(problem)
        return format


class RunConfig(_Strict):
    """A run: tasks x agents x attempts, under limits, stored in one place."""

    run_id: str = Field(
        default_factory=lambda: datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    )
    """Unique id of the run (default: UTC time and a random suffix)."""
    tasks: list[str] = Field(default_factory=lambda: ["builtin"])
    """Built-in task ids or task folders; ``builtin`` means every built-in task."""
    agents: list[AgentConfig] = Field(
        default_factory=lambda: [AgentConfig(), AgentConfig(kind="llm", label="llm-mock")],
        min_length=1,
    )
    """Default: the tasks' baselines, and an LLM agent on the offline mock model."""
    attempts: int = Field(default=2, ge=1)
    """Episodes per task and agent."""
    sandbox: SandboxConfig = SandboxConfig()
    limits: Limits = Limits()
    models: ModelsConfig = ModelsConfig()
    cpus: Cpus = Cpus()
    storage: StorageConfig = StorageConfig()
    resume: bool = False
    """Continue the stored run of this run_id, if there is one: keep its episodes that
    ended, run the rest (``researchgym run --resume RUN_ID``); with none, start it."""
    retry_errors: int = Field(default=0, ge=0)
    """Tries an attempt gets again after an infrastructure failure (the sandbox died, a
    daemon error, the model API failing past its retries); never after the agent's own."""


def load_run_config(path: Path, **overrides: Any) -> RunConfig:
    """Read a RunConfig from a YAML file, with ``overrides`` on top.

    Overrides that are None are ignored; mappings are merged key by key.

    Raises:
        ConfigError: If the file is missing, is not YAML, or a key is missing or wrong.
    """
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"Cannot read the run configuration {path}: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"The run configuration {path} must be a mapping of keys to values.")
    return run_config(merge(data, overrides), source=str(path))


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` on top: None values ignored, mappings merged key by key."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = merge(base[key], value)
        elif value is not None:
            merged[key] = value
    return merged


def run_config(data: dict[str, Any], *, source: str = "the command line") -> RunConfig:
    """Validate a RunConfig from plain data, dropping None values.

    Raises:
        ConfigError: If a key is unknown or a value is wrong, naming the key.
    """
    try:
        return RunConfig.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as e:
        error = e.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        message = error["msg"].rstrip(".")
        raise ConfigError(f"Bad run configuration in {source}: '{key}': {message}.") from e
