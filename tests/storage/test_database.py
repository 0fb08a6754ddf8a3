from __future__ import annotations

import re
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pytest

from researchgym.errors import DatabaseLockedError, QueryError, StorageError
from researchgym.storage import (
    SCHEMAS,
    DuckDBSink,
    ParquetSink,
    TableName,
    open_database,
    query,
)
from tests.storage.conftest import corrupt_message
from tests.storage.tables import actual_columns, expected_columns, sample_batch

if TYPE_CHECKING:
    from pathlib import Path

    from tests.storage.conftest import Held


@pytest.mark.parametrize("name", ["missing.duckdb", "parquet"])
def test_nothing_at_the_target_raises_storage_error(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    with pytest.raises(StorageError) as caught:
        open_database(target)
    assert re.fullmatch(
        re.escape(
            f"There is no database at {target} yet. `researchgym run` creates it; pass --db "
            "to read another one."
        ),
        str(caught.value),
    )
    assert not target.exists()


def test_an_empty_parquet_root_has_every_table_empty(tmp_path: Path) -> None:
    with open_database(tmp_path) as con:
        for table in SCHEMAS:
            assert actual_columns(con, table) == expected_columns(table)
            assert query(con, f"SELECT * FROM {table}").num_rows == 0


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_a_parquet_view_has_the_schema_column_order(tmp_path: Path, table: TableName) -> None:
    ParquetSink(tmp_path).write(table, sample_batch(table))
    with open_database(tmp_path) as con:
        assert query(con, f"SELECT * FROM {table}").column_names == SCHEMAS[table].names


def test_a_parquet_view_sees_files_written_after_opening(tmp_path: Path) -> None:
    sink = ParquetSink(tmp_path)
    sink.write("scores", sample_batch("scores"))
    with open_database(tmp_path) as con:
        sink.write("scores", sample_batch("scores"))
        assert query(con, "SELECT count(*) AS n FROM scores").to_pylist() == [{"n": 4}]


def test_a_file_opens_read_only_by_default(tmp_path: Path) -> None:
    path = tmp_path / "db.duckdb"
    DuckDBSink(path).close()
    with open_database(path) as con, pytest.raises(QueryError, match="read-only"):
        query(con, "DELETE FROM runs")
    with open_database(path, read_only=False) as con:
        assert query(con, "DELETE FROM runs").num_rows == 1


def test_a_held_file_raises_database_locked_error(held_database: Held) -> None:
    with pytest.raises(DatabaseLockedError) as caught:
        open_database(held_database.path)
    assert re.fullmatch(held_database.message(), str(caught.value))


def test_a_corrupt_file_raises_storage_error(corrupt_database: Path) -> None:
    with pytest.raises(StorageError) as caught:
        open_database(corrupt_database)
    assert re.fullmatch(corrupt_message(corrupt_database), str(caught.value))


def test_query_returns_arrow(tmp_path: Path) -> None:
    ParquetSink(tmp_path).write("events", sample_batch("events"))
    with open_database(tmp_path) as con:
        result = query(con, "SELECT run_id, seq FROM events ORDER BY run_id")
    assert result.schema == pa.schema([("run_id", pa.string()), ("seq", pa.int64())])
    assert result.to_pylist() == [
        {"run_id": "run-a", "seq": 2**40},
        {"run_id": "run-b", "seq": 2**40 + 1},
    ]


@pytest.mark.parametrize(
    "sql", ["SELEC 1", "SELECT * FROM no_such_table", "SELECT no_such_column FROM runs"]
)
def test_query_error_carries_duckdbs_message(tmp_path: Path, sql: str) -> None:
    with open_database(tmp_path) as con:
        with pytest.raises(duckdb.Error) as duck:
            con.sql(sql)
        with pytest.raises(QueryError) as caught:
            query(con, sql)
    assert caught.value.sql == sql
    assert caught.value.message == str(duck.value)
    assert str(caught.value) == f"The query failed: {duck.value}"
    assert caught.value.__cause__ is not None
