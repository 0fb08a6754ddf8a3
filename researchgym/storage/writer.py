"""The one writer task that owns the sink: rows go in one at a time, Arrow batches come out.

```
async with open_writer(DuckDBSink(path)) as writer:
    writer.write_nowait("events", {"run_id": ..., "episode_id": ..., "seq": 0, ...})
```
"""

from __future__ import annotations

import math
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import anyio
import anyio.lowlevel
import anyio.to_thread
import pyarrow as pa

from researchgym.errors import StorageError
from researchgym.storage.schema import SCHEMAS

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from anyio.abc import TaskStatus

    from researchgym.storage.schema import TableName
    from researchgym.storage.sink import Sink

__all__ = ["Writer", "WriterStatistics", "open_writer"]

_Row = dict[str, Any]
_CONVERSION_ERRORS = (pa.ArrowException, TypeError, ValueError, OverflowError)


@dataclass(frozen=True)
class WriterStatistics:
    """What a writer has done so far (``Writer.statistics()``)."""

    rows_written: int
    """Rows the sink has stored."""
    rows_pending: int
    """Rows accepted and not stored yet: buffered, or being stored right now."""
    batches_written: int
    """Batches handed to the sink (calls of ``Sink.write``)."""
    flushes: int
    """Flushes that had rows to store."""
    rows_escaped: int = 0
    """Rows stored with text escaped that no UTF-8 column can hold (see ``Writer``)."""
    rows_repaired: int = 0
    """Rows stored with a value that did not fit its column replaced (``Writer.problems``)."""
    rows_dropped: int = 0
    """Rows not stored: a value that did not fit a column that cannot be null."""


