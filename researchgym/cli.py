"""The ``researchgym`` command (``rgym``): run, sql, report, aup, plot, replay, sandbox, tasks.

Every error a user can cause is a ``ResearchGymError``; it is printed as one message, never
as a traceback.
"""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import anyio
import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from researchgym.errors import ConfigError, ResearchGymError

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from researchgym.config import RunConfig
    from researchgym.engine import Runner
    from researchgym.sandboxes import SandboxKind
    from researchgym.storage import Profiles, Report

app = typer.Typer(
    help="An async engine and benchmark for AI research agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
errors = Console(stderr=True)

DEFAULT_DB = Path("runs/researchgym.duckdb")


class Format(StrEnum):
    """How query results are printed."""

    table = "table"
    csv = "csv"
    json = "json"


class SandboxChoice(StrEnum):
    """Where episodes run."""

    auto = "auto"
    docker = "docker"
    local = "local"


DbOption = Annotated[
    Path,
    typer.Option("--db", help="A DuckDB file, or a Parquet directory written by --parquet."),
]
RunsOption = Annotated[
    list[str] | None, typer.Option("--run", help="Run id (repeat; default: the latest run).")
]
KOption = Annotated[
    int, typer.Option("--k", min=1, help="Attempts counted per task and agent: the first k.")
]


@app.command()
def run(
    config: Annotated[
        Path | None, typer.Argument(help="A run configuration (YAML); options override it.")
    ] = None,
    task: Annotated[
        list[str] | None,
        typer.Option(help="Built-in task id or task folder (repeat; default: every built-in)."),
    ] = None,
    agent: Annotated[
        list[str] | None,
        typer.Option(help="Agent kind: llm, planner-executor, baseline, scripted (repeat)."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(help="The LLM agent's model, as litellm names it (openai/gpt-4o)."),
    ] = None,
    planner_model: Annotated[
        str | None, typer.Option(help="The planner's model (planner-executor).")
    ] = None,
    executor_model: Annotated[
        str | None, typer.Option(help="The executor's model (planner-executor).")
    ] = None,
    api_base: Annotated[
        str | None,
        typer.Option(help="An OpenAI-compatible server for the models (http://host:port/v1)."),
    ] = None,
    attempts: Annotated[int | None, typer.Option(help="Episodes per task and agent.")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Episodes at the same time.")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Actions per episode.")] = None,
    sandbox: Annotated[
        SandboxChoice | None,
        typer.Option(help="Where episodes run (auto: docker if a daemon answers, else local)."),
    ] = None,
    pool: Annotated[
        int | None, typer.Option(help="Docker containers kept started ahead of need.")
    ] = None,
    db: Annotated[Path | None, typer.Option(help="DuckDB file to store the run in.")] = None,
    parquet: Annotated[
        Path | None, typer.Option(help="Store Parquet files in this directory instead.")
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            help="Continue this stored run: keep its episodes that ended, run the rest (its "
            "stored configuration, with the options given on top)."
        ),
    ] = None,
    retry_errors: Annotated[
        int | None,
        typer.Option(help="Tries again an episode ended by an infrastructure failure, N times."),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Resume even if a task or an agent changed since the run.")
    ] = False,
) -> None:
    """Run agents on tasks and store every event (or resume a run: --resume RUN_ID)."""
    from researchgym.config import load_run_config, run_config

    overrides: dict[str, Any] = {
        "tasks": task or None,
        "agents": _agents(agent, model, planner_model, executor_model),
        "attempts": attempts,
        "models": {"api_base": api_base} if api_base else None,
        "retry_errors": retry_errors,
    }
    limits = {"max_steps": max_steps, "concurrent_episodes": concurrency}
    if any(v is not None for v in limits.values()):
        overrides["limits"] = {k: v for k, v in limits.items() if v is not None}
    box = {"kind": sandbox.value if sandbox else None, "pool": pool}
    if any(v is not None for v in box.values()):
        overrides["sandbox"] = {k: v for k, v in box.items() if v is not None}
    if parquet is not None and db is not None:
        raise ConfigError("Pass --db or --parquet, not both: a run is stored in one place.")
    if parquet is not None or db is not None:
        overrides["storage"] = (
            {"format": "parquet", "path": parquet} if parquet else {"format": "duckdb", "path": db}
        )
    if resume is not None:
        overrides.update(run_id=resume, resume=True)
        if config is None:
            cfg = _stored_config(resume, overrides)
            _run_with_progress(cfg, force=force)
            return
    cfg = load_run_config(config, **overrides) if config else run_config(overrides)
    _run_with_progress(cfg, force=force)


