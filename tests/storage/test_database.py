from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pytest

from researchgym.errors import DatabaseLockedError, QueryError, QueryRefusedError, StorageError
from researchgym.storage import (
    SCHEMAS,
    VIEWS,
    DuckDBSink,
    ParquetSink,
    TableName,
    open_database,
    query,
)
from tests.storage.conftest import corrupt_message
from tests.storage.tables import actual_columns, expected_columns, sample_batch
from tests.storage.test_views import EPISODES, write_runs

if TYPE_CHECKING:
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
    with open_database(path) as con, pytest.raises(duckdb.Error, match="read-only mode"):
        con.execute("DELETE FROM runs")
    with open_database(path, read_only=False) as con:
        assert con.execute("DELETE FROM runs").fetchall() == [(0,)]


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


# The SQL surface is read-only: a statement that is not a read is refused before anything
# runs, and DuckDB itself refuses every file but the store's. Each attack below runs against a
# DuckDB file and a Parquet root, from the folder that holds the store (relative paths keep
# every statement short enough to be quoted whole in the message).

_READS_ONLY = (
    "It runs SELECT (DESCRIBE, SHOW and SUMMARIZE too) and EXPLAIN of a SELECT, over the tables "
    "and views of the database, and opens no other file. To save a result in a file, print it "
    'as csv or json and redirect it: researchgym sql "SELECT ..." --format csv > result.csv'
)


def refused_message(refused: str, detail: str) -> str:
    """The whole message of a QueryRefusedError, as a regex."""
    return re.escape(
        f"researchgym's SQL only reads the stored runs: {refused} is refused ({detail}). "
        + _READS_ONLY
    )


def file_refused_message(path: str) -> str:
    """The whole message of a QueryRefusedError for a file that is not the store's, as a regex."""
    return refused_message(
        "file access",
        f'Permission Error: Cannot access file "{path}" - file system operations are disabled '
        "by configuration",
    )


