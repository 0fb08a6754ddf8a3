from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import anyio
import anyio.from_thread
import anyio.to_thread
import pytest

from researchgym.errors import StorageError
from researchgym.storage import (
    DuckDBSink,
    Sink,
    TableName,
    WriterStatistics,
    open_database,
    open_writer,
    query,
)

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
T0_US = (T0 - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


class RecordingSink(Sink):
    """Keeps every batch in memory; can hold writes at a gate, or fail them."""

    def __init__(self, *, fail: Exception | None = None) -> None:
        self.batches: list[tuple[TableName, pa.Table]] = []
        self.closed = False
        self.fail = fail
        self.gate = threading.Event()
        self.gate.set()
        self.wrote = anyio.Event()
        """Set after the next batch is recorded."""

    def write(self, table: TableName, batch: pa.Table) -> None:
        assert self.gate.wait(timeout=10), "the test never opened the gate"
        if self.fail is not None:
            raise self.fail
        self.batches.append((table, batch))
        anyio.from_thread.run_sync(self._signal)

    def _signal(self) -> None:
        self.wrote.set()
        self.wrote = anyio.Event()

    def close(self) -> None:
        self.closed = True

    def sizes(self) -> list[tuple[TableName, int]]:
        return [(table, batch.num_rows) for table, batch in self.batches]

    def rows(self) -> list[dict[str, Any]]:
        return [row for _, batch in self.batches for row in batch.to_pylist()]


def _event(seq: int, /, **changes: Any) -> dict[str, Any]:
    row = {"run_id": "run", "episode_id": "ep", "seq": seq, "ts": T0_US + seq, "kind": "step"}
    return row | changes


async def test_flushes_once_batch_rows_are_pending() -> None:
    sink = RecordingSink()
    async with open_writer(sink, batch_rows=10, flush_interval=3600) as writer:
        for seq in range(9):
            writer.write_nowait("events", _event(seq))
        await anyio.wait_all_tasks_blocked()
        assert sink.batches == []
        wrote = sink.wrote
        writer.write_nowait("events", _event(9))
        with anyio.fail_after(5):
            await wrote.wait()
        assert sink.sizes() == [("events", 10)]


async def test_flushes_flush_interval_after_the_first_pending_row() -> None:
    sink = RecordingSink()
    async with open_writer(sink, batch_rows=1000, flush_interval=0.05) as writer:
        for seq in range(2):
            wrote = sink.wrote
            start = anyio.current_time()
            writer.write_nowait("events", _event(seq))
            with anyio.fail_after(5):
                await wrote.wait()
            assert anyio.current_time() - start >= 0.05
        assert sink.sizes() == [("events", 1), ("events", 1)]


async def test_flush_stores_each_tables_rows_in_one_batch() -> None:
    sink = RecordingSink()
    async with open_writer(sink, batch_rows=10, flush_interval=3600) as writer:
        for seq in range(25):
            writer.write_nowait("events", _event(seq))
        writer.write_nowait("runs", {"run_id": "run"})
        await writer.flush()
        assert sink.sizes() == [("runs", 1), ("events", 25)]
        assert writer.statistics() == WriterStatistics(
            rows_written=26, rows_pending=0, batches_written=2, flushes=1
        )
    assert [row["seq"] for row in sink.rows()[1:]] == list(range(25))


async def test_a_steady_stream_is_stored_in_few_batches() -> None:
    sink = RecordingSink()
    async with open_writer(sink, batch_rows=100, flush_interval=3600) as writer:
        for seq in range(1000):
            await writer.write("events", _event(seq))
    assert [row["seq"] for row in sink.rows()] == list(range(1000))
    assert len(sink.batches) <= 10
    statistics = writer.statistics()
    assert statistics.rows_written == 1000
    assert statistics.rows_pending == 0
    assert statistics.batches_written == len(sink.batches)
    assert 1 <= statistics.flushes <= len(sink.batches)
    assert sink.closed


async def test_write_nowait_raises_would_block_and_write_waits_at_max_pending() -> None:
    sink = RecordingSink()
    sink.gate.clear()
    accepted = anyio.Event()
    async with open_writer(sink, batch_rows=100, flush_interval=3600, max_pending=5) as writer:

        async def write_sixth() -> None:
            await writer.write("events", _event(5))
            accepted.set()

        for seq in range(5):
            writer.write_nowait("events", _event(seq))
        with pytest.raises(anyio.WouldBlock):
            writer.write_nowait("events", _event(5))
        async with anyio.create_task_group() as tg:
            tg.start_soon(write_sixth)
            await anyio.wait_all_tasks_blocked()
            assert not accepted.is_set()
            assert writer.statistics().rows_pending == 5
            sink.gate.set()
            with anyio.fail_after(5):
                await accepted.wait()
        assert writer.statistics() == WriterStatistics(
            rows_written=5, rows_pending=1, batches_written=1, flushes=1
        )
    assert [row["seq"] for row in sink.rows()] == list(range(6))


@pytest.mark.parametrize(
    ("table", "row", "message"),
    [
        (
            "events",
            {"run_id": "run", "episode_id": "ep", "seq": 1, "ts": 0},
            "Rows of table 'events' need a value for column 'kind', which cannot be null. "
            "The row has: episode_id, run_id, seq, ts.",
        ),
        (
            "events",
            _event(1, seq=None),
            "Rows of table 'events' need a value for column 'seq', which cannot be null. "
            "The row has: episode_id, kind, run_id, seq, ts.",
        ),
        (
            "event",
            _event(1),
            "There is no table 'event'. Tables: runs, episodes, agents, events, messages, "
            "llm_calls, tool_calls, scores.",
        ),
    ],
)
async def test_a_bad_row_is_rejected_at_once(
    table: TableName, row: dict[str, Any], message: str
) -> None:
    sink = RecordingSink()
    async with open_writer(sink) as writer:
        writer.write_nowait("events", _event(0))
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            writer.write_nowait(table, row)
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            await writer.write(table, row)
        assert writer.statistics().rows_pending == 1
    assert sink.sizes() == [("events", 1)]


def _stored(path: Path, statement: str) -> list[dict[str, Any]]:
    with open_database(path) as con:
        rows: list[dict[str, Any]] = query(con, statement).to_pylist()
    return rows


async def test_text_no_column_can_hold_is_stored_escaped(tmp_path: Path) -> None:
    path = tmp_path / "db.duckdb"
    sink = await anyio.to_thread.run_sync(DuckDBSink, path)
    async with open_writer(sink, flush_interval=3600) as writer:
        writer.write_nowait("events", _event(0, payload="a lone \ud800 and \udfff"))
        writer.write_nowait("events", _event(1, payload=b"not UTF-8: caf\xe9"))
        writer.write_nowait("events", _event(2, payload="NUL \x00 as it is", agent="\ud83d"))
        writer.write_nowait("events", _event(3, payload="plain"))
        await writer.flush()
        assert writer.statistics() == WriterStatistics(
            rows_written=4, rows_pending=0, batches_written=1, flushes=1, rows_escaped=3
        )
        assert writer.problems == ()
    stored = await anyio.to_thread.run_sync(_stored, path, "SELECT agent, payload FROM events")
    assert stored == [
        {"agent": None, "payload": "a lone \\ud800 and \\udfff"},
        {"agent": None, "payload": "not UTF-8: caf\\xe9"},
        {"agent": "\\ud83d", "payload": "NUL \x00 as it is"},
        {"agent": None, "payload": "plain"},
    ]


async def test_values_that_do_not_fit_are_repaired_and_the_run_goes_on() -> None:
    sink = RecordingSink()
    async with open_writer(sink, flush_interval=3600) as writer:
        writer.write_nowait("events", _event(0))
        writer.write_nowait("events", _event(1, seq="one"))  # cannot be null: left out
        writer.write_nowait("events", _event(2, cause_seq=2**64))  # stored as null
        writer.write_nowait("events", _event(3, payload={"a": "\ud800"}))  # stored as its text
        await writer.flush()
        writer.write_nowait("events", _event(4))  # the writer goes on
    assert [(row["seq"], row["cause_seq"], row["payload"]) for row in sink.rows()] == [
        (0, None, None),
        (2, None, None),
        (3, None, "{'a': '\\ud800'}"),
        (4, None, None),
    ]
    assert writer.statistics() == WriterStatistics(
        rows_written=4,
        rows_pending=0,
        batches_written=2,
        flushes=2,
        rows_repaired=2,
        rows_dropped=1,
    )
    assert [re.sub(r" \(.*\): ", " (...): ", problem) for problem in writer.problems] == [
        "table 'events', column 'seq' = 'one' (...): the row was left out (the column cannot "
        "be null)",
        "table 'events', column 'cause_seq' = 18446744073709551616 (...): stored as null",
        "table 'events', column 'payload' = {'a': '\\ud800'} (...): stored as its text",
    ]
    assert writer.error is None


async def test_a_failing_sink_ends_the_context_with_storage_error() -> None:
    sink = RecordingSink(fail=StorageError("disk full"))
    with anyio.fail_after(5), pytest.raises(StorageError) as caught:
        async with open_writer(sink, batch_rows=3, flush_interval=3600) as writer:
            writer.write_nowait("scores", {"run_id": "run", "episode_id": "ep", "seq": 0})
            for seq in range(2):
                writer.write_nowait("events", _event(seq))
            await anyio.sleep_forever()
    assert str(caught.value) == "Lost 3 rows: storing a batch of 2 'events' rows failed: disk full"
    assert caught.value.__cause__ is sink.fail
    assert sink.closed


def _count_events(path: Path) -> list[dict[str, Any]]:
    with open_database(path) as con:
        counts = query(con, "SELECT count(*) AS n, count(DISTINCT seq) AS seqs FROM events")
    rows: list[dict[str, Any]] = counts.to_pylist()
    return rows


async def test_leaving_by_cancellation_stores_every_pending_row(tmp_path: Path) -> None:
    path = tmp_path / "db.duckdb"
    sink = await anyio.to_thread.run_sync(DuckDBSink, path)
    with anyio.CancelScope() as scope:
        async with open_writer(sink, flush_interval=3600) as writer:
            for seq in range(1000):
                writer.write_nowait("events", _event(seq))
            scope.cancel()
            await anyio.sleep_forever()
    assert scope.cancelled_caught
    assert await anyio.to_thread.run_sync(_count_events, path) == [{"n": 1000, "seqs": 1000}]


async def test_a_flush_in_flight_when_cancelled_is_finished() -> None:
    sink = RecordingSink()
    sink.gate.clear()
    with anyio.CancelScope() as scope:
        async with open_writer(sink, batch_rows=5, flush_interval=3600) as writer:
            for seq in range(7):
                writer.write_nowait("events", _event(seq))
            await anyio.wait_all_tasks_blocked()
            assert writer.statistics().rows_pending == 7
            writer.write_nowait("events", _event(7))
            scope.cancel()
            sink.gate.set()
            await anyio.sleep_forever()
    assert [row["seq"] for row in sink.rows()] == list(range(8))
    assert sink.sizes() == [("events", 7), ("events", 1)]


async def test_an_error_in_the_body_comes_out_as_is_after_the_rows_are_stored() -> None:
    sink = RecordingSink()
    with pytest.raises(RuntimeError, match=r"^boom$"):
        async with open_writer(sink, flush_interval=3600) as writer:
            writer.write_nowait("events", _event(0))
            raise RuntimeError("boom")
    assert sink.sizes() == [("events", 1)]
    assert sink.closed


async def test_timestamps_may_be_microseconds_or_datetimes() -> None:
    sink = RecordingSink()
    async with open_writer(sink) as writer:
        writer.write_nowait("events", _event(0, ts=T0_US))
        writer.write_nowait("events", _event(1, ts=T0))
    assert [row["ts"] for row in sink.rows()] == [T0, T0]


async def test_a_closed_writer_refuses_rows() -> None:
    async with open_writer(RecordingSink()) as writer:
        pass
    message = "The writer is closed. Write rows inside `async with open_writer(...)` only."
    with pytest.raises(StorageError, match=f"^{re.escape(message)}$"):
        writer.write_nowait("events", _event(0))


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"batch_rows": 0}, "batch_rows must be at least 1, not 0."),
        ({"flush_interval": 0.0}, "flush_interval must be more than 0 seconds, not 0.0."),
        ({"max_pending": 0}, "max_pending must be at least 1, not 0."),
    ],
)
async def test_settings_out_of_range_raise_value_error(
    setting: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        async with open_writer(RecordingSink(), **setting):
            pass


async def test_room_returns_at_once_while_there_is_room() -> None:
    sink = RecordingSink()
    async with open_writer(sink, batch_rows=100, flush_interval=3600, max_pending=3) as writer:
        writer.write_nowait("events", _event(0))
        await writer.room(2)  # fits: no wait, no flush
        assert writer.statistics().rows_pending == 1
        with pytest.raises(ValueError, match=r"^4 rows can never fit in max_pending=3\.$"):
            await writer.room(4)


async def test_room_flushes_itself_once_the_background_flush_is_gone() -> None:
    sink = RecordingSink()
    with anyio.CancelScope() as outer:
        async with open_writer(sink, batch_rows=100, flush_interval=3600, max_pending=2) as writer:
            writer.write_nowait("events", _event(0))
            writer.write_nowait("events", _event(1))
            outer.cancel()  # Ctrl-C: the writer's flush task is cancelled too
            with anyio.CancelScope(shield=True), anyio.fail_after(5):
                await anyio.wait_all_tasks_blocked()
                await writer.room(1)  # clean-up code: must not wait for a flush that is gone
                writer.write_nowait("events", _event(2))
            assert sink.sizes() == [("events", 2)]
    assert [row["seq"] for row in sink.rows()] == [0, 1, 2]
