"""The options several commands share: the database, the runs, k, and where episodes run.

Typer reads these annotations when the command line is parsed, so their types must be
importable at run time: paths, enums and plain types only.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_DB = Path("runs/researchgym.duckdb")


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
