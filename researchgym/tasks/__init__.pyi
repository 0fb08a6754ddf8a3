"""The face of ``researchgym.tasks``: the names it exports, and their modules.

Type checkers read it, and so does the lazy loader of ``__init__.py``, which imports each
name from its module when it is first used.
"""

from .catalog import (
    TASKS,
    TaskCollection,
    TaskEntry,
    TaskFiles,
    builtin_task_ids,
    builtin_tasks,
    collection_folder,
    resolve_task,
    task_files,
    task_folder,
    task_names,
    tasks_in,
)
from .evaluator import (
    EvaluationMode,
    EvaluationResult,
    EvaluationStatus,
    evaluate,
)
from .loader import BUILTIN_DIR, Task, load_task
from .mlgym import (
    ImportedTask,
    ImportFailure,
    ImportResult,
    MovedFile,
    import_mlgym,
    metric_direction,
)
from .spec import (
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
from .validate import Problem, ValidationReport, validate_task

__all__ = [
    "BUILTIN_DIR",
    "TASKS",
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
    "TaskCollection",
    "TaskEntry",
    "TaskFiles",
    "TaskSpec",
    "Timeouts",
    "ValidationReport",
    "builtin_task_ids",
    "builtin_tasks",
    "collection_folder",
    "evaluate",
    "import_mlgym",
    "load_task",
    "metric_direction",
    "resolve_task",
    "task_files",
    "task_folder",
    "task_names",
    "tasks_in",
    "validate_task",
]
