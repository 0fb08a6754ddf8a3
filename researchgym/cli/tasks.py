"""``researchgym tasks``: list, show and validate tasks, and import MLGym's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from researchgym.cli._options import SANDBOX_HELP, sandbox_kind
from researchgym.cli._output import console, errors
from researchgym.errors import ConfigError

tasks_app = typer.Typer(
    help="The tasks: list, show, validate a folder, import MLGym's.", no_args_is_help=True
)


@tasks_app.command("list")
def tasks_list() -> None:
    """List the tasks, built in and of plug-in collections: id, domain, metric, baseline."""
    from rich import box
    from rich.table import Table

    from researchgym.errors import PluginError
    from researchgym.tasks import TASKS, collection_folder, tasks_in

    out = Table("id", "domain", "metric", "", "baseline", box=box.SIMPLE_HEAD)
    count = 0
    for collection in TASKS.names():
        try:
            entries = tasks_in(collection_folder(collection))
        except PluginError as e:  # listed, and the other collections still are
            out.add_row(collection, "[red]broken[/]", str(e), "", "")
            continue
        prefix = "" if collection == "builtin" else f"{collection}/"
        count += len(entries)
        for entry in entries:
            if entry.task is None:
                out.add_row(prefix + entry.task_id, "[red]broken[/]", str(entry.error), "", "")
                continue
            spec = entry.task.spec
            arrow = "↑" if spec.metric.direction == "max" else "↓"
            out.add_row(
                prefix + spec.id, spec.domain, spec.metric.name, arrow, f"{spec.baseline.score:.4g}"
            )
    console.print(out)
    console.print(f"{count} tasks (↑ higher is better, ↓ lower)", style="dim")


@tasks_app.command("show")
def tasks_show(
    task: Annotated[str, typer.Argument(help="A task id or a task folder.")],
) -> None:
    """Show a task: its name, description, metric and files (eval/ marked hidden)."""
    from researchgym.tasks import resolve_task, task_files

    loaded = resolve_task(task)
    spec, files = loaded.spec, task_files(loaded)
    better = "higher" if spec.metric.direction == "max" else "lower"
    console.print(f"[bold]{spec.name}[/] ({spec.id}, {spec.domain})  {loaded.root}")
    console.print(_reflowed(spec.description), highlight=False, markup=False)
    console.print(
        f"metric: {spec.metric.name} ({better} is better), baseline {spec.baseline.score:.6g}; "
        f"submission: {spec.submission.kind} {spec.submission.path}",
        highlight=False,
    )
    for folder, names, note in [
        ("workspace", files.workspace, ""),
        ("data", files.data, "  (read-only)"),
        ("eval", files.hidden, "  (hidden from the agent)"),
    ]:
        for name in names:
            console.print(f"  {folder}/{name}{note}", highlight=False, markup=False)


def _reflowed(text: str) -> str:
    """Each paragraph's prose as one line, for the terminal to wrap.

    Blank and indented lines (examples) stay as written.
    """
    out: list[str] = []
    prose: list[str] = []
    for line in [*text.strip().splitlines(), ""]:
        if line and not line[:1].isspace():
            prose.append(line.strip())
            continue
        if prose:
            out.append(" ".join(prose))
            prose = []
        out.append(line)
    return "\n".join(out).rstrip()


@tasks_app.command("validate")
def tasks_validate(
    path: Annotated[str, typer.Argument(help="A task folder (or a built-in task id).")],
    run: Annotated[
        bool, typer.Option(help="Run the baseline and the evaluator in a sandbox.")
    ] = True,
    strict: Annotated[bool, typer.Option(help="Fail on warnings too.")] = False,
    sandbox: Annotated[
        str, typer.Option(callback=sandbox_kind, help=f"Where to run them: {SANDBOX_HELP}.")
    ] = "auto",
) -> None:
    """Check a task folder and list every problem; exit 1 on an error (--strict: any)."""
    import anyio

    from researchgym.sandboxes import open_sandboxes
    from researchgym.tasks import task_folder, validate_task

    root = task_folder(path)

    async def validate() -> Any:
        async with open_sandboxes(sandbox, run_id="tasks-validate") as sandboxes:
            return await validate_task(root, run=run, sandboxes=sandboxes)

    with console.status(f"Validating {root}"):
        report = anyio.run(validate)
    for problem in report.problems:
        colour = "red" if problem.severity == "error" else "yellow"
        console.print(f"[{colour}]{problem.severity}[/] {problem}", highlight=False)
    if not report.ok or (strict and report.problems):
        count = len(report.problems)
        console.print(f"{root}: {count} problem{'' if count == 1 else 's'}.")
        raise typer.Exit(1)
    assert report.spec is not None
    if report.measured is None:
        summary = "task.yaml and the folder are valid (not run)"
    else:
        summary = f"the baseline scores {report.measured:.6g} in {report.seconds:.1f} s"
    console.print(f"OK: {report.spec.id} ({root}): {summary}.", highlight=False)


@tasks_app.command("import-mlgym")
def tasks_import_mlgym(
    checkout: Annotated[Path, typer.Argument(help="An MLGym checkout (with configs/tasks/).")],
    out: Annotated[Path, typer.Option(help="Where the task folders go.")] = Path("tasks/mlgym"),
    task: Annotated[
        list[str] | None,
        typer.Option(help="Only this task: config file name or MLGym id (repeat)."),
    ] = None,
    direction: Annotated[
        list[str] | None,
        typer.Option(help="METRIC=max or METRIC=min, for a metric name not known (repeat)."),
    ] = None,
) -> None:
    """Import MLGym's tasks as task folders, hiding the files that would give scores away."""
    from researchgym.tasks import import_mlgym

    result = import_mlgym(checkout, out=out, names=task or (), directions=_directions(direction))
    for done in result.imported:
        console.print(f"imported {done.mlgym_id} -> {done.root}", highlight=False)
        for moved in done.moved:
            console.print(f"  hidden in eval/: {moved.path}: {moved.reason}", highlight=False)
        for note in done.notes:
            console.print(f"  note: {note}", highlight=False)
    for failed in result.failed:
        errors.print(f"[bold red]not imported:[/] {failed.config.stem}: {failed.error}")
    console.print(f"{len(result.imported)} imported, {len(result.failed)} not.")
    if result.failed:
        raise typer.Exit(1)


def _directions(given: list[str] | None) -> dict[str, Literal["max", "min"]]:
    directions: dict[str, Literal["max", "min"]] = {}
    for item in given or []:
        name, _, way = item.rpartition("=")
        if not name or way not in ("max", "min"):
            raise ConfigError(f"--direction takes METRIC=max or METRIC=min, not '{item}'.")
        directions[name] = "max" if way == "max" else "min"
    return directions