def _stored_config(run_id: str, overrides: dict[str, Any]) -> RunConfig:
    """The configuration a stored run ran with, with ``overrides`` on top."""
    from researchgym.config import merge, run_config
    from researchgym.storage import stored_run

    storage = run_config({"storage": overrides.get("storage")}).storage
    stored = stored_run(storage.path, run_id)
    if stored is None or stored.run is None:
        raise ConfigError(
            f"There is no configuration of a run '{run_id}' in {storage.path} to resume: "
            "pass --db (or --parquet) where it is stored, or its run configuration file with "
            "the same run_id."
        )
    data = json.loads(str(stored.run["config"]))
    return run_config(merge(data, overrides), source=f"the stored run {run_id}")


def _agents(
    kinds: list[str] | None, model: str | None, planner: str | None, executor: str | None
) -> list[dict[str, Any]] | None:
    """The agents the options ask for (None: those of the configuration or the default)."""
    if not kinds:
        if planner or executor:
            kinds = ["planner-executor"]
        elif model:
            kinds = ["llm"]
        else:
            return None
    agents: list[dict[str, Any]] = []
    for kind in kinds:
        params: dict[str, Any] = {}
        if kind == "llm" and model:
            params = {"model": model}
        elif kind == "planner-executor":
            params = {
                "planner": {"model": planner or model or "mock"},
                "executor": {"model": executor or model or "mock"},
            }
        agents.append({"kind": kind, "params": params})
    return agents


