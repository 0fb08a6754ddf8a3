"""The read side: open what a sink wrote as one DuckDB database, and query it.

``open_database`` takes either sink's output. A DuckDB file is opened as is. A Parquet root
becomes an in-memory database with one view per table over that table's files, so the same
SQL runs against both. Either way the connection also has the metric views and macros of
``views.py`` (``episode_results``, ``best_at_k(k)``, ...)::

    con = open_database(Path("runs/researchgym.duckdb"))
    query(con, "SELECT kind, count(*) FROM events GROUP BY kind")

The SQL is read-only in every sense, as ``researchgym sql`` runs whatever a user types.
``open_database`` turns DuckDB's external access off once the views exist, and locks the
configuration: no other file can be read, written or attached, no extension installed or
loaded, and no ``SET`` turns it back on. The views of a Parquet root read its files at query
time, so that folder stays open, to ``COPY ... TO`` as well; ``query`` therefore runs only
statements that read (``SELECT``, which DuckDB makes of ``DESCRIBE``, ``SHOW`` and
``SUMMARIZE`` too, and ``EXPLAIN`` of a ``SELECT``) and refuses every other before any runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from researchgym.errors import QueryError, QueryRefusedError, StorageError
from researchgym.storage.duckdb import (
    comment_sql,
    connect_file,
    create_table_sql,
    duckdb_type,
    latest_rows,
    sql_identifier,
    sql_literal,
)
from researchgym.storage.schema import KEYS, SCHEMAS
from researchgym.storage.views import create_views

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from researchgym.storage.schema import TableName

__all__ = ["open_database", "query"]


def open_database(target: Path, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the tables a sink wrote, as a DuckDB connection.

    Every table of SCHEMAS is there, with its columns in schema order and each column's doc
    as its DuckDB comment, even before any row of it was written; so is every view and table
    macro of VIEWS, as temporary objects of the connection. DuckDB's external access is off
    and its configuration locked: the connection reads the store and no other file. Run a
    user's SQL through ``query``, which also refuses every statement but a read.

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
        return _locked(_open_parquet(target), target, readable=target)
    if not target.exists():
        raise StorageError(
            f"There is no database at {target} yet. `researchgym run` creates it; pass --db "
            "to read another one."
        )
    return _locked(_with_views(connect_file(target, read_only=read_only), target), target)


def _open_parquet(root: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    try:
        for table in SCHEMAS:
            con.execute(_parquet_view_sql(con, root, table) or create_table_sql(table))
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


def _locked(
    con: duckdb.DuckDBPyConnection, target: Path, *, readable: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """Turn off external access and lock the configuration, leaving ``readable`` open.

    Last, as creating the views reads the files of a Parquet root. An open DuckDB file stays
    readable (and writable, if opened so), and so does its folder of spilled data.
    """
    allowed = (
        "" if readable is None else f"SET allowed_directories = [{sql_literal(str(readable))}];"
    )
    try:
        con.execute(f"{allowed}SET enable_external_access = false; SET lock_configuration = true")
    except duckdb.Error as exc:
        con.close()
        raise StorageError(f"Cannot make the connection to {target} read-only: {exc}") from exc
    return con


def _parquet_view_sql(con: duckdb.DuckDBPyConnection, root: Path, table: TableName) -> str | None:
    """A view of a table's files, with a keyed table's last written row of each key.

    A column that older files lack is null in their rows.
    """
    if next((root / table).glob("*/*.parquet"), None) is None:
        return None
    pattern = sql_literal(str(root / table / "*" / "*.parquet"))
    files = (
        f"read_parquet({pattern}, hive_partitioning = true, union_by_name = true, "
        "hive_types = {'run_id': VARCHAR})"
    )
    present = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {files}").fetchall()}
    columns = ", ".join(
        sql_identifier(f.name)
        if f.name in present
        else f"NULL::{duckdb_type(f.type)} AS {sql_identifier(f.name)}"
        for f in SCHEMAS[table]
    )
    source = f"(SELECT {columns} FROM {files})"
    rows = latest_rows(table, source) if table in KEYS else f"SELECT * FROM {source}"
    return f"CREATE VIEW {sql_identifier(table)} AS {rows}"


def query(
    con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, object] | None = None
) -> pa.Table:
    """Run SQL that reads, and return its result as an Arrow table.

    Args:
        con: A connection from open_database (or any DuckDB connection).
        sql: One SQL statement that reads: ``SELECT`` (and ``DESCRIBE``, ``SHOW``,
            ``SUMMARIZE``, ``FROM ...``, ``VALUES ...``), or ``EXPLAIN [ANALYZE]`` of one.
            Given several separated by semicolons, DuckDB runs them all and the result is
            the last one's.
        params: Values for the statement's ``$name`` parameters.

    Returns:
        The result rows; an empty table with no columns for no statement at all.

    Raises:
        QueryRefusedError: If a statement is not a read (``COPY``, ``INSERT``, ``CREATE``,
            ``ATTACH``, ``SET``, ``PRAGMA``, ``CALL``, ...): then none runs. Or if it opens a
            file that is not the store's, which a connection from open_database refuses.
        QueryError: If DuckDB rejects the query otherwise; it carries DuckDB's message.
    """
    try:
        _refuse_all_but_reads(con, sql)
        relation = con.sql(sql, params=params)
        return pa.table({}) if relation is None else relation.to_arrow_table()
    except duckdb.PermissionException as exc:
        raise QueryRefusedError(sql, "file access", str(exc)) from exc
    except duckdb.Error as exc:
        raise QueryError(sql, str(exc)) from exc


def _refuse_all_but_reads(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    for statement in con.extract_statements(sql):
        kind = _kind(con, statement)
        if kind != "SELECT":
            shown = " ".join(statement.query.strip().rstrip(";").split())
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            article = "an" if kind[0] in "AEIOUaeiou" else "a"
            raise QueryRefusedError(sql, f"{article} {kind} statement", shown)


def _kind(con: duckdb.DuckDBPyConnection, statement: duckdb.Statement) -> str:
    """DuckDB's name for the type of a statement; SELECT for an EXPLAIN of a SELECT."""
    try:
        kind = statement.type
    except ValueError:  # a type the Python enum lacks (UPDATE EXTENSIONS in DuckDB 2.0)
        return "unknown"
    if kind is duckdb.StatementType.EXPLAIN and _explains_a_select(con, statement.query):
        return "SELECT"
    return kind.name.replace("_", " ")


