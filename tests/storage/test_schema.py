from __future__ import annotations

from typing import get_args

import pyarrow as pa
import pytest

import researchgym.storage
from researchgym.storage import SCHEMAS, TableName, column_doc
from tests.storage.tables import DUCKDB_TYPES


def test_schemas_has_every_table_name() -> None:
    assert list(SCHEMAS) == list(get_args(TableName))


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_every_column_is_documented(table: TableName) -> None:
    for field in SCHEMAS[table]:
        doc = column_doc(table, field.name)
        assert doc.strip(), f"{table}.{field.name} has no doc"
        assert doc == field.metadata[b"doc"].decode()


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_every_row_belongs_to_a_run(table: TableName) -> None:
    first = SCHEMAS[table].field(0)
    assert (first.name, first.type, first.nullable) == ("run_id", pa.string(), False)


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_every_column_type_has_a_duckdb_type(table: TableName) -> None:
    assert {field.type for field in SCHEMAS[table]} <= set(DUCKDB_TYPES)


def test_column_doc_raises_key_error_for_unknown_names() -> None:
    with pytest.raises(KeyError):
        column_doc("events", "no_such_column")
    with pytest.raises(KeyError):
        column_doc("no_such_table", "run_id")  # type: ignore[arg-type]  # a bad name on purpose


def test_package_exports_exactly_the_public_names() -> None:
    assert sorted(researchgym.storage.__all__) == sorted(
        [
            "SCHEMAS",
            "TableName",
            "column_doc",
            "Sink",
            "NullSink",
            "DuckDBSink",
            "ParquetSink",
            "Writer",
            "WriterStatistics",
            "open_writer",
            "open_database",
            "stored_run",
            "StoredRun",
            "run_state",
            "KEYS",
            "query",
            "VIEWS",
            "ViewDoc",
            "Dimension",
            "READABLE",
            "SINKS",
            "SinkFactory",
        ]
    )
    for name in researchgym.storage.__all__:
        assert getattr(researchgym.storage, name) is not None