def _run_with_progress(cfg: RunConfig, *, force: bool = False) -> None:
    from researchgym.engine import Runner
    from researchgym.sandboxes import choose_sandboxes

    choice = anyio.run(choose_sandboxes, cfg.sandbox.kind)
    console.print(choice.describe(), soft_wrap=True, highlight=False)
    if cfg.sandbox.kind == "auto":  # settled once: the run stores what ran, and why
        box = cfg.sandbox.model_copy(update={"kind": choice.kind, "chosen": choice.because})
        cfg = cfg.model_copy(update={"sandbox": box})
    runner = Runner(cfg, force=force)
    resumed = " (resumed)" if cfg.resume else ""
    console.print(f"Run [bold]{cfg.run_id}[/]{resumed} -> {cfg.storage.path}")
    with Progress(
        TextColumn("[bold]episodes"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        bar = progress.add_task("run", total=None, detail="loading tasks")
        try:
            anyio.run(_run_and_watch, runner, progress, bar)
        except KeyboardInterrupt:
            errors.print("Cancelled. Everything recorded so far is stored.")
            raise typer.Exit(130) from None
    stats = runner.statistics()
    console.print(f"{stats.done} episodes ({stats.crashed} crashed), {stats.steps} steps.")
    console.print(f"Report: researchgym report --db {cfg.storage.path}", soft_wrap=True)
    if not any(_real_models(agent.params) for agent in cfg.agents):
        console.print(OFFLINE_HINT, style="dim", soft_wrap=True)


OFFLINE_HINT = (
    "These agents ran offline (no model, or the mock model). To run a real model: "
    "researchgym run --model openai/gpt-4o (with OPENAI_API_KEY set), or --model "
    "openai/<name> --api-base http://127.0.0.1:8000/v1 for a local OpenAI-compatible server."
)


def _real_models(params: Any) -> list[str]:
    """The real (not mock) model names in an agent's parameters, however nested."""
    if isinstance(params, dict):
        found = [v for k, v in params.items() if k == "model" and isinstance(v, str)]
        nested = [m for v in params.values() for m in _real_models(v)]
        return [m for m in found if not m.startswith("mock")] + nested
    return []


async def _run_and_watch(runner: Runner, progress: Progress, bar: Any) -> None:
    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        tg.start_soon(_watch, runner, progress, bar)
        await runner.run()
        tg.cancel_scope.cancel()
    _show(runner, progress, bar, runner.statistics().steps / (time.monotonic() - started))


async def _watch(runner: Runner, progress: Progress, bar: Any) -> None:
    last_steps, last_time = 0, time.monotonic()
    while True:
        await anyio.sleep(0.25)
        now, steps = time.monotonic(), runner.statistics().steps
        _show(runner, progress, bar, (steps - last_steps) / (now - last_time))
        last_steps, last_time = steps, now


def _show(runner: Runner, progress: Progress, bar: Any, rate: float) -> None:
    s = runner.statistics()
    detail = f"running {s.running}  crashed {s.crashed}  steps {s.steps}  {rate:,.0f} steps/s"
    progress.update(bar, total=s.episodes or None, completed=s.done, detail=detail)


@app.command()
def sql(
    statement: Annotated[
        str | None,
        typer.Argument(
            help="One SQL statement that reads (DuckDB dialect): SELECT, DESCRIBE, SHOW, "
            "SUMMARIZE or EXPLAIN. Nothing that writes runs, and no file but the database opens."
        ),
    ] = None,
    db: DbOption = DEFAULT_DB,
    format: Annotated[Format, typer.Option(help="Output format.")] = Format.table,
    schema: Annotated[
        bool, typer.Option("--schema", help="List every table's and view's columns and docs.")
    ] = False,
) -> None:
    """Query the stored runs with SQL, or list the tables and views to query (--schema)."""
    from researchgym.storage import open_database, query

    if schema:
        _print_table(_schema_table(), format)
        return
    if statement is None:
        errors.print("Give a SQL statement, or --schema to list the tables and views.")
        raise typer.Exit(1)
    with open_database(db) as con:
        _print_table(query(con, statement), format)


def _schema_table() -> pa.Table:
    """One row per column of every table and view, with its doc.

    A view's first row has no column: its doc says what one row of the view is. A table macro
    is named with its parameters.
    """
    import pyarrow as pa

    from researchgym.storage import SCHEMAS, VIEWS

    rows: list[tuple[str, str, str | None, str]] = [
        (name, "table", field.name, bytes(field.metadata[b"doc"]).decode())
        for name, schema in SCHEMAS.items()
        for field in schema
    ]
    for name, view in VIEWS.items():
        kind = "view" if view.usage == name else "macro"
        rows.append((view.usage, kind, None, view.summary))
        rows += [(view.usage, kind, column, doc) for column, doc in view.columns.items()]
    names = ["name", "kind", "column", "doc"]
    return pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)})


@app.command()
def report(
    run: RunsOption = None,
    k: KOption = 4,
    db: DbOption = DEFAULT_DB,
    format: Annotated[
        Format,
        typer.Option(help="Output format; csv has the per-task scores only, json every table."),
    ] = Format.table,
) -> None:
    """Best Attempt@k and Best Submission@k per task, AUP, failures, cost and exit statuses."""
    from researchgym.storage import open_database
    from researchgym.storage import report as make_report

    with open_database(db) as con:
        result = make_report(con, _chosen_runs(con, run, db), k=k)
    if format is Format.json:
        tables = {
            "scores": result.scores,
            "solvers": result.solvers,
            "exit_statuses": result.exit_statuses,
        }
        out = {"runs": result.runs, "states": result.states, "k": result.k}
        out["tau_max"] = result.tau_max
        out |= {name: table.to_pylist() for name, table in tables.items()}
        print(json.dumps(out, default=str, indent=2))
    elif format is Format.csv:
        _print_table(result.scores, format)
    else:
        _print_report(result)