def _explains_a_select(con: duckdb.DuckDBPyConnection, sql: str) -> bool:
    """Whether an EXPLAIN statement explains one SELECT, as EXPLAIN ANALYZE runs it.

    The explained statement follows ``EXPLAIN``, then ``ANALYZE`` or a parenthesised list
    of options (``EXPLAIN (ANALYZE, FORMAT json) SELECT ...``). A parenthesis may open the
    statement itself, ``EXPLAIN (SELECT 1) UNION (SELECT 2)``, so both are tried: if either
    reading is one SELECT, DuckDB's can be nothing else, as no list of options is a SELECT.
    """
    tokens = duckdb.tokenize(sql)
    ends = [start for start, _ in tokens[1:]] + [len(sql)]
    words = [
        (start, sql[start:end].strip().upper())
        for (start, kind), end in zip(tokens, ends, strict=True)
        if kind is not duckdb.token_type.comment
    ][1:]
    if words[:1] and words[0][1] == "ANALYZE":
        words = words[1:]
    readings = [words]
    depth = 0
    for i, (_, word) in enumerate(words if words[:1] and words[0][1] == "(" else []):
        depth += (word == "(") - (word == ")")
        if depth == 0:
            readings.append(words[i + 1 :])
            break
    return any(r and _is_one_select(con, sql[r[0][0] :]) for r in readings)


def _is_one_select(con: duckdb.DuckDBPyConnection, sql: str) -> bool:
    try:
        statements = con.extract_statements(sql)
        return len(statements) == 1 and statements[0].type is duckdb.StatementType.SELECT
    except (duckdb.Error, ValueError):
        return False
