"""The contract of a place where the writer stores batches of rows, and the sinks by name.

``SINKS`` holds every sink by the name a run configuration's ``storage.format`` gives: a
callable ``(path) -> Sink`` (a ``Sink`` class taking the path is one). Built in: ``duckdb``
and ``parquet``, which ``researchgym report``, ``sql`` and ``researchgym.run`` read back;
plug-ins add theirs by entry points of the group ``researchgym.sinks``, and
``researchgym.testing.check_sink`` says whether one keeps the contract.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from researchgym.plugins import Registry

if TYPE_CHECKING:
    import pyarrow as pa

    from researchgym.storage.schema import TableName

__all__ = ["READABLE", "SINKS", "NullSink", "Sink", "SinkFactory"]


class Sink(ABC):
    """Where batches of rows go: a DuckDB file, Parquet files, or a test double.

    The writer calls a sink from its worker thread, one call at a time, so an implementation
    may block and needs no locking of its own. It never calls the sink from the event loop.
    """

    @abstractmethod
    def write(self, table: TableName, batch: pa.Table) -> None:
        """Store a batch of rows of one table, all of them or none.

        Args:
            table: The table the rows belong to.
            batch: The rows, with exactly the columns of ``SCHEMAS[table]``, in that order.

        Raises:
            StorageError: If the batch cannot be stored (disk full, the file vanished, a
                constraint of the table failed). Any other exception is a bug in the sink; the
                writer reports it as a StorageError too.
        """

    @abstractmethod
    def close(self) -> None:
        """Release the sink's resources after the last write. Closing twice does nothing.

        Raises:
            StorageError: If what was written cannot be made durable.
        """


class NullSink(Sink):
    """Keeps nothing: for an environment whose episode nobody asked to store."""

    def write(self, table: TableName, batch: pa.Table) -> None:
        """Drop the batch."""

    def close(self) -> None:
        """Nothing to release."""


SinkFactory = Callable[[Path], Sink]
"""Opens a sink storing under a path (a file or a folder, as the sink likes)."""

SINKS = Registry[SinkFactory](
    "sink", "researchgym.sinks", accepts=callable, expected="a callable (path) -> Sink"
)
"""Every sink by name: built in (duckdb, parquet), and from plug-ins."""
SINKS.add("duckdb", "researchgym.storage.duckdb:DuckDBSink")
SINKS.add("parquet", "researchgym.storage.parquet:ParquetSink")

READABLE = frozenset({"duckdb", "parquet"})
"""The formats researchgym reads back (reports, SQL, resume); a plug-in sink only writes."""
