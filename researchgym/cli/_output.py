"""What the commands print: the two consoles, and a table as a rich table, CSV or JSON."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    import pyarrow as pa
    from rich.table import Table

console = Console()
errors = Console(stderr=True)


class Format(StrEnum):
    """How query results are printed."""

    table = "table"
    csv = "csv"
    json = "json"


def print_table(table: pa.Table, format: Format) -> None:
    """Print an Arrow table in ``format``, on standard output."""
    rows = table.to_pylist()
    if format is Format.json:
        print(json.dumps(rows, default=str, indent=2))
    elif format is Format.csv:
        import pyarrow.csv

        pyarrow.csv.write_csv(table, sys.stdout.buffer)
    else:
        console.print(rich_table(table))
        console.print(f"{len(rows)} rows", style="dim")


def rich_table(table: pa.Table, *, title: str | None = None) -> Table:
    """An Arrow table as a rich table: one word per header line, numbers to the right."""
    import pyarrow as pa  # here, not at start-up: `researchgym --help` stays fast
    from rich import box
    from rich.table import Table

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
