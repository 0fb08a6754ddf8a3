"""Storage: every event of a run, written in Arrow batches and read back with DuckDB SQL.

```
schema.py    SCHEMAS, TableName, column_doc   the tables and their documented columns
sink.py      Sink                             where batches go (the contract)
duckdb.py    DuckDBSink                       ... a DuckDB file (runs/researchgym.duckdb)
parquet.py   ParquetSink                      ... Parquet files partitioned by run
writer.py    open_writer, Writer, ...         the one task that buffers rows and owns a sink
database.py  open_database, query             the read side, for either sink's output
views.py     VIEWS, ViewDoc, Dimension        the metric views and macros every connection has
metrics.py   best_at_k, failures, ...         the metrics as Arrow tables, from those views
report.py    report, Report, latest_run_id    the run report: scores at k, AUP, cost, failures
profiles.py  performance_profiles, ...        performance profiles and AUP, from any scores
plots.py     write_plots, PLOTS               the plots of some runs, as PNG files
runs.py      stored_run, run_state            a run as stored; interrupted if its process died
charts.py                                     ... drawn by matplotlib (imported when plotting)
```

Errors: StorageError, DatabaseLockedError, QueryError and QueryRefusedError from
``researchgym.errors``.

Example::

    async with open_writer(DuckDBSink(path)) as writer:
        writer.write_nowait("events", row)
    table = query(open_database(path), "SELECT kind, count(*) FROM events GROUP BY kind")
"""

from __future__ import annotations

from researchgym.storage.database import open_database, query
from researchgym.storage.duckdb import DuckDBSink
from researchgym.storage.metrics import (
    ActionDimension,
    actions,
    best_at_k,
    costs,
    exit_statuses,
    failures,
    profile_scores,
    solver_name,
)
from researchgym.storage.parquet import ParquetSink
from researchgym.storage.plots import PLOTS, write_plots
from researchgym.storage.profiles import (
    BASELINE,
    VARIANTS,
    Profiles,
    SolverScore,
    Variant,
    performance_profiles,
    read_scores_csv,
)
from researchgym.storage.report import Report, latest_run_id, report
from researchgym.storage.runs import StoredRun, run_state, stored_run
from researchgym.storage.schema import KEYS, SCHEMAS, TableName, column_doc
from researchgym.storage.sink import Sink
from researchgym.storage.views import VIEWS, Dimension, ViewDoc
from researchgym.storage.writer import Writer, WriterStatistics, open_writer

__all__ = [
    "BASELINE",
    "KEYS",
    "PLOTS",
    "SCHEMAS",
    "VARIANTS",
    "VIEWS",
    "ActionDimension",
    "Dimension",
    "DuckDBSink",
    "ParquetSink",
    "Profiles",
    "Report",
    "Sink",
    "SolverScore",
    "StoredRun",
    "TableName",
    "Variant",
    "ViewDoc",
    "Writer",
    "WriterStatistics",
    "actions",
    "best_at_k",
    "column_doc",
    "costs",
    "exit_statuses",
    "failures",
    "latest_run_id",
    "open_database",
    "open_writer",
    "performance_profiles",
    "profile_scores",
    "query",
    "read_scores_csv",
    "report",
    "run_state",
    "solver_name",
    "stored_run",
    "write_plots",
]