def _chosen_runs(con: duckdb.DuckDBPyConnection, given: list[str] | None, db: Path) -> list[str]:
    """The runs given, or else the latest run.

    Exits with one line if the database has no run, or lacks a run given.
    """
    from researchgym.storage import latest_run_id, query

    runs = given or [r for r in [latest_run_id(con)] if r]
    if not runs:
        errors.print(f"No runs in {db} yet. Start one with: researchgym run")
        raise typer.Exit(1)
    stored = query(
        con, "SELECT run_id FROM runs UNION SELECT run_id FROM episodes ORDER BY run_id"
    ).column(0)
    unknown = sorted(set(runs) - set(stored.to_pylist()))
    if unknown:
        errors.print(
            f"No run {', '.join(map(repr, unknown))} in {db}. "
            f"Its runs: {', '.join(stored.to_pylist()[-10:])}",
            highlight=False,
        )
        raise typer.Exit(1)
    return runs


def _print_report(result: Report) -> None:
    from researchgym.storage import VARIANTS

    runs = [f"{run} ({result.states[run]})" for run in result.runs]
    console.print(f"Runs: {', '.join(runs)}", highlight=False)
    if "interrupted" in result.states.values():
        console.print(
            "An interrupted run's process is gone; continue it with: researchgym run "
            "--resume RUN_ID",
            style="dim",
        )
    for variant in VARIANTS:
        title = f"{variant.replace('_', ' ').title()}@{result.k}"
        console.print(_rich_table(result.by_task(variant), title=title))
    title = f"AUP (tau_max {result.tau_max:g}), failures, tokens and cost"
    console.print(_rich_table(result.solvers, title=title))
    console.print(_rich_table(result.exit_statuses, title="Exit statuses"))


@app.command()
def aup(
    scores: Annotated[
        Path,
        typer.Argument(
            metavar="SCORES.csv",
            help="A CSV with the columns task,solver,variant,score,direction (variant "
            "best_attempt or best_submission, direction max or min, the solver 'baseline' the "
            "task's baseline, an empty score a missing one).",
        ),
    ],
    tau_max: Annotated[
        float | None,
        typer.Option(help="The right end of the tau grid (default: derived from the scores)."),
    ] = None,
    format: Annotated[Format, typer.Option(help="Output format.")] = Format.table,
) -> None:
    """AUP per solver, best attempt and best submission, from a table of scores (MLGym's)."""
    from researchgym.storage import performance_profiles, read_scores_csv

    if tau_max is not None and not 0 < tau_max < float("inf"):
        raise ConfigError(f"--tau-max takes a number above 0, not {tau_max:g}.")
    profiles = performance_profiles(read_scores_csv(scores), tau_max=tau_max)
    _print_table(_aup_table(profiles, with_tau_max=format is not Format.table), format)
    if format is Format.table:
        how = "given" if tau_max is not None else "derived from the scores"
        console.print(f"tau_max = {profiles.tau_max:g} ({how})", highlight=False)


def _aup_table(profiles: Profiles, *, with_tau_max: bool) -> pa.Table:
    """One row per solver, by AUP (best attempt, then best submission) from the highest."""
    import pyarrow as pa

    from researchgym.storage import VARIANTS

    def rank(solver: str) -> tuple[float | str, ...]:
        return (*(-profiles.aup[v].get(solver, float("-inf")) for v in VARIANTS), solver)

    solvers = sorted({s for v in VARIANTS for s in profiles.aup[v]}, key=rank)
    columns = {"solver": pa.array(solvers, pa.string())}
    for v in VARIANTS:
        columns[f"aup_{v}"] = pa.array([profiles.aup[v].get(s) for s in solvers], pa.float64())
    if with_tau_max:
        columns["tau_max"] = pa.array([profiles.tau_max] * len(solvers), pa.float64())
    return pa.table(columns)


@app.command()
def plot(
    run: RunsOption = None,
    k: KOption = 4,
    db: DbOption = DEFAULT_DB,
    out: Annotated[Path, typer.Option(help="The folder the PNG files go to.")] = Path("runs/plots"),
) -> None:
    """Plot performance profiles, AUP against cost, exit statuses, failures and actions (PNG)."""
    from researchgym.storage import PLOTS, open_database, write_plots

    with open_database(db) as con:
        runs = _chosen_runs(con, run, db)
        with Progress(
            TextColumn("[bold]plots"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[file]}"), console=console, transient=True,
            disable=not console.is_terminal,  # else it leaves a blank line in a pipe
        ) as progress:  # fmt: skip
            bar = progress.add_task("plot", total=len(PLOTS), file="")

            def written(path: Path) -> None:
                progress.update(bar, advance=1, file=path.name)

            files = write_plots(con, runs, out, k=k, on_written=written)
    console.print(f"{len(files)} plots of {', '.join(runs)} (k = {k}):", highlight=False)
    for path in files:
        console.print(f"  {path}", highlight=False, soft_wrap=True)


