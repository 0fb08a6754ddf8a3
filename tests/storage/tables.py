"""Rows for every table, and what DuckDB should say about each table, written out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from researchgym.storage import SCHEMAS, TableName

if TYPE_CHECKING:
    import duckdb

# The DuckDB type each Arrow type of the schemas must become: spelled out here rather than
# taken from the code under test.
DUCKDB_TYPES = {
    pa.string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.timestamp("us", tz="UTC"): "TIMESTAMP WITH TIME ZONE",
}
T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _value(field: pa.Field, i: int) -> Any:
    if field.type == pa.string():
        return f"{field.name}-{i} it's"
    if field.type == pa.int64():
        return 2**40 + i
    if field.type == pa.float64():
        return 0.25 + i
    if field.type == pa.bool_():
        return i % 2 == 0
    return T0 + timedelta(seconds=i)


def sample_rows(table: TableName) -> list[dict[str, Any]]:
    """Two rows of two runs: one with every column set, one with only the required ones."""
    full = {field.name: _value(field, 0) for field in SCHEMAS[table]}
    sparse = {
        field.name: _value(field, 1) if not field.nullable else None for field in SCHEMAS[table]
    }
    full["run_id"], sparse["run_id"] = "run-a", "run-b"
    return [full, sparse]


def sample_batch(table: TableName) -> pa.Table:
    return pa.Table.from_pylist(sample_rows(table), schema=SCHEMAS[table])


def expected_columns(table: TableName) -> list[tuple[str, str, str]]:
    """(name, DuckDB type, doc) of each column, in schema order."""
    return [
        (field.name, DUCKDB_TYPES[field.type], field.metadata[b"doc"].decode())
        for field in SCHEMAS[table]
    ]


def actual_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str, str]]:
    rows = con.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() "
        "WHERE table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    return [(str(name), str(type_), str(comment)) for name, type_, comment in rows]


def read_back(con: duckdb.DuckDBPyConnection, table: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        con.sql(f"SELECT * FROM {table} ORDER BY run_id").to_arrow_table().to_pylist()
    )
    return rows
