"""The DuckDB file sink, and the DuckDB side of the schemas: DDL and opening a file.

``create_table_sql``, ``comment_sql`` and ``connect_file`` are shared with the read side
(``database.py``), so that a table written here and a table read back there are declared by
the same code.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from researchgym.errors import DatabaseLockedError, StorageError
from researchgym.storage.schema import KEYS, SCHEMAS
from researchgym.storage.sink import Sink

if TYPE_CHECKING:
    from pathlib import Path

    from researchgym.storage.schema import TableName

__all__ = [
    "DuckDBSink",
    "add_columns_sql",
    "comment_sql",
    "connect_file",
    "create_table_sql",
    "duckdb_type",
    "latest_rows",
    "sql_identifier",
    "sql_literal",
]

_SIMPLE_TYPES: dict[pa.DataType, str] = {
    pa.string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ",
}
_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")
_BATCH_VIEW = "_researchgym_batch"


def duckdb_type(type_: pa.DataType) -> str:
    """The DuckDB type of a column of an Arrow type of the schemas.

    Raises:
        TypeError: If the type has no DuckDB equivalent here.
    """
    try:
        return _SIMPLE_TYPES[type_]
    except KeyError:
        raise TypeError(f"No DuckDB type is defined for the Arrow type {type_}.") from None


def sql_identifier(name: str) -> str:
    """Quote a name for DuckDB SQL."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    """Quote a string as a DuckDB SQL literal."""
    return "'" + text.replace("'", "''") + "'"


def create_table_sql(table: TableName) -> str:
    """Return the ``CREATE TABLE IF NOT EXISTS`` statement of a table, from its Arrow schema.

    Args:
        table: A table name (a key of SCHEMAS).

    Returns:
        One SQL statement, without a trailing semicolon.

    Raises:
        TypeError: If the schema has a column type with no DuckDB equivalent.
    """
    columns = ", ".join(
        f"{sql_identifier(f.name)} {duckdb_type(f.type)}{'' if f.nullable else ' NOT NULL'}"
        for f in SCHEMAS[table]
    )
    return f"CREATE TABLE IF NOT EXISTS {sql_identifier(table)} ({columns})"


def add_columns_sql(table: TableName) -> str:
    """Return ``ALTER TABLE ... ADD COLUMN IF NOT EXISTS`` for each column of a table.

    A database written by an older researchgym gets the columns added since, null in its
    old rows; a current one is left as it is.
    """
    return ";\n".join(
        f"ALTER TABLE {sql_identifier(table)} ADD COLUMN IF NOT EXISTS "
        f"{sql_identifier(f.name)} {duckdb_type(f.type)}"
        for f in SCHEMAS[table]
        if f.nullable
    )


def latest_rows(table: TableName, source: str) -> str:
    """SQL selecting, from ``source``, the last written row of each key of a keyed table.

    Rows with the same ``recorded_at`` keep the later one in ``source``'s order.
    """
    keys = ", ".join(sql_identifier(k) for k in KEYS[table])
    return (
        f"SELECT * FROM {source} QUALIFY row_number() OVER "
        f"(PARTITION BY {keys} ORDER BY recorded_at DESC NULLS LAST) = 1"
    )


def comment_sql(table: TableName) -> str:
    """Return ``COMMENT ON COLUMN`` statements that attach each column's doc to a table or view.

    Args:
        table: A table name (a key of SCHEMAS).

    Returns:
        The statements, separated by semicolons.
    """
    return ";\n".join(
        f"COMMENT ON COLUMN {sql_identifier(table)}.{sql_identifier(field.name)} IS "
        f"{sql_literal(bytes(field.metadata[b'doc']).decode())}"
        for field in SCHEMAS[table]
    )


def connect_file(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB database file, translating DuckDB's errors into ours.

    Args:
        path: The database file. It is created if it does not exist and ``read_only`` is False.
        read_only: Open without write access, so that other readers may open it too.

    Returns:
        A connection to the file.

    Raises:
        DatabaseLockedError: If another process holds the file.
        StorageError: If the file is not a DuckDB database, or DuckDB cannot open it.
    """
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise _open_error(path, str(exc)) from exc


