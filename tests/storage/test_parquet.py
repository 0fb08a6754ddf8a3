from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from researchgym.errors import StorageError
from researchgym.storage import SCHEMAS, ParquetSink, TableName, open_database, query
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

_PART = re.compile(r"part-([0-9a-f]{8})-(\d+)\.parquet")


def _files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_every_table_round_trips(tmp_path: Path, table: TableName) -> None:
    sink = ParquetSink(tmp_path)
    sink.write(table, sample_batch(table))
    sink.close()
    with open_database(tmp_path) as con:
        assert read_back(con, table) == sample_rows(table)
        assert actual_columns(con, table) == expected_columns(table)


def test_a_batch_is_split_by_run_into_hive_partitions(tmp_path: Path) -> None:
    ParquetSink(tmp_path).write("events", sample_batch("events"))
    files = _files(tmp_path)
    assert [path.relative_to(tmp_path).parent.as_posix() for path in files] == [
        "events/run_id=run-a",
        "events/run_id=run-b",
    ]
    for path in files:
        assert _PART.fullmatch(path.name)
        stored = pq.read_table(path)
        assert stored.column_names == SCHEMAS["events"].names[1:]
        assert stored.num_rows == 1


def test_file_names_carry_a_token_per_sink_and_a_counter(tmp_path: Path) -> None:
    first, second = ParquetSink(tmp_path), ParquetSink(tmp_path)
    batch = sample_batch("runs").slice(0, 1)
    for sink in (first, second, first):
        sink.write("runs", batch)
    names = [_PART.fullmatch(path.name) for path in _files(tmp_path / "runs" / "run_id=run-a")]
    parts = sorted((match[1], int(match[2])) for match in names if match)
    assert len(parts) == 3
    tokens = {token for token, _ in parts}
    assert len(tokens) == 2
    assert sorted(n for token, n in parts if sum(t == token for t, _ in parts) == 2) == [1, 2]


def test_any_run_id_round_trips_through_its_folder_name(tmp_path: Path) -> None:
    run_id = "2024-05-01/a b=c%d'e"
    rows = [dict(sample_rows("runs")[0], run_id=run_id)]
    ParquetSink(tmp_path).write("runs", pa.Table.from_pylist(rows, schema=SCHEMAS["runs"]))
    assert len(list((tmp_path / "runs").iterdir())) == 1
    with open_database(tmp_path) as con:
        assert read_back(con, "runs") == rows


def test_rows_without_a_run_id_raise_storage_error(tmp_path: Path) -> None:
    rows = sample_rows("runs")
    rows[0]["run_id"] = None
    with pytest.raises(StorageError, match=r"^Cannot store 1 'runs' rows with no run_id\.$"):
        ParquetSink(tmp_path).write("runs", pa.Table.from_pylist(rows, schema=SCHEMAS["runs"]))
    assert _files(tmp_path) == []


def test_a_failed_write_leaves_no_file_behind(tmp_path: Path) -> None:
    blocker = tmp_path / "events" / "run_id=run-b"
    blocker.parent.mkdir()
    blocker.write_text("a file where the partition folder should go")
    with pytest.raises(StorageError, match=r"^Cannot write .*run_id=run-b/part-[0-9a-f]{8}-2"):
        ParquetSink(tmp_path).write("events", sample_batch("events"))
    assert _files(tmp_path) == [blocker]


def test_a_keyed_row_written_again_reads_back_as_the_last(tmp_path: Path) -> None:
    sink = ParquetSink(tmp_path)
    for status, second in (("running", 0), ("submitted", 5)):  # two files, one key
        row = {"run_id": "r", "episode_id": "e1", "exit_status": status,
               "recorded_at": T0 + timedelta(seconds=second)}  # fmt: skip
        sink.write("episodes", pa.Table.from_pylist([row], schema=SCHEMAS["episodes"]))
    with open_database(tmp_path) as con:
        rows = query(con, "SELECT episode_id, exit_status FROM episodes").to_pylist()
    assert rows == [{"episode_id": "e1", "exit_status": "submitted"}]


def test_files_of_an_older_researchgym_read_with_the_new_columns_null(tmp_path: Path) -> None:
    folder = tmp_path / "runs" / "run_id=old"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"status": ["completed"], "episodes": [3]}), folder / "part-0.parquet")
    with open_database(tmp_path) as con:
        rows = query(con, "SELECT run_id, status, episodes, pid FROM runs").to_pylist()
    assert rows == [{"run_id": "old", "status": "completed", "episodes": 3, "pid": None}]
