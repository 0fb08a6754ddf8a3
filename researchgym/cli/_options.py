"""The options several commands share: the database, the runs, k, and where episodes run.

Typer reads these annotations when the command line is parsed, so their types must be
importable at run time: paths, enums and plain types only. Names of components (sandbox
providers, agent kinds) are checked against their registries when given, so that a plug-in's
are accepted, and ``--help`` reads no plug-in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DEFAULT_DB = Path("runs/researchgym.duckdb")


def sandbox_kind(kind: str | None) -> str | None:
    from researchgym.sandboxes import SANDBOXES

    problem = None if kind is None else SANDBOXES.unknown(kind, also=("auto",))
    if problem is not None:
        raise typer.BadParameter(problem)
    return kind


def agent_kinds(kinds: list[str] | None) -> list[str] | None:
    from researchgym.agents import AGENTS

    for kind in kinds or []:
        problem = AGENTS.unknown(kind)
        if problem is not None:
            raise typer.BadParameter(problem)
    return kinds


SANDBOX_HELP = "auto (docker if a daemon answers, else local), docker, local, or a plug-in's"
SandboxOption = Annotated[
    str | None,
    typer.Option("--sandbox", callback=sandbox_kind, help=f"Where episodes run: {SANDBOX_HELP}."),
]
AgentOption = Annotated[
    list[str] | None,
    typer.Option(
        "--agent",
        callback=agent_kinds,
        help="Agent kind: llm, planner-executor, baseline, scripted, or a plug-in's "
        "(researchgym plugins lists them); repeat for several.",
    ),
]

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
