"""check_sink over every sink, the example plug-in's included, and over sinks that break
the contract."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import pytest

from researchgym.storage import DuckDBSink, Sink
from researchgym.testing import ConformanceError, check_sink

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa

    from researchgym.storage import TableName


@pytest.mark.parametrize("backend", ["duckdb", "parquet", "jsonl"])
def test_every_sink_keeps_the_contract(backend: str) -> None:
    check_sink(backend)


async def test_a_check_can_run_from_async_code() -> None:
    await anyio.to_thread.run_sync(check_sink, "parquet")


class _Silent(Sink):
    """Keeps nothing, and never says so: not even where it cannot store."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, table: TableName, batch: pa.Table) -> None:
        pass

    def close(self) -> None:
        pass


class _Leaky(DuckDBSink):
    """A DuckDB sink that fails with whatever the file system raised."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)  # NotADirectoryError, not StorageError
        super().__init__(path)


def test_a_sink_that_hides_failures_is_named() -> None:
    with pytest.raises(ConformanceError, match="raises StorageError"):
        check_sink(_Silent)
    with pytest.raises(ConformanceError, match="raises StorageError"):
        check_sink(_Leaky)


def test_a_check_stores_where_it_is_told(tmp_path: Path) -> None:
    check_sink("duckdb", folder=tmp_path)
    assert (tmp_path / "store").is_file()
