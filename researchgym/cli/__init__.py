"""The ``researchgym`` command (``rgym``): run, sql, report, ..., sandbox, tasks, plugins.

```
__init__.py   app, main(): the commands, and a user's error printed as one line
run.py        run: agents on tasks, with a progress bar (or --resume a stored run)
data.py       sql, report, aup, plot: what the stored runs say
replay.py     replay: a stored episode re-run in a fresh sandbox, and compared
sandbox.py    sandbox build | status | prune: the sandbox image and the Docker sandboxes
tasks.py      tasks list | show | validate | import-mlgym
plugins.py    plugins: the registries' components, built in and from plug-ins
_options.py   the options several commands share (--db, --run, --k, --sandbox, --agent)
_output.py    the consoles, and tables printed as rich tables, CSV or JSON
```

Every error a user can cause is a ``ResearchGymError``; it is printed as one message, never
as a traceback. A command imports what it uses (the engine, DuckDB, pyarrow, the Docker
client) when it runs, so that ``researchgym --help`` loads none of them.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from researchgym.cli import data, plugins, replay, run, sandbox, tasks
from researchgym.cli._output import errors
from researchgym.errors import ResearchGymError

__all__ = ["app", "main"]

app = typer.Typer(
    help="An async engine and benchmark for AI research agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
app.command()(run.run)
app.command()(data.sql)
app.command()(data.report)
app.command()(data.aup)
app.command()(data.plot)
app.command()(replay.replay)
app.command()(plugins.plugins)
app.add_typer(sandbox.sandbox_app, name="sandbox")
app.add_typer(tasks.tasks_app, name="tasks")


def main() -> None:
    """Entry point of the ``researchgym`` and ``rgym`` commands."""
    failed: list[ResearchGymError] = []
    try:
        app()
    except* ResearchGymError as group:  # task groups wrap errors; a user's error is one line
        failed = _leaves(group)
    for error in failed:  # escaped: a message may quote SQL or a path with [brackets]
        errors.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
    if failed:
        sys.exit(1)


def _leaves(group: BaseExceptionGroup[ResearchGymError]) -> list[ResearchGymError]:
    return [
        leaf
        for e in group.exceptions
        for leaf in (_leaves(e) if isinstance(e, BaseExceptionGroup) else [e])
    ]
