"""The Parquet sink: one file per batch and run, partitioned the Hive way by run.

```
<root>/<table>/run_id=<run id>/part-<token>-<n>.parquet
```

The run id is percent-encoded in the folder name, which DuckDB decodes when it reads the
partition back, so any run id round-trips. ``<token>`` is random per sink, so that several
processes (Ray workers) writing the same run never pick the same file name; ``<n>`` counts the
sink's files. A file is written under a hidden temporary name and renamed when complete, so
that a reader never sees half a file.
"""

from __future__ import annotations

import os
import secrets
from contextlib import suppress
from typing import TYPE_CHECKING
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from researchgym.errors import StorageError
from researchgym.storage.sink import Sink

if TYPE_CHECKING:
    from pathlib import Path

    from researchgym.storage.schema import TableName

__all__ = ["ParquetSink"]


class ParquetSink(Sink):
    """Stores batches as Parquet files under a root folder, partitioned by run.

    The ``run_id`` column is left out of the files: the partition folder carries it.

    Args:
        root: The folder to write under, e.g. ``runs/parquet``. It is created when needed.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._token = secrets.token_hex(4)
        self._files = 0

    def write(self, table: TableName, batch: pa.Table) -> None:
        """Write a batch as one file per run it holds rows of.

        Args:
            table: The table the rows belong to.
            batch: The rows, with the columns of ``SCHEMAS[table]`` (``run_id`` first).

        Raises:
            StorageError: If a row has no run_id, or a file cannot be written (no space, no
                permission). The files already written for the batch are removed then.
        """
        run_ids = batch.column("run_id")
        if run_ids.null_count:
            raise StorageError(f"Cannot store {run_ids.null_count} '{table}' rows with no run_id.")
        distinct: list[str] = pc.unique(run_ids).to_pylist()
        written: list[Path] = []
        try:
            for run_id in distinct:
                rows = batch if len(distinct) == 1 else batch.filter(pc.equal(run_ids, run_id))
                written.append(self._write_file(table, run_id, rows.drop_columns(["run_id"])))
        except BaseException:
            for path in written:
                with suppress(OSError):
                    path.unlink(missing_ok=True)
            raise

    def _write_file(self, table: TableName, run_id: str, rows: pa.Table) -> Path:
        folder = self.root / table / f"run_id={quote(run_id, safe='')}"
        self._files += 1
        path = folder / f"part-{self._token}-{self._files}.parquet"
        temporary = folder / f".{path.name}.tmp"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(rows, temporary)
            os.replace(temporary, path)
        except (OSError, pa.ArrowException) as exc:
            with suppress(OSError):
                temporary.unlink(missing_ok=True)
            raise StorageError(f"Cannot write {path}: {exc}") from exc
        return path

    def close(self) -> None:
        """Do nothing: every file is complete and closed once ``write`` returns."""