# Flush policy.
#
# write_nowait is on the engine's hot path (every event, message and tool call goes through
# it), so accepting a row must cost about a microsecond: it checks the row's required columns,
# appends the dict to a plain list per table, and counts. Converting rows to Arrow and storing
# them costs about the same per row in bulk and 100 to 1000 times more one at a time (a DuckDB
# INSERT per row), so rows are only ever stored in batches.
#
# The background task flushes when `batch_rows` rows are buffered (a batch big enough that the
# fixed cost of a flush, a thread hop and a transaction, is noise) or `flush_interval` seconds
# after the first buffered row (so that a quiet run is on disk within a second and a crash loses
# at most that much), whichever comes first. A flush takes every buffered row and hands each
# table's rows to the sink as one batch. A batch costs a statement and a commit whatever its
# size (50 DuckDB inserts of 10,000 rows took 5 times as long as one insert of 500,000, half of
# it in the commits), so when the sink falls behind, batches grow and the writer catches up.
#
# Conversion and Sink.write run in one worker thread (a CapacityLimiter of 1): they block, and
# the event loop must keep serving episodes meanwhile. One thread keeps batches in order and
# keeps the sink single-threaded, as the Sink contract promises. pyarrow holds the GIL while it
# converts rows, so the thread converts `batch_rows` rows at a time and lets the loop run between
# pieces.
#
# Rows count as pending until the sink has stored them, so `max_pending` bounds memory even
# while a slow flush is in flight: then write_nowait raises WouldBlock and write() waits, which
# slows producers to the speed of the disk instead of growing the buffers without limit.
#
# A flush runs under a shielded cancel scope from the moment it takes the rows, and the writer's
# context flushes once more on the way out, however it is left (cancellation and Ctrl-C
# included): rows are stored or reported, never dropped. A failed flush cancels the context and
# comes out of it as StorageError, so that a run never goes on while its records are lost.
#
# A row is not a reason to stop a run. The rows of a run are whatever its models, tools and
# sandboxes said, and some of it no column can hold: a lone surrogate that a model's JSON
# carried ("\ud800"), invalid UTF-8 as bytes, a token count past 64 bits. Checking every value
# in write_nowait would cost more than the rest of it, so the writer checks nothing there and
# repairs a batch only when Arrow fails to convert it: column by column, then value by value in
# the columns that failed, on copies of the rows. Text is stored escaped, losslessly: a lone
# surrogate as the six characters `\ud800`, a byte that is not UTF-8 as `\xff` (rows_escaped).
# Any other value that does not fit is a bug in the code that wrote the row: it is stored as
# its text in a text column, or as null (rows_repaired), and the row is left out only where the
# column cannot be null (rows_dropped). Those are kept in `problems`, and nothing else of the
# run is lost or stopped: one episode's bad row must not cancel its neighbours.
class Writer:
    """Buffers rows and stores them in batches through a sink. Get one from ``open_writer``.

    Rows are dicts keyed by column name. Columns missing from a row are null, and keys that
    are not columns of the table are ignored. Timestamp columns take int microseconds since
    the epoch (pyarrow converts ints to the UTC timestamp type as such) or datetimes (a naive
    datetime is read as UTC). The writer keeps the dict itself until it is stored: do not
    change it after writing it.
    """

    def __init__(
        self, sink: Sink, *, batch_rows: int, flush_interval: float, max_pending: int
    ) -> None:
        self._sink = sink
        self._batch_rows = batch_rows
        self._flush_interval = flush_interval
        self._limit = max_pending
        self._flush_at = min(batch_rows, max_pending)
        self._required = {t: tuple(f.name for f in s if not f.nullable) for t, s in SCHEMAS.items()}
        self._buffers: dict[TableName, list[_Row]] = {table: [] for table in SCHEMAS}
        self._buffered = 0
        self._pending = 0
        self._first_row_at = math.inf
        self._rows_arrived = anyio.Event()
        self._batch_full = anyio.Event()
        self._room: anyio.Event | None = None
        self._flusher_running = False
        self._lock = anyio.Lock()
        self._limiter = anyio.CapacityLimiter(1)
        self._error: StorageError | None = None
        self._closed = False
        self._rows_written = self._batches_written = self._flushes = 0
        self._rows_escaped = self._rows_repaired = self._rows_dropped = 0
        self._problems: list[str] = []

    def write_nowait(self, table: TableName, row: dict[str, Any]) -> None:
        """Accept a row for storage, without waiting.

        Args:
            table: The table the row belongs to.
            row: The row, keyed by column name.

        Raises:
            anyio.WouldBlock: If ``max_pending`` rows are pending already; nothing is written.
            ValueError: If the table does not exist, or the row has no value (or None) for a
                column that cannot be null; nothing is written.
            StorageError: If the writer is closed.
        """
        if self._pending >= self._limit:
            self._refuse()
        try:
            required = self._required[table]
        except KeyError:
            raise ValueError(
                f"There is no table '{table}'. Tables: {', '.join(SCHEMAS)}."
            ) from None
        for name in required:
            if row.get(name) is None:
                raise ValueError(
                    f"Rows of table '{table}' need a value for column '{name}', which cannot be "
                    f"null. The row has: {', '.join(sorted(row))}."
                )
        self._buffers[table].append(row)
        self._pending += 1
        self._buffered += 1
        if self._buffered == 1 or self._buffered == self._flush_at:
            self._wake()

    def _refuse(self) -> NoReturn:
        if self._closed:
            raise StorageError(
                "The writer is closed. Write rows inside `async with open_writer(...)` only."
            )
        raise anyio.WouldBlock

    def _wake(self) -> None:
        if self._buffered == 1:
            self._first_row_at = anyio.current_time()
            self._rows_arrived.set()
        if self._buffered >= self._flush_at:
            self._batch_full.set()

    async def write(self, table: TableName, row: dict[str, Any]) -> None:
        """Accept a row for storage, waiting while ``max_pending`` rows are pending.

        Args:
            table: The table the row belongs to.
            row: The row, keyed by column name.

        Raises:
            ValueError: If the table does not exist, or the row has no value (or None) for a
                column that cannot be null; nothing is written.
            StorageError: If the writer is closed.
        """
        await anyio.lowlevel.checkpoint_if_cancelled()
        await self.room()
        self.write_nowait(table, row)
        await anyio.lowlevel.cancel_shielded_checkpoint()

    async def room(self, rows: int = 1) -> None:
        """Wait until ``write_nowait`` can accept ``rows`` more rows.

        Returns at once, without a checkpoint, while there is room: callers on a hot path
        that write a few rows together wait here once, then write them all without blocking.
        When there is no room and the background flush is not running (it was cancelled, as
        on Ctrl-C), this flushes instead of waiting, so that clean-up code in a shielded
        scope can always record.

        Raises:
            ValueError: If ``rows`` is more than ``max_pending``.
            StorageError: If the writer is closed, or the flush made here failed.
        """
        if rows > self._limit and not self._closed:
            raise ValueError(f"{rows} rows can never fit in max_pending={self._limit}.")
        while self._pending + rows > self._limit:
            if self._closed:
                self._refuse()
            if self._flusher_running:
                if self._room is None:
                    self._room = anyio.Event()
                await self._room.wait()
            else:
                await self.flush()

    async def flush(self) -> None:
        """Store every row accepted so far, and return once the sink has stored them.

        Raises:
            StorageError: If the sink failed to store rows, or rows did not fit the table's
                schema; the message says how many rows were lost.
        """
        async with self._lock:
            taken = self._take()
            with anyio.CancelScope(shield=True):
                await self._store(taken)

    @property
    def error(self) -> StorageError | None:
        """The first storage failure, if any; ``open_writer`` raises it on the way out."""
        return self._error

    @property
    def problems(self) -> tuple[str, ...]:
        """Values that did not fit their columns, and what became of them (the first 100).

        Each is a bug in the code that wrote the row; the run goes on (see the flush policy).
        """
        return tuple(self._problems)

    def statistics(self) -> WriterStatistics:
        """Return what the writer has done so far.

        Returns:
            Counts of rows and batches written and pending, of flushes, and of rows stored
            escaped, repaired or dropped.
        """
        return WriterStatistics(
            rows_written=self._rows_written,
            rows_pending=self._pending,
            batches_written=self._batches_written,
            flushes=self._flushes,
            rows_escaped=self._rows_escaped,
            rows_repaired=self._rows_repaired,
            rows_dropped=self._rows_dropped,
        )

    def _take(self) -> list[tuple[TableName, list[_Row]]]:
        taken = [(table, rows) for table, rows in self._buffers.items() if rows]
        for table, _ in taken:
            self._buffers[table] = []
        self._buffered = 0
        self._first_row_at = math.inf
        self._rows_arrived = anyio.Event()
        self._batch_full = anyio.Event()
        return taken

    async def _store(self, taken: list[tuple[TableName, list[_Row]]]) -> None:
        left = sum(len(rows) for _, rows in taken)
        for table, rows in taken:
            try:
                repair = await anyio.to_thread.run_sync(
                    self._write_table, table, rows, limiter=self._limiter
                )
            except Exception as exc:
                self._settle(left, stored=0, batches=0)
                self._fail(_lost_rows_error(left, table, len(rows), exc), exc)
            stored = len(rows) if repair is None else self._count(repair)
            self._settle(len(rows), stored=stored, batches=int(stored > 0))
            left -= len(rows)
        self._flushes += bool(taken)

    def _write_table(self, table: TableName, rows: list[_Row]) -> _Repair | None:
        """Convert and store a table's rows, repairing them if they do not convert (a thread)."""
        schema = SCHEMAS[table]
        repair = None
        try:
            batch = _to_arrow(rows, schema, step=self._batch_rows)
        except _CONVERSION_ERRORS:
            repair = _repair(table, rows, schema)
            if not repair.rows:
                return repair
            batch = _to_arrow(repair.rows, schema, step=self._batch_rows)
        self._sink.write(table, batch)
        return repair

    def _count(self, repair: _Repair) -> int:
        """Count a repair's rows and keep its problems; return the rows it stored."""
        self._rows_escaped += repair.escaped
        self._rows_repaired += repair.repaired
        self._rows_dropped += repair.dropped
        self._problems.extend(repair.problems[: _MAX_PROBLEMS - len(self._problems)])
        return len(repair.rows)

    def _settle(self, rows: int, *, stored: int, batches: int) -> None:
        self._pending -= rows
        self._rows_written += stored
        self._batches_written += batches
        if self._room is not None:
            self._room.set()
            self._room = None

    def _record(self, error: StorageError, cause: BaseException) -> None:
        error.__cause__ = cause
        if self._error is None:
            self._error = error
        elif error is not self._error:
            self._error.add_note(f"Then: {error}")

    def _fail(self, error: StorageError, cause: BaseException) -> NoReturn:
        self._record(error, cause)
        raise error

    async def _flush_periodically(
        self,
        writer_scope: anyio.CancelScope,
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        task_status.started()
        self._flusher_running = True
        try:
            while True:
                await self._rows_arrived.wait()
                if not self._buffered:
                    continue  # a flush() took the rows in the meantime
                with anyio.CancelScope(deadline=self._first_row_at + self._flush_interval):
                    await self._batch_full.wait()
                try:
                    await self.flush()
                except StorageError:
                    writer_scope.cancel()  # open_writer raises the error it recorded
                    return
        finally:
            self._flusher_running = False

    async def _aclose(self) -> None:
        self._closed = True
        self._limit = 0
        with suppress(StorageError):  # recorded in self._error, raised once the sink is closed
            await self.flush()
        try:
            await anyio.to_thread.run_sync(self._sink.close, limiter=self._limiter)
        except Exception as exc:
            self._record(StorageError(f"Could not close the sink: {exc}"), exc)
        if self._error is not None:
            raise self._error


def _to_arrow(rows: list[_Row], schema: pa.Schema, *, step: int) -> pa.Table:
    # pyarrow holds the GIL while it converts Python objects: converting `step` rows at a time
    # hands the GIL back to the event loop's thread between pieces.
    pieces = [
        pa.Table.from_pylist(rows[i : i + step], schema=schema) for i in range(0, len(rows), step)
    ]
    return pa.concat_tables(pieces)


_MAX_PROBLEMS = 100
"""Problems a writer keeps (``Writer.problems``); it counts them all."""


@dataclass
class _Repair:
    """A batch that did not convert, made to: the rows to store, and what was done to them."""

    rows: list[_Row]
    escaped: int = 0
    repaired: int = 0
    dropped: int = 0
    problems: list[str] = field(default_factory=list)


def _repair(table: TableName, rows: list[_Row], schema: pa.Schema) -> _Repair:
    """Make every value of ``rows`` fit its column (see the flush policy), on copies."""
    fixed = list(rows)
    escaped: set[int] = set()
    repaired: set[int] = set()
    dropped: set[int] = set()
    problems: list[str] = []
    for column in schema:
        if _conversion_error([row.get(column.name) for row in fixed], column.type) is None:
            continue
        for i, row in enumerate(fixed):
            value = row.get(column.name)
            error = None if i in dropped else _conversion_error([value], column.type)
            if error is None:
                continue
            fitted = _escaped(value, column.type)
            if fitted is not None:
                escaped.add(i)
            else:
                fitted = _fitted(value, column)
                problems.append(
                    _text(f"table '{table}', column '{column.name}' = {value!r:.80} ({error}): ")
                    + _became(fitted)
                )
                (dropped if fitted is _UNFIT else repaired).add(i)
            fixed[i] = {**row, column.name: fitted}
    return _Repair(
        rows=[row for i, row in enumerate(fixed) if i not in dropped],
        escaped=len(escaped - repaired - dropped),
        repaired=len(repaired - dropped),
        dropped=len(dropped),
        problems=problems,
    )


_UNFIT = object()
"""What a value of a column that cannot be null becomes when nothing of it fits."""


def _became(fitted: Any) -> str:
    if fitted is _UNFIT:
        return "the row was left out (the column cannot be null)"
    return "stored as null" if fitted is None else "stored as its text"


def _escaped(value: Any, type_: pa.DataType) -> str | None:
    """Text that could not be stored, escaped so that it can; None if it is not text."""
    if not pa.types.is_string(type_):
        return None
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return None


def _fitted(value: Any, column: pa.Field) -> Any:
    """A value of the wrong kind: its text in a text column, else null, else ``_UNFIT``."""
    if pa.types.is_string(column.type):
        return _text(str(value))
    return None if column.nullable else _UNFIT


def _text(value: str) -> str:
    r"""``value`` with what UTF-8 cannot encode (lone surrogates) escaped: ``\ud800``."""
    return value.encode("utf-8", "backslashreplace").decode()


def _conversion_error(values: list[Any], type_: pa.DataType) -> Exception | None:
    try:
        pa.array(values, type=type_)
    except _CONVERSION_ERRORS as exc:
        return exc
    return None


def _lost_rows_error(lost: int, table: TableName, batch: int, cause: Exception) -> StorageError:
    return StorageError(
        f"Lost {lost} rows: storing a batch of {batch} '{table}' rows failed: {cause}"
    )


@asynccontextmanager
async def open_writer(
    sink: Sink,
    *,
    batch_rows: int = 10_000,
    flush_interval: float = 1.0,
    max_pending: int = 200_000,
) -> AsyncIterator[Writer]:
    """Start the writer task that owns ``sink``; on the way out, store every row and close it.

    Args:
        sink: Where batches go. The writer closes it.
        batch_rows: Flush once this many rows are buffered. Rows are also converted to Arrow
            this many at a time, which bounds how long the event loop waits for the GIL.
        flush_interval: Flush at the latest this many seconds after the first buffered row.
        max_pending: Rows accepted but not yet stored, at most; ``write_nowait`` raises
            WouldBlock and ``write`` waits beyond it.

    Yields:
        The writer.

    Raises:
        ValueError: If a setting is out of range.
        StorageError: If rows could not be stored or the sink could not be closed. A flush
            that fails in the background cancels the ``async with`` body first.
    """
    _check_settings(batch_rows=batch_rows, flush_interval=flush_interval, max_pending=max_pending)
    writer = Writer(
        sink, batch_rows=batch_rows, flush_interval=flush_interval, max_pending=max_pending
    )
    body_error: BaseException | None = None
    try:
        async with anyio.create_task_group() as tg:
            await tg.start(writer._flush_periodically, tg.cancel_scope)
            try:
                yield writer
            except BaseException as exc:
                if isinstance(exc, anyio.get_cancelled_exc_class()):
                    raise
                body_error = exc  # raised below as is, not wrapped in an ExceptionGroup
            finally:
                tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            try:
                await writer._aclose()
            except StorageError as exc:
                if body_error is not None and body_error is not exc:
                    exc.__context__ = body_error
                raise
    if body_error is not None:
        raise body_error


def _check_settings(*, batch_rows: int, flush_interval: float, max_pending: int) -> None:
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be at least 1, not {batch_rows}.")
    if not flush_interval > 0:
        raise ValueError(f"flush_interval must be more than 0 seconds, not {flush_interval}.")
    if max_pending < 1:
        raise ValueError(f"max_pending must be at least 1, not {max_pending}.")
