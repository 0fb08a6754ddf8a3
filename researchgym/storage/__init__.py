"""Storage: every event of a run, written in Arrow batches and read back with DuckDB SQL.

```
schema.py    SCHEMAS, TableName, column_doc   the tables and their documented columns
sink.py      Sink, NullSink                   where batches go (the contract; NullSink keeps none)
duckdb.py    DuckDBSink                       ... a DuckDB file (runs/researchgym.duckdb)
parquet.py   ParquetSink                      ... Parquet files partitioned by run
writer.py    open_writer, Writer, ...         the one task that buffers rows and owns a sink
database.py  open_database, query             the read side, for either sink's output
views.py     VIEWS, ViewDoc, Dimension        the metric views and macros every connection has
runs.py      stored_run, run_state            a run as stored; interrupted if its process died
synthetic.py write_synthetic                  made-up runs for benchmarks (import the module)
```

The metrics, the report, performance profiles and plots over these views are in
``researchgym.analysis``, which imports storage (never the other way round).

Errors: StorageError, DatabaseLockedError, QueryError and QueryRefusedError from
``researchgym.errors``.

Example::

    async with open_writer(DuckDBSink(path)) as writer:
        writer.write_nowait("events", row)
    table = query(open_database(path), "SELECT kind, count(*) FROM events GROUP BY kind")
"""

from __future__ import annotations

import lazy_loader

# Each name is imported from its module when first used (the names: __init__.pyi).
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
