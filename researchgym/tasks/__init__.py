"""Tasks: what is to be solved and how it is scored.

``resolve_task(name)`` loads a built-in task by id or a task folder by path (see ``TaskSpec``
for the folder format); ``evaluate(task, sandbox)`` scores the current artefact.

```
spec.py        TaskSpec: what task.yaml says
loader.py      finding and loading task folders, errors that name the file and the key
evaluator.py   evaluate(): eval/ goes into the sandbox only to score
catalog.py     the built-in tasks and a task's files (researchgym tasks list / show)
validate.py    validate_task(): every problem of a task folder, baseline run for real
mlgym/         import_mlgym(): MLGym's task and dataset YAML to task folders
trusted/       rgym_eval: what evaluators import to run the agent's code at arm's length
```
"""

from __future__ import annotations

from researchgym.tasks.catalog import TaskEntry, TaskFiles, builtin_tasks, task_files
from researchgym.tasks.evaluator import (
    EvaluationMode,
    EvaluationResult,
    EvaluationStatus,
    evaluate,
)
from researchgym.tasks.loader import BUILTIN_DIR, Task, builtin_task_ids, load_task, resolve_task
from researchgym.tasks.mlgym import (
    ImportedTask,
    ImportFailure,
    ImportResult,
    MovedFile,
    import_mlgym,
    metric_direction,
)
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
from researchgym.tasks.validate import Problem, ValidationReport, task_folder, validate_task

__all__ = [
    "BUILTIN_DIR",
    "Baseline",
    "Direction",
    "Evaluation",
    "EvaluationMode",
    "EvaluationResult",
    "EvaluationStatus",
    "ImportFailure",
    "ImportResult",
    "ImportedTask",
    "MemorySize",
    "Metric",
    "MovedFile",
    "Problem",
    "Resources",
    "Submission",
    "Task",
    "TaskEntry",
    "TaskFiles",
    "TaskSpec",
    "Timeouts",
    "ValidationReport",
    "builtin_task_ids",
    "builtin_tasks",
    "evaluate",
    "import_mlgym",
    "load_task",
    "metric_direction",
    "resolve_task",
    "task_files",
    "task_folder",
    "validate_task",
]