@pytest.fixture(params=["duckdb", "parquet"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The runs of test_views in store/runs.duckdb or under store/parquet, relative to the
    current folder (tmp_path), next to a secret.txt, a secret.parquet and an other.duckdb."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "secret.txt").write_text("not the store's\n")
    with duckdb.connect(tmp_path / "other.duckdb") as other:
        other.execute("CREATE TABLE t AS SELECT 42 AS answer")
        other.execute(f"COPY t TO '{tmp_path / 'secret.parquet'}'")
    return write_runs(Path("store"), request.param)


def files(folder: Path) -> dict[Path, bytes]:
    """Every file under a folder, with its bytes."""
    return {path: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def contents(store: Path) -> dict[str, int]:
    """Each table and view of a store with its number of rows, read by a fresh connection."""
    with open_database(store) as con:
        names = query(con, "SELECT table_name FROM information_schema.tables ORDER BY ALL")
        return {
            name: query(con, f"SELECT count(*) FROM {name}").column(0)[0].as_py()
            for name in names.column(0).to_pylist()
        }


_REFUSED_STATEMENTS = [
    ("COPY (SELECT 1) TO 'evil.csv'", "a COPY statement"),
    ("COPY scores TO 'store/parquet/scores/evil.parquet'", "a COPY statement"),
    ("COPY (SELECT 1) TO 'store/parquet/evil.parquet'", "a COPY statement"),
    ("COPY runs FROM 'secret.parquet'", "a COPY statement"),
    ("EXPLAIN ANALYZE COPY (SELECT 1) TO 'store/parquet/evil.parquet'", "an EXPLAIN statement"),
    ("EXPLAIN (ANALYZE) COPY (SELECT 1) TO 'evil.csv'", "an EXPLAIN statement"),
    ("EXPORT DATABASE 'evil'", "an EXPORT statement"),
    ("IMPORT DATABASE 'evil'", "a PRAGMA statement"),
    ("ATTACH 'other.duckdb' AS other", "an ATTACH statement"),
    ("INSTALL httpfs", "a LOAD statement"),
    ("LOAD parquet", "a LOAD statement"),
    ("UPDATE EXTENSIONS", "an unknown statement"),
    ("SET enable_external_access = true", "a SET statement"),
    ("RESET lock_configuration", "a SET statement"),
    ("PRAGMA enable_profiling", "a PRAGMA statement"),
    ("CREATE TABLE evil AS SELECT 1", "a CREATE statement"),
    ("CREATE OR REPLACE TEMP VIEW runs AS SELECT 1", "a CREATE statement"),
    ("INSERT INTO runs SELECT * FROM runs", "an INSERT statement"),
    ("WITH r AS (SELECT * FROM runs) INSERT INTO runs SELECT * FROM r", "an INSERT statement"),
    ("UPDATE runs SET status = 'evil'", "an UPDATE statement"),
    ("DELETE FROM scores", "a DELETE statement"),
    ("DROP TABLE scores", "a DROP statement"),
    ("DROP VIEW episode_results", "a DROP statement"),
    ("BEGIN", "a TRANSACTION statement"),
    ("CHECKPOINT", "a CALL statement"),
]


@pytest.mark.parametrize(("sql", "refused"), _REFUSED_STATEMENTS)
def test_a_statement_that_is_not_a_read_is_refused(store: Path, sql: str, refused: str) -> None:
    before, rows_before = files(Path.cwd()), contents(store)
    with open_database(store) as con, pytest.raises(QueryRefusedError) as caught:
        query(con, sql)
    assert re.fullmatch(refused_message(refused, sql), str(caught.value))
    assert (caught.value.sql, caught.value.refused) == (sql, refused)
    assert files(Path.cwd()) == before
    assert contents(store) == rows_before


def test_no_statement_runs_if_one_is_refused(store: Path) -> None:
    sql = "SELECT 1;\n  COPY (SELECT 1)\n  TO 'evil.csv';"
    with open_database(store) as con, pytest.raises(QueryRefusedError) as caught:
        query(con, sql)
    shown = "COPY (SELECT 1) TO 'evil.csv'"
    assert re.fullmatch(refused_message("a COPY statement", shown), str(caught.value))
    assert not Path("evil.csv").exists()


def test_a_long_refused_statement_is_shown_cut(store: Path) -> None:
    sql = "COPY (SELECT " + "1, " * 30 + "1) TO 'evil.csv'"
    with open_database(store) as con, pytest.raises(QueryRefusedError) as caught:
        query(con, sql)
    shown = "COPY (SELECT " + "1, " * 21 + "1..."
    assert len(shown) == 80
    assert re.fullmatch(refused_message("a COPY statement", shown), str(caught.value))


@pytest.mark.parametrize(
    ("sql", "path"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "/etc/passwd"),
        ("SELECT * FROM read_text('secret.txt')", "secret.txt"),
        ("SELECT * FROM read_blob('secret.txt')", "secret.txt"),
        ("SELECT * FROM read_parquet('secret.parquet')", "secret.parquet"),
        ("SELECT * FROM read_parquet('store/../secret.parquet')", "store/../secret.parquet"),
        ("SELECT * FROM glob('/etc/*')", "/etc/*"),
        ("SELECT * FROM glob('*')", "*"),
        ("SELECT * FROM read_parquet('https://example.com/x.parquet')", "https://example.com/x.parquet"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_the_stores_is_refused(store: Path, sql: str, path: str) -> None:
    with open_database(store) as con, pytest.raises(QueryRefusedError) as caught:
        query(con, sql)
    assert re.fullmatch(file_refused_message(path), str(caught.value))
    assert caught.value.refused == "file access"
    assert isinstance(caught.value.__cause__, duckdb.PermissionException)


def test_writes_are_refused_on_a_file_opened_for_writing_too(tmp_path: Path) -> None:
    path = write_runs(tmp_path, "duckdb")
    rows_before = contents(path)
    with open_database(path, read_only=False) as con:
        for sql, refused in [
            ("CREATE TABLE evil AS SELECT 1", "a CREATE statement"),
            ("INSERT INTO runs SELECT * FROM runs", "an INSERT statement"),
            ("DROP TABLE scores", "a DROP statement"),
        ]:
            with pytest.raises(QueryRefusedError) as caught:
                query(con, sql)
            assert re.fullmatch(refused_message(refused, sql), str(caught.value))
    assert contents(path) == rows_before


def test_the_connection_itself_cannot_turn_file_access_back_on(store: Path) -> None:
    # Below query(): what the configuration lock and DuckDB's external access refuse alone.
    before = files(Path.cwd())
    with open_database(store) as con:
        for setting in ["enable_external_access = true", "allowed_directories = ['/']"]:
            name = setting.split()[0]
            locked = (
                f'Cannot change configuration option "{name}" - the configuration has been locked'
            )
            with pytest.raises(duckdb.InvalidInputException, match=re.escape(locked)):
                con.execute(f"SET {setting}")
        with con.cursor() as cursor:
            for sql in [
                "SELECT * FROM read_csv('/etc/passwd')",
                "COPY (SELECT 1) TO 'evil.csv'",
                "ATTACH 'other.duckdb' AS other",
                "LOAD httpfs",
            ]:
                with pytest.raises(duckdb.PermissionException):
                    cursor.execute(sql)
    assert files(Path.cwd()) == before


_COLUMNS_OF_RUNS = [{"n": len(SCHEMAS["runs"])}]


@pytest.mark.parametrize(
    ("sql", "rows"),
    [
        ("SELECT count(*) AS n FROM episodes", [{"n": len(EPISODES)}]),
        ("FROM episode_results SELECT count(*) AS n", [{"n": len(EPISODES)}]),
        ("SELECT count(*) AS n FROM scores WHERE run_id = $run", [{"n": 0}]),
        ("VALUES (1)", [{"col0": 1}]),
        ("SELECT count(*) AS n FROM (DESCRIBE runs)", _COLUMNS_OF_RUNS),
        ("SELECT count(*) AS n FROM (SUMMARIZE runs)", _COLUMNS_OF_RUNS),
        ("SELECT count(*) AS n FROM pragma_table_info('runs')", _COLUMNS_OF_RUNS),
        ("SELECT count(*) AS n FROM duckdb_columns() WHERE table_name = 'runs'", _COLUMNS_OF_RUNS),
    ],
)  # fmt: skip
def test_reads_run(store: Path, sql: str, rows: list[dict[str, object]]) -> None:
    with open_database(store) as con:
        assert query(con, sql, {"run": "nope"} if "$run" in sql else None).to_pylist() == rows


@pytest.mark.parametrize(
    ("sql", "columns"),
    [
        ("DESCRIBE runs", ["column_name", "column_type", "null", "key", "default", "extra"]),
        ("SUMMARIZE runs", None),
        ("SHOW TABLES", ["name"]),
        ("EXPLAIN SELECT * FROM episode_results", ["explain_key", "explain_value"]),
        ("EXPLAIN ANALYZE SELECT count(*) FROM events", ["explain_key", "explain_value"]),
        ("EXPLAIN /* why */ (ANALYZE, FORMAT json) SELECT 1", ["explain_key", "explain_value"]),
        ("EXPLAIN (SELECT 1) UNION (SELECT 2)", ["explain_key", "explain_value"]),
        ("SELECT * FROM best_at_k(1)", list(VIEWS["best_at_k"].columns)),
        ("SELECT * FROM failures_by_model()", list(VIEWS["failures_by_model"].columns)),
        ("SELECT 1; SELECT * FROM episode_results", list(VIEWS["episode_results"].columns)),
    ],
)
def test_describe_show_summarize_explain_and_the_views_run(
    store: Path, sql: str, columns: list[str] | None
) -> None:
    with open_database(store) as con:
        result = query(con, sql)
    assert result.num_rows > 0
    assert columns is None or result.column_names == columns
