from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pytest

from researchgym.errors import DatabaseLockedError, StorageError
from researchgym.storage import SCHEMAS, DuckDBSink, TableName, open_database, query
from tests.storage.conftest import corrupt_message
from tests.storage.tables import (
    T0,
    actual_columns,
    expected_columns,
    read_back,
    sample_batch,
    sample_rows,
)

if TYPE_CHECKING:
    from pathlib import Path

    from tests.storage.conftest import Held


def test_opening_creates_the_folder_and_every_table(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "deeper" / "researchgym.duckdb"
    DuckDBSink(path).close()
    with duckdb.connect(str(path), read_only=True) as con:
        for table in SCHEMAS:
            assert actual_columns(con, table) == expected_columns(table)
            not_null = con.execute(
                "SELECT column_name FROM duckdb_columns() "
                "WHERE table_name = ? AND NOT is_nullable ORDER BY column_index",
                [table],
            ).fetchall()
            assert [name for (name,) in not_null] == [
                field.name for field in SCHEMAS[table] if not field.nullable
            ]


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_every_table_round_trips(tmp_path: Path, table: TableName) -> None:
    path = tmp_path / "db.duckdb"
    sink = DuckDBSink(path)
    sink.write(table, sample_batch(table))
    sink.close()
    with open_database(path) as con:
        assert read_back(con, table) == sample_rows(table)
        assert actual_columns(con, table) == expected_columns(table)


def test_reopening_keeps_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "db.duckdb"
    for _ in range(2):
        sink = DuckDBSink(path)
        sink.write("scores", sample_batch("scores"))
        sink.close()
    with open_database(path) as con:
        assert len(read_back(con, "scores")) == 4


def test_a_batch_that_breaks_a_constraint_is_not_stored_at_all(tmp_path: Path) -> None:
    path = tmp_path / "db.duckdb"
    sink = DuckDBSink(path)
    rows = sample_rows("events")
    rows[1]["kind"] = None
    batch = pa.Table.from_pylist(rows, schema=SCHEMAS["events"])
    with pytest.raises(StorageError, match=r"^Cannot store 2 rows in table 'events' of .*NOT NULL"):
        sink.write("events", batch)
    sink.close()
    with open_database(path) as con:
        assert read_back(con, "events") == []


def test_writing_after_close_raises_storage_error(tmp_path: Path) -> None:
    sink = DuckDBSink(tmp_path / "db.duckdb")
    sink.close()
    sink.close()
    with pytest.raises(StorageError, match=r"^Cannot store 2 rows in table 'runs'"):
        sink.write("runs", sample_batch("runs"))


def test_a_file_held_by_another_process_raises_database_locked_error(
    held_database: Held,
) -> None:
    with pytest.raises(DatabaseLockedError) as caught:
        DuckDBSink(held_database.path)
    assert caught.value.holder == f"PID {held_database.pid}"
    assert re.fullmatch(held_database.message(), str(caught.value))


def test_a_corrupt_file_raises_storage_error(corrupt_database: Path) -> None:
    with pytest.raises(StorageError) as caught:
        DuckDBSink(corrupt_database)
    assert re.fullmatch(corrupt_message(corrupt_database), str(caught.value))
    assert isinstance(caught.value.__cause__, duckdb.Error)


def test_a_folder_that_cannot_be_created_raises_storage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(
        StorageError, match=rf"^Cannot create the folder {re.escape(str(tmp_path))}"
    ):
        DuckDBSink(tmp_path / "file" / "db.duckdb")


def episode_row(status: str, recorded: int, **more: object) -> dict[str, object]:
    return {
        "run_id": "r",
        "episode_id": "e1",
        "exit_status": status,
        "recorded_at": T0 + timedelta(seconds=recorded),
        **more,
    }


def batch_of(table: TableName, rows: list[dict[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SCHEMAS[table])


def test_a_keyed_row_written_again_is_one_row_the_last(tmp_path: Path) -> None:
    path = tmp_path / "db.duckdb"
    sink = DuckDBSink(path)
    sink.write("episodes", batch_of("episodes", [episode_row("running", 0)]))
    other = episode_row("running", 1, episode_id="e2")
    sink.write("episodes", batch_of("episodes", [episode_row("submitted", 2, steps=5), other]))
    # one batch holding a key twice: the later row wins
    sink.write(
        "runs", batch_of("runs", [{"run_id": "r", "status": s} for s in ("running", "failed")])
    )
    sink.close()
    with open_database(path) as con:
        rows = query(con, "SELECT episode_id, exit_status, steps FROM episodes ORDER BY 1")
        assert rows.to_pylist() == [
            {"episode_id": "e1", "exit_status": "submitted", "steps": 5},
            {"episode_id": "e2", "exit_status": "running", "steps": None},
        ]
        assert query(con, "SELECT status FROM runs").to_pylist() == [{"status": "failed"}]


def test_a_database_of_an_older_researchgym_gains_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:  # the runs table as it was before resuming existed
        con.execute(
            "CREATE TABLE runs (run_id VARCHAR NOT NULL, started_at TIMESTAMPTZ, ended_at "
            "TIMESTAMPTZ, status VARCHAR, episodes BIGINT, config VARCHAR, version VARCHAR)"
        )
        con.execute("INSERT INTO runs (run_id, status) VALUES ('old', 'completed')")
    sink = DuckDBSink(path)
    sink.write("runs", batch_of("runs", [{"run_id": "new", "status": "running", "pid": 7}]))
    sink.close()
    with duckdb.connect(str(path), read_only=True) as con:
        assert actual_columns(con, "runs") == expected_columns("runs")
        assert con.sql("SELECT run_id, status, pid FROM runs ORDER BY 1").fetchall() == [
            ("new", "running", 7),
            ("old", "completed", None),
        ]
