"""TaskSpec: what task.yaml says.

A task is a folder::

    task.yaml     this spec
    workspace/    what the agent starts with (copied into the sandbox's workdir)
    data/         read-only inputs (copied to workdir/data, without write permission)
    eval/         the evaluator; never visible to the agent, copied in only to evaluate

Example task.yaml::

    id: prisoners_dilemma
    name: Iterated Prisoner's Dilemma
    domain: game_theory
    description: |
      Write a strategy ...
    metric: {name: Score, direction: max}
    baseline: {score: 2.37, commands: ["python3 strategy.py"]}
    submission: {kind: program, path: strategy.py}
    evaluation: {command: [python3, evaluate.py], timeout: 120}
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from researchgym.sandboxes import memory_bytes

__all__ = [
    "Baseline",
    "Direction",
    "Evaluation",
    "MemorySize",
    "Metric",
    "Resources",
    "Submission",
    "TaskSpec",
    "Timeouts",
]

MemorySize = Annotated[str, AfterValidator(lambda size: memory_bytes(size) and size)]
"""A memory size Docker-style: 512m, 2g (a ValueError says how to write one)."""

Direction = Literal["max", "min"]
"""max: higher scores are better; min: lower scores are better."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Metric(_Strict):
    """The task's primary metric."""

    name: str
    """The key of the evaluator's JSON result that holds the score."""
    direction: Direction
    """Whether higher (max) or lower (min) is better."""


class Baseline(_Strict):
    """The task's baseline: how to run it and what it scores."""

    score: float
    """The score the shipped baseline gets, measured by running it."""
    commands: list[str] = Field(default_factory=list)
    """Shell commands that produce the baseline artefact from the starter workspace."""


class Submission(_Strict):
    """What the agent must produce."""

    kind: Literal["program", "predictions"]
    """program: code the evaluator runs; predictions: a file scored against hidden labels."""
    path: str
    """The artefact's path, relative to the workspace."""


class Evaluation(_Strict):
    """How the evaluator in eval/ is run.

    The command runs in the evaluation directory with these environment variables:
    ``RGYM_WORKSPACE`` (the agent's workspace), ``RGYM_SUBMISSION`` (the artefact's path),
    ``RGYM_RESULT`` (the JSON file to write: metric name to value).
    """

    command: list[str] = Field(default_factory=lambda: ["python3", "evaluate.py"], min_length=1)
    """The program and arguments that evaluate the submission."""
    timeout: float = Field(default=300.0, gt=0)
    """Seconds before the evaluation is killed."""


class Timeouts(_Strict):
    """Time limits of the agent's actions."""

    command: float = Field(default=300.0, gt=0)
    """Seconds one agent command may run."""


class Resources(_Strict):
    """What the task needs from its sandbox."""

    cpus: float = Field(default=1.0, gt=0)
    """CPU cores."""
    memory: MemorySize = "2g"
    """Memory limit, Docker-style (512m, 4g)."""
    gpus: int = Field(default=0, ge=0)
    """Number of GPUs."""
    disk: MemorySize = "4g"
    """Disk for everything the sandbox writes (home, workspace, /tmp), sized like memory."""
    network: bool = False
    """Whether the sandbox may reach the network."""


class TaskSpec(_Strict):
    """A task, as loaded from its folder."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    """Unique, stable identifier (lowercase letters, digits, _ and -)."""
    name: str
    """Human-readable name."""
    domain: str
    """Research domain: game_theory, algorithms, tabular_ml, rl, language_modelling, ..."""
    description: str
    """What the agent is told: what it may change, what it must produce, how it is scored."""
    metric: Metric
    baseline: Baseline
    submission: Submission
    evaluation: Evaluation = Evaluation()
    timeouts: Timeouts = Timeouts()
    resources: Resources = Resources()
    requires_isolation: bool = False
    """Run only in Docker sandboxes: for tasks that expect adversarial agents or run
    untrusted code. A run that would put the task in a local sandbox refuses to start."""
