"""What the stored runs say: ``sql``, ``report``, ``aup`` and ``plot``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from researchgym.cli._options import DEFAULT_DB, DbOption, KOption, RunsOption
from researchgym.cli._output import Format, console, errors, print_table, rich_table
from researchgym.errors import ConfigError

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from researchgym.analysis import Profiles, Report


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
        print_table(_schema_table(), format)
        return
    if statement is None:
        errors.print("Give a SQL statement, or --schema to list the tables and views.")
        raise typer.Exit(1)
    with open_database(db) as con:
        print_table(query(con, statement), format)


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
    from researchgym.analysis import report as make_report
    from researchgym.storage import open_database

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
        print_table(result.scores, format)
    else:
        _print_report(result)


def _chosen_runs(con: duckdb.DuckDBPyConnection, given: list[str] | None, db: Path) -> list[str]:
    """The runs given, or else the latest run.

    Exits with one line if the database has no run, or lacks a run given.
    """
    from researchgym.analysis import latest_run_id
    from researchgym.storage import query

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
    from researchgym.analysis import VARIANTS

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
        console.print(rich_table(result.by_task(variant), title=title))
    title = f"AUP (tau_max {result.tau_max:g}), failures, tokens and cost"
    console.print(rich_table(result.solvers, title=title))
    console.print(rich_table(result.exit_statuses, title="Exit statuses"))


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
    from researchgym.analysis import performance_profiles, read_scores_csv

    if tau_max is not None and not 0 < tau_max < float("inf"):
        raise ConfigError(f"--tau-max takes a number above 0, not {tau_max:g}.")
    profiles = performance_profiles(read_scores_csv(scores), tau_max=tau_max)
    print_table(_aup_table(profiles, with_tau_max=format is not Format.table), format)
    if format is Format.table:
        how = "given" if tau_max is not None else "derived from the scores"
        console.print(f"tau_max = {profiles.tau_max:g} ({how})", highlight=False)


def _aup_table(profiles: Profiles, *, with_tau_max: bool) -> pa.Table:
    """One row per solver, by AUP (best attempt, then best submission) from the highest."""
    import pyarrow as pa

    from researchgym.analysis import VARIANTS

    def rank(solver: str) -> tuple[float | str, ...]:
        return (*(-profiles.aup[v].get(solver, float("-inf")) for v in VARIANTS), solver)

    solvers = sorted({s for v in VARIANTS for s in profiles.aup[v]}, key=rank)
    columns = {"solver": pa.array(solvers, pa.string())}
    for v in VARIANTS:
        columns[f"aup_{v}"] = pa.array([profiles.aup[v].get(s) for s in solvers], pa.float64())
    if with_tau_max:
        columns["tau_max"] = pa.array([profiles.tau_max] * len(solvers), pa.float64())
    return pa.table(columns)


def plot(
    run: RunsOption = None,
    k: KOption = 4,
    db: DbOption = DEFAULT_DB,
    out: Annotated[Path, typer.Option(help="The folder the PNG files go to.")] = Path("runs/plots"),
) -> None:
    """Plot performance profiles, AUP against cost, exit statuses, failures and actions (PNG)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from researchgym.analysis import PLOTS, write_plots
    from researchgym.storage import open_database

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
