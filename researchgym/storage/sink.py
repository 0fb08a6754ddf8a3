"""The contract of a place where the writer stores batches of rows."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

    from researchgym.storage.schema import TableName

__all__ = ["NullSink", "Sink"]


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
