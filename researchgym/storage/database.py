"""The read side: open what a sink wrote as one DuckDB database, and query it.

``open_database`` takes either sink's output. A DuckDB file is opened as is. A Parquet root
becomes an in-memory database with one view per table over that table's files, so the same
SQL runs against both. Either way the connection also has the metric views and macros of
``views.py`` (``episode_results``, ``best_at_k(k)``, ...)::

    con = open_database(Path("runs/researchgym.duckdb"))
    query(con, "SELECT kind, count(*) FROM events GROUP BY kind")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from researchgym.errors import QueryError, StorageError
from researchgym.storage.duckdb import (
    comment_sql,
    connect_file,
    create_table_sql,
    sql_identifier,
    sql_literal,
)
from researchgym.storage.schema import SCHEMAS
from researchgym.storage.views import create_views

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from researchgym.storage.schema import TableName

__all__ = ["has_run", "open_database", "query"]


def open_database(target: Path, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the tables a sink wrote, as a DuckDB connection.

    Every table of SCHEMAS is there, with its columns in schema order and each column's doc
    as its DuckDB comment, even before any row of it was written; so is every view and table
    macro of VIEWS, as temporary objects of the connection.

    Args:
        target: A DuckDB file (what DuckDBSink wrote) or a folder (the root ParquetSink wrote
            under). A folder is read through views over its files, so rows written after
            opening show up in later queries, except in tables that had no file yet.
        read_only: Open a DuckDB file without write access, so that other readers may open
            it at the same time. A folder is always read only; the views live in memory.

    Returns:
        A connection. Close it when done, so that a writer may open the file again.

    Raises:
        StorageError: If there is nothing at ``target`` yet, the file is not a DuckDB
            database, it cannot be opened, or its tables lack columns the views read (a
            database of an older researchgym).
        DatabaseLockedError: If another process holds the DuckDB file.
    """
    if target.is_dir():
        return _open_parquet(target)
    if not target.exists():
        raise StorageError(
            f"There is no database at {target} yet. `researchgym run` creates it; pass --db "
            "to read another one."
        )
    return _with_views(connect_file(target, read_only=read_only), target)


def _open_parquet(root: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    try:
        for table in SCHEMAS:
            con.execute(_parquet_view_sql(root, table) or create_table_sql(table))
            con.execute(comment_sql(table))
    except duckdb.Error as exc:
        con.close()
        raise StorageError(f"Cannot read the Parquet files under {root}: {exc}") from exc
    return _with_views(con, root)


def _with_views(con: duckdb.DuckDBPyConnection, target: Path) -> duckdb.DuckDBPyConnection:
    try:
        create_views(con)
    except duckdb.Error as exc:
        con.close()
        raise StorageError(
            f"Cannot create the metric views over {target}: {str(exc).splitlines()[0]} Its "
            "tables lack what the views read: it was written by an older researchgym. Pass "
            "a newer database with --db."
        ) from exc
    return con


def _parquet_view_sql(root: Path, table: TableName) -> str | None:
    if next((root / table).glob("*/*.parquet"), None) is None:
        return None
    pattern = sql_literal(str(root / table / "*" / "*.parquet"))
    columns = ", ".join(sql_identifier(name) for name in SCHEMAS[table].names)
    return (
        f"CREATE VIEW {sql_identifier(table)} AS SELECT {columns} FROM read_parquet({pattern}, "
        "hive_partitioning = true, union_by_name = true, hive_types = {'run_id': VARCHAR})"
    )


def query(
    con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, object] | None = None
) -> pa.Table:
    """Run SQL and return its result as an Arrow table.

    Args:
        con: A connection from open_database (or any DuckDB connection).
        sql: One SQL statement. Given several separated by semicolons, DuckDB runs them all
            and the result is the last one's.
        params: Values for the statement's ``$name`` parameters.

    Returns:
        The result rows; an empty table with no columns for a statement that returns nothing.

    Raises:
        QueryError: If DuckDB rejects the query; it carries DuckDB's message.
    """
    try:
        relation = con.sql(sql, params=params)
        return pa.table({}) if relation is None else relation.to_arrow_table()
    except duckdb.Error as exc:
        raise QueryError(sql, str(exc)) from exc


def has_run(target: Path, run_id: str) -> bool:
    """Return True if ``target`` (a DuckDB file or a Parquet root) holds rows of ``run_id``.

    Raises:
        StorageError: If the store exists but cannot be opened.
        DatabaseLockedError: If another process holds the DuckDB file.
    """
    if not target.exists():
        return False
    with open_database(target) as con:
        found = query(
            con,
            "SELECT 1 FROM runs WHERE run_id = $id UNION ALL "
            "SELECT 1 FROM episodes WHERE run_id = $id LIMIT 1",
            {"id": run_id},
        )
    return bool(found.num_rows)