@app.command()
def replay(
    episode: Annotated[str, typer.Argument(help="The id of a stored episode.")],
    db: DbOption = DEFAULT_DB,
    sandbox: Annotated[
        SandboxChoice | None, typer.Option(help="Where to replay it (default: as it ran).")
    ] = None,
) -> None:
    """Re-run a stored episode's actions in a fresh sandbox and compare what happens."""
    from researchgym.config import StorageConfig
    from researchgym.engine import replay_episode

    store = StorageConfig(format="parquet" if db.is_dir() else "duckdb", path=db)
    kind: SandboxKind | None = sandbox.value if sandbox else None
    with console.status(f"Replaying {episode}"):
        result = anyio.run(lambda: replay_episode(episode, store=store, sandbox=kind))
    console.print(f"Replayed {result.steps} steps of {episode} as {result.replay_episode_id}.")
    for mismatch in result.mismatches:
        console.print(
            f"step {mismatch.step} ({mismatch.command[:60]!r}): the observation differs\n"
            f"  stored:   {mismatch.stored[:200]!r}\n  replayed: {mismatch.replayed[:200]!r}",
            highlight=False,
        )
    console.print(f"scores: stored {result.stored_scores}, replayed {result.replayed_scores}")
    console.print(f"exit: stored {result.stored_status!r}, replayed {result.replayed_status!r}")
    if not result.matches:
        console.print("The replay does not match.", style="bold red")
        raise typer.Exit(1)
    console.print("The replay matches: same observations, scores and exit status.")


sandbox_app = typer.Typer(
    help="The Docker sandboxes: image, daemon, clean-up.", no_args_is_help=True
)
app.add_typer(sandbox_app, name="sandbox")


class BuildChoice(StrEnum):
    """How the sandbox image is built."""

    auto = "auto"
    dockerfile = "dockerfile"
    offline = "offline"


@sandbox_app.command("build")
def sandbox_build(
    method: Annotated[
        BuildChoice,
        typer.Option(
            help="dockerfile, offline (from Debian packages), or auto (offline "
            "unless a registry answers)."
        ),
    ] = BuildChoice.auto,
    force: Annotated[bool, typer.Option(help="Build again even if the image exists.")] = False,
    if_docker: Annotated[
        bool,
        typer.Option(help="Do nothing, successfully, when no Docker daemon answers."),
    ] = False,
) -> None:
    """Build the sandbox image researchgym/sandbox:<version>, unless it is built already."""
    from researchgym.sandboxes import build_image, docker_reachable

    if if_docker and not anyio.run(docker_reachable):
        console.print("No Docker daemon answers: no image to build; runs use local sandboxes.")
        return
    with console.status("Building the sandbox image") as status:

        def progress(line: str) -> None:
            status.update(f"Building the sandbox image: {line}")

        image_id = anyio.run(
            lambda: build_image(method=method.value, force=force, progress=progress)
        )
    console.print(f"Sandbox image ready ({image_id[:19]}).")


@sandbox_app.command("status")
def sandbox_status() -> None:
    """Say whether the Docker daemon answers and which sandbox images it has."""
    from researchgym.sandboxes import sandbox_status as status_of

    status = anyio.run(status_of)
    limits = "enforced" if status.disks.enforced else "not enforced"
    console.print(f"Disk limits: {limits} ({status.disks.detail}).", soft_wrap=True)
    isolation = status.local.detail if status.local.namespaces else f"none ({status.local.detail})"
    console.print(f"Local sandboxes isolate: {isolation}.", soft_wrap=True)
    if not status.reachable:
        console.print(f"Docker: not reachable. {status.problem}", soft_wrap=True)
        console.print("Runs use local sandboxes (--sandbox auto).")
        return
    console.print(f"Docker {status.docker_version}: reachable.")
    out = Table("image", "id", "size", "created", box=box.SIMPLE_HEAD)
    for image in status.images:
        out.add_row(
            image.name,
            image.id[7:19],
            f"{image.size / 2**20:,.0f} MB",
            f"{image.created:%Y-%m-%d %H:%M}",
        )
    console.print(out)
    if status.ready:
        console.print(f"{status.image} is built: runs use Docker sandboxes.")
    else:
        console.print(f"{status.image} is not built. Build it with: researchgym sandbox build")


