"""Tools: what agents can do, acting on a Sandbox.

An action goes to the tool its first word names, and any other action runs as bash:
``find_tool(command)(command, context)``. Every tool gives each command it runs an
``ActionClass`` for the metrics (``tool.classify(command)``), and documents itself
(``command_docs``). The command set is MLGym's:

```
navigation.py   open, goto, scroll_up, scroll_down, create (View; create is Edit)
edit.py         edit, insert (Edit); Python edits checked by lint.py, reverted on new errors
search.py       search_dir, search_file, find_file (Search)
evaluate.py     validate, submit (Validate, Submit)
bash.py         any other action (Python or Bash); interactive.py refuses vim, a bare python
viewer.py       Viewer: the open file and its window, one per episode (ToolContext.viewer)
files.py        paths resolved and checked as the agent, before the sandbox file API
parsing.py      an action's command word, arguments and terminated body
```

A command that cannot run as asked is an observation (``ToolError`` inside a tool); only a
failing sandbox raises.
"""

from __future__ import annotations

from researchgym.tools.base import ActionClass, Tool, ToolContext, ToolError, ToolResult
from researchgym.tools.bash import Bash
from researchgym.tools.commands import COMMANDS, command_docs, find_tool
from researchgym.tools.edit import Edit, Insert
from researchgym.tools.evaluate import Submit, Validate
from researchgym.tools.navigation import Create, Goto, Open, ScrollDown, ScrollUp
from researchgym.tools.search import FindFile, SearchDir, SearchFile
from researchgym.tools.viewer import DEFAULT_WINDOW, Viewer

__all__ = [
    "COMMANDS",
    "DEFAULT_WINDOW",
    "ActionClass",
    "Bash",
    "Create",
    "Edit",
    "FindFile",
    "Goto",
    "Insert",
    "Open",
    "ScrollDown",
    "ScrollUp",
    "SearchDir",
    "SearchFile",
    "Submit",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolResult",
    "Validate",
    "Viewer",
    "command_docs",
    "find_tool",
]
