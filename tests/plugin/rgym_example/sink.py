"""The sink ``jsonl``: every batch appended to ``<path>/<table>.jsonl``, one row per line."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from researchgym.errors import StorageError
from researchgym.storage import Sink

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa


class JsonLinesSink(Sink):
    """Stores rows as JSON lines, a file per table, under a folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._closed = False
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"Cannot create the folder {path}: {e}") from e

    def write(self, table: str, batch: pa.Table) -> None:
        """Append the batch's rows (all of them or none: written in one go)."""
        if self._closed:
            raise StorageError("The sink is closed.")
        lines = "".join(json.dumps(row, default=str) + "\n" for row in batch.to_pylist())
        try:
            with (self.path / f"{table}.jsonl").open("a", encoding="utf-8") as out:
                out.write(lines)
        except OSError as e:
            raise StorageError(f"Cannot write {table} rows under {self.path}: {e}") from e

    def close(self) -> None:
        """Nothing is held open between writes."""
        self._closed = True