@sandbox_app.command("prune")
def sandbox_prune(
    run: Annotated[str | None, typer.Option("--run", help="Only this run's containers.")] = None,
    everything: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Also remove the containers of runs still going on, and "
            "those other hosts started.",
        ),
    ] = False,
) -> None:
    """Remove the sandbox containers that crashed or killed runs left behind."""
    from researchgym.sandboxes import prune_sandboxes

    result = anyio.run(lambda: prune_sandboxes(run_id=run, everything=everything))
    console.print(f"Removed {len(result.removed)} sandbox containers.")
    if result.disks:
        console.print(f"Removed {len(result.disks)} sandbox disks of ended runs.")
    if result.groups:
        console.print(f"Removed {len(result.groups)} local sandboxes' control groups.")
    if result.kept:
        console.print(
            f"Kept {len(result.kept)} of runs still going on ({', '.join(result.kept)}); "
            "--all removes them too."
        )


tasks_app = typer.Typer(
    help="The tasks: list, show, validate a folder, import MLGym's.", no_args_is_help=True
)
app.add_typer(tasks_app, name="tasks")


@tasks_app.command("list")
def tasks_list() -> None:
    """List the built-in tasks: id, domain, metric, direction, baseline score."""
    from researchgym.tasks import builtin_tasks

    out = Table("id", "domain", "metric", "", "baseline", box=box.SIMPLE_HEAD)
    entries = builtin_tasks()
    for entry in entries:
        if entry.task is None:
            out.add_row(entry.task_id, "[red]broken[/]", str(entry.error), "", "")
            continue
        spec = entry.task.spec
        arrow = "↑" if spec.metric.direction == "max" else "↓"
        out.add_row(spec.id, spec.domain, spec.metric.name, arrow, f"{spec.baseline.score:.4g}")
    console.print(out)
    console.print(f"{len(entries)} tasks (↑ higher is better, ↓ lower)", style="dim")


@tasks_app.command("show")
def tasks_show(
    task: Annotated[str, typer.Argument(help="A built-in task id or a task folder.")],
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
        SandboxChoice,
        typer.Option(help="Where to run them: as a run would (auto), docker or local."),
    ] = SandboxChoice.auto,
) -> None:
    """Check a task folder and list every problem; exit 1 on an error (--strict: any)."""
    from researchgym.sandboxes import open_sandboxes
    from researchgym.tasks import task_folder, validate_task

    root = task_folder(path)

    async def validate() -> Any:
        async with open_sandboxes(sandbox.value, run_id="tasks-validate") as sandboxes:
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


def _print_table(table: pa.Table, format: Format) -> None:
    rows = table.to_pylist()
    if format is Format.json:
        print(json.dumps(rows, default=str, indent=2))
    elif format is Format.csv:
        import pyarrow.csv

        pyarrow.csv.write_csv(table, sys.stdout.buffer)
    else:
        console.print(_rich_table(table))
        console.print(f"{len(rows)} rows", style="dim")


def _rich_table(table: pa.Table, *, title: str | None = None) -> Table:
    import pyarrow as pa  # here, not at start-up: `researchgym --help` stays fast

    out = Table(box=box.SIMPLE_HEAD, title=title)
    for field in table.schema:
        # One word per header line, and no value cut short: narrow terminals wrap cells.
        numeric = pa.types.is_integer(field.type) or pa.types.is_floating(field.type)
        out.add_column(
            field.name.replace("_", "\n"),
            overflow="fold",
            justify="right" if numeric else "left",
        )
    for row in table.to_pylist():
        out.add_row(*(_cell(v) for v in row.values()))
    return out


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


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
