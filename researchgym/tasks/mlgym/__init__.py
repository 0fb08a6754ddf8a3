"""MLGym's tasks imported as task folders: ``researchgym tasks import-mlgym``.

```
importer.py   import_mlgym(): MLGym's task and dataset YAML to task folders (its docstring
              maps every MLGym key to where it goes)
config.py     MLGym's task and dataset configs, read as MLGym's code reads them
hidden.py     finding the scoring files MLGym leaves in the agent's view, to hide them
evaluate.py   the evaluator every imported task gets as its eval/evaluate.py (copied as a
              file, never imported: it runs in the sandbox, beside rgym_eval)
```
"""

from __future__ import annotations

from researchgym.tasks.mlgym.importer import (
    DIRECTION_WORDS,
    DOMAINS,
    ENTRYPOINTS,
    ImportedTask,
    ImportFailure,
    ImportResult,
    MovedFile,
    import_mlgym,
    metric_direction,
)

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
