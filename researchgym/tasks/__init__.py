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

import lazy_loader

# Each name is imported from its module when first used (the names: __init__.pyi).
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