def _open_error(path: Path, message: str) -> StorageError:
    if "Could not set lock on file" in message:
        match = _LOCK_HOLDER.search(message)
        return DatabaseLockedError(path, f"PID {match[1]}" if match else "unknown process")
    if "not a valid DuckDB database file" in message:
        return StorageError(
            f"The file {path} is not a readable DuckDB database. Move it away, or pass "
            "another database with --db."
        )
    return StorageError(f"Cannot open the database {path}: {message}")


class DuckDBSink(Sink):
    """Stores batches in a DuckDB file, one ``INSERT`` per batch.

    Opening the sink creates the file, its parent folder and every table of SCHEMAS that is
    missing, with each column's doc as a DuckDB column comment. The process holds the file
    until ``close()``.

    Args:
        path: The database file, e.g. ``runs/researchgym.duckdb``.

    Raises:
        DatabaseLockedError: If another process holds the file.
        StorageError: If the folder cannot be created, the file is not a DuckDB database, or
            the tables cannot be created.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"Cannot create the folder {path.parent}: {exc}") from exc
        self._con = connect_file(path, read_only=False)
        try:
            # Appends need no parallelism, and the writer shares the machine with the event
            # loop and the sandboxes: more threads only steal their CPU.
            self._con.execute("SET threads = 1")
            self._create_tables()
        except BaseException:
            self._con.close()
            raise

    def _create_tables(self) -> None:
        # views.py builds its SQL with this module's quoting: imported here, not at the top
        from researchgym.storage.views import create_views

        statements = [
            s
            for table in SCHEMAS
            for s in (create_table_sql(table), add_columns_sql(table), comment_sql(table))
        ]
        try:
            self._con.execute("BEGIN;\n" + ";\n".join(statements) + ";\nCOMMIT")
            create_views(self._con, stored=True)  # for any DuckDB client that opens the file
        except duckdb.Error as exc:
            raise StorageError(f"Cannot create the tables in {self.path}: {exc}") from exc

    def write(self, table: TableName, batch: pa.Table) -> None:
        """Insert a batch into its table in one transaction.

        A keyed table's rows (``KEYS``) replace the stored rows of their keys, and of the
        batch's rows with the same key the last one is kept: a run's and an episode's row
        is one row, however often it was written.

        Args:
            table: The table the rows belong to.
            batch: The rows, with the columns of ``SCHEMAS[table]``.

        Raises:
            StorageError: If DuckDB rejects the batch (a NOT NULL column holds a null, the disk
                is full) or the sink is closed. Nothing of the batch is stored then.
        """
        columns = ", ".join(sql_identifier(name) for name in SCHEMAS[table].names)
        name = sql_identifier(table)
        statements = [f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {_BATCH_VIEW}"]
        if table in KEYS:
            keys = ", ".join(sql_identifier(k) for k in KEYS[table])
            batch = _last_of_each_key(batch, KEYS[table])
            where = f"({keys}) IN (SELECT ({keys}) FROM {_BATCH_VIEW})"
            statements.insert(0, f"DELETE FROM {name} WHERE {where}")
        try:
            with self._con.cursor() as cursor:
                cursor.register(_BATCH_VIEW, batch)
                _in_one_transaction(cursor, statements)
        except duckdb.Error as exc:
            raise StorageError(
                f"Cannot store {batch.num_rows} rows in table '{table}' of {self.path}: {exc}"
            ) from exc

    def close(self) -> None:
        """Close the database file, so that other processes may open it.

        Raises:
            StorageError: If DuckDB fails to write its last changes to the file.
        """
        try:
            self._con.close()
        except duckdb.Error as exc:
            raise StorageError(f"Cannot close the database {self.path}: {exc}") from exc


def _last_of_each_key(batch: pa.Table, keys: tuple[str, ...]) -> pa.Table:
    """The batch's rows, each key's last only (a keyed table gets few rows: plain Python)."""
    named = zip(*(batch.column(key).to_pylist() for key in keys), strict=True)
    last = {key: index for index, key in enumerate(named)}
    if len(last) == batch.num_rows:
        return batch
    return batch.take(sorted(last.values()))


def _in_one_transaction(cursor: duckdb.DuckDBPyConnection, statements: list[str]) -> None:
    """Run ``statements`` so that all of them or none take effect."""
    if len(statements) == 1:  # one statement is a transaction of its own
        cursor.execute(statements[0])
        return
    cursor.execute("BEGIN")
    try:
        for statement in statements:
            cursor.execute(statement)
        cursor.execute("COMMIT")
    except BaseException:
        cursor.execute("ROLLBACK")
        raise
