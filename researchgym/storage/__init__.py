"""Storage: every event of a run, written in Arrow batches and read back with DuckDB SQL.

```
schema.py    SCHEMAS, TableName, column_doc   the tables and their documented columns
sink.py      Sink                             where batches go (the contract)
duckdb.py    DuckDBSink                       ... a DuckDB file (runs/researchgym.duckdb)
parquet.py   ParquetSink                      ... Parquet files partitioned by run
writer.py    open_writer, Writer, ...         the one task that buffers rows and owns a sink
database.py  open_database, query             the read side, for either sink's output
report.py    report, latest_run_id            the run report, as SQL
```

Errors: StorageError, DatabaseLockedError and QueryError from ``researchgym.errors``.

Example::

    async with open_writer(DuckDBSink(path)) as writer:
        writer.write_nowait("events", row)
    table = query(open_database(path), "SELECT kind, count(*) FROM events GROUP BY kind")
"""

from __future__ import annotations

from researchgym.storage.database import open_database, query
from researchgym.storage.duckdb import DuckDBSink
from researchgym.storage.parquet import ParquetSink
from researchgym.storage.report import latest_run_id, report
from researchgym.storage.schema import SCHEMAS, TableName, column_doc
from researchgym.storage.sink import Sink
from researchgym.storage.writer import Writer, WriterStatistics, open_writer

__all__ = [
    "SCHEMAS",
    "DuckDBSink",
    "ParquetSink",
    "Sink",
    "TableName",
    "Writer",
    "WriterStatistics",
    "column_doc",
    "latest_run_id",
    "open_database",
    "open_writer",
    "query",
    "report",
]
