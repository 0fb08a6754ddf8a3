"""``check_sink``: whether a sink keeps the ``Sink`` contract.

What the writer relies on: a sink opens under a path, stores a batch of every table (each
with exactly the columns of ``SCHEMAS``), stores a keyed table's row written twice as its
last version, closes (twice, harmlessly), and says ``StorageError`` where it cannot store.
A sink researchgym reads back (``READABLE``) must give every row back as it was written.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from researchgym.errors import StorageError
from researchgym.storage import KEYS, READABLE, SCHEMAS, SINKS, open_database, query
from researchgym.testing.base import expect

if TYPE_CHECKING:
    from researchgym.storage import Sink, SinkFactory, TableName

__all__ = ["check_sink", "sample_batch"]

_SAMPLE: dict[str, Any] = {
    "string": "rgym é \u2028 [x]",
    "int64": 7,
    "double": 0.5,
    "bool": True,
    "timestamp[us, tz=UTC]": dt.datetime(2026, 12, 3, 12, 0, 0, 123456, tzinfo=dt.UTC),
}
"""A value of each column type the schemas use (text that JSON and SQL must not mangle)."""


def sample_batch(table: TableName, *, run_id: str, **values: Any) -> pa.Table:
    """One row of ``table`` with a value in every column (``values`` override them)."""
    schema = SCHEMAS[table]
    row = {f.name: values.get(f.name, _SAMPLE[str(f.type)]) for f in schema}
    row["run_id"] = run_id
    return pa.Table.from_pylist([row], schema=schema)


def check_sink(backend: str | SinkFactory, *, folder: Path | None = None) -> None:
    """Store a batch of every table through ``backend`` and check what every sink must do.

    Blocking (a sink is called from the writer's thread): call it from a thread in async code.

    Args:
        backend: A name of ``SINKS`` (a plug-in's, ``module:attribute``) or a sink factory.
        folder: Where to store (default: a temporary folder, removed after).

    Raises:
        ConformanceError: Naming the first promise the sink breaks.
    """
    name = backend if isinstance(backend, str) else getattr(backend, "__name__", repr(backend))
    component = f"sink '{name}'"
    factory = SINKS.get(backend) if isinstance(backend, str) else backend
    with tempfile.TemporaryDirectory(prefix="rgym-check-") as scratch:
        root = folder or Path(scratch)
        _refuses_with_storage_error(factory, root, component)
        target = root / "store"
        sink = factory(target)
        written = _write_every_table(sink, component)
        sink.close()
        sink.close()  # twice: nothing happens
        if name in READABLE:
            _reads_back(target, written, component)


def _refuses_with_storage_error(factory: SinkFactory, root: Path, component: str) -> None:
    blocker = root / "a-file"
    blocker.write_text("not a folder")
    try:
        sink = factory(blocker / "store")
        sink.write("runs", sample_batch("runs", run_id="refused"))
        sink.close()
    except StorageError:
        return
    except Exception as e:
        expect(False, component, f"a store it cannot create raises StorageError, not {e!r}")
    expect(False, component, "a store it cannot create (under a file) raises StorageError")


def _write_every_table(sink: Sink, component: str) -> dict[str, dict[str, Any]]:
    written: dict[str, dict[str, Any]] = {}
    for table in SCHEMAS:
        batch = sample_batch(table, run_id="check")
        try:
            sink.write(table, batch)
        except Exception as e:
            expect(False, component, f"it stores a batch of {table}: it raised {e!r}")
        written[table] = batch.to_pylist()[0]
    for table in KEYS:  # a keyed row written again: the last version counts
        later = _SAMPLE["timestamp[us, tz=UTC]"] + dt.timedelta(seconds=1)
        batch = sample_batch(
            table, run_id="check", status="ended", exit_status="ended", recorded_at=later
        )
        sink.write(table, batch)
        written[table] = batch.to_pylist()[0]
    return written


def _reads_back(target: Path, written: dict[str, dict[str, Any]], component: str) -> None:
    with open_database(target) as con:
        for table, row in written.items():
            stored = query(con, f"SELECT * FROM {table}").to_pylist()  # our own table names
            expect(
                stored == [row],
                component,
                f"{table} reads back the row written last (got {stored!r}, wrote {row!r})",
            )
