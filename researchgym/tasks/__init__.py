"""Tasks: what is to be solved and how it is scored.

``resolve_task(name)`` loads a built-in task by id or a task folder by path (see ``TaskSpec``
for the folder format); ``evaluate(task, sandbox)`` scores the current artefact.
"""

from __future__ import annotations

from researchgym.tasks.evaluator import EvaluationResult, EvaluationStatus, evaluate
from researchgym.tasks.loader import BUILTIN_DIR, Task, builtin_task_ids, load_task, resolve_task
from researchgym.tasks.spec import (
    Baseline,
    Direction,
    Evaluation,
    MemorySize,
    Metric,
    Resources,
    Submission,
    TaskSpec,
    Timeouts,
)

__all__ = [
    "BUILTIN_DIR",
    "Baseline",
    "Direction",
    "Evaluation",
    "EvaluationResult",
    "EvaluationStatus",
    "MemorySize",
    "Metric",
    "Resources",
    "Submission",
    "Task",
    "TaskSpec",
    "Timeouts",
    "builtin_task_ids",
    "evaluate",
    "load_task",
    "resolve_task",
]
