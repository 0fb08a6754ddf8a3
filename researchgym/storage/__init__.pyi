"""The face of ``researchgym.storage``: the names it exports, and their modules.

Type checkers read it, and so does the lazy loader of ``__init__.py``, which imports each
name from its module when it is first used.
"""

from .database import open_database, query
from .duckdb import DuckDBSink
from .parquet import ParquetSink
from .runs import StoredRun, run_state, stored_run
from .schema import KEYS, SCHEMAS, TableName, column_doc
from .sink import READABLE, SINKS, NullSink, Sink, SinkFactory
from .views import VIEWS, Dimension, ViewDoc
from .writer import Writer, WriterStatistics, open_writer

__all__ = [
    "KEYS",
    "READABLE",
    "SCHEMAS",
    "SINKS",
    "VIEWS",
    "Dimension",
    "DuckDBSink",
    "NullSink",
    "ParquetSink",
    "Sink",
    "SinkFactory",
    "StoredRun",
    "TableName",
    "ViewDoc",
    "Writer",
    "WriterStatistics",
    "column_doc",
    "open_database",
    "open_writer",
    "query",
    "run_state",
    "stored_run",
]
