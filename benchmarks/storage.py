"""Events per second through the storage writer, against row-by-row inserts.

Both paths store the same `events` rows into a fresh DuckDB file (in a temporary folder):

- writer: `open_writer` + `DuckDBSink`, the way the engine stores events. The clock runs from
  opening the sink until the writer's context has stored every row and closed the file.
- row by row: one prepared `INSERT` per event through DuckDB's `executemany`, on a smaller
  count (it is slow), reported as a rate.

Usage: .venv/bin/python benchmarks/storage.py [--events N] [--row-by-row N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import anyio
import duckdb
import pyarrow
from rich.console import Console
from rich.table import Table

from researchgym.storage import DuckDBSink, open_database, open_writer, query

T0_US = 1_714_564_800_000_000  # 2024-05-01 12:00 UTC
KINDS = ("message", "tool_call", "llm_call", "score")
PAYLOAD = json.dumps(
    {"tool": "bash", "command": "python train.py --epochs 3", "exit_code": 0, "duration_s": 12.5}
)
COLUMNS = ("run_id", "episode_id", "seq", "ts", "kind", "agent", "span_id", "cause_seq", "payload")


def event(i: int) -> dict[str, Any]:
    """One `events` row shaped like the engine's: 64 episodes, spans of 8 events."""
    return {
        "run_id": "run-20240501-120000-a1b2",
        "episode_id": f"episode-{i % 64:03d}",
        "seq": i // 64,
        "ts": T0_US + i * 1_000,
        "kind": KINDS[i % 4],
        "agent": "agent",
        "span_id": f"span-{i // 8}",
        "cause_seq": i // 64 - 1 if i >= 64 else None,
        "payload": PAYLOAD,
    }


async def through_writer(path: Path, count: int) -> float:
    start = time.perf_counter()
    async with open_writer(DuckDBSink(path)) as writer:
        for i in range(count):
            row = event(i)
            try:
                writer.write_nowait("events", row)
            except anyio.WouldBlock:
                await writer.write("events", row)
    return time.perf_counter() - start


def row_by_row(path: Path, count: int) -> float:
    DuckDBSink(path).close()
    placeholders = ", ".join("?" for _ in COLUMNS)
    with duckdb.connect(str(path)) as con:
        start = time.perf_counter()
        rows = [_values(event(i)) for i in range(count)]
        con.executemany(f"INSERT INTO events VALUES ({placeholders})", rows)
        return time.perf_counter() - start


def _values(row: dict[str, Any]) -> list[Any]:
    ts = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=row["ts"])
    return [ts if name == "ts" else row[name] for name in COLUMNS]


def _stored(path: Path) -> int:
    with open_database(path) as con:
        count: int = query(con, "SELECT count(*) AS n FROM events")["n"][0].as_py()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--row-by-row", type=int, default=5_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        writer_path, rows_path = Path(folder, "writer.duckdb"), Path(folder, "rows.duckdb")
        writer_s = anyio.run(through_writer, writer_path, args.events)
        rows_s = row_by_row(rows_path, args.row_by_row)
        assert _stored(writer_path) == args.events
        assert _stored(rows_path) == args.row_by_row
    _report(args.events, writer_s, args.row_by_row, rows_s)


def _report(events: int, writer_s: float, rows: int, rows_s: float) -> None:
    writer_rate, rows_rate = events / writer_s, rows / rows_s
    table = Table(title="Storing `events` rows in DuckDB")
    for column in ("path", "events", "seconds", "events/s"):
        table.add_column(column, justify="left" if column == "path" else "right")
    table.add_row(
        "open_writer + DuckDBSink", f"{events:,}", f"{writer_s:.2f}", f"{writer_rate:,.0f}"
    )
    table.add_row("row by row (executemany)", f"{rows:,}", f"{rows_s:.2f}", f"{rows_rate:,.0f}")
    met = writer_rate >= 100_000 and writer_rate >= 100 * rows_rate
    console = Console(soft_wrap=True)
    console.print(table)
    console.print(
        f"ratio: {writer_rate / rows_rate:,.0f}x (goal: 100,000 events/s and 100x: ", end=""
    )
    console.print("met)" if met else "NOT met)", style="green" if met else "bold red")
    console.print(f"command: {shlex.join([os.path.relpath(sys.executable), *sys.argv])}")
    console.print(
        f"on: {date.today()}, python {platform.python_version()}, duckdb {duckdb.__version__}, "
        f"pyarrow {pyarrow.__version__}, anyio {version('anyio')}, {os.cpu_count()} cpus, "
        f"{platform.platform()}"
    )


if __name__ == "__main__":
    main()
