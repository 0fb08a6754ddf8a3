"""Fixtures for the storage tests: a DuckDB file that another process holds, and a corrupt one."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import TYPE_CHECKING, NamedTuple

import pytest

from researchgym.storage import DuckDBSink

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

_HOLD = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.read()
"""


class Held(NamedTuple):
    path: Path
    pid: int

    def message(self) -> str:
        """The whole message of the DatabaseLockedError for this file, as a regex."""
        return re.escape(
            f"The database {self.path} is in use by another process (PID {self.pid}). Wait "
            "for that run to finish, or pass another database with --db."
        )


def corrupt_message(path: Path) -> str:
    """The whole message of the error for a corrupt database file, as a regex."""
    return re.escape(
        f"The file {path} is not a readable DuckDB database. Move it away, or pass another "
        "database with --db."
    )


@pytest.fixture
def held_database(tmp_path: Path) -> Iterator[Held]:
    """A DuckDB file that a child process holds open until the test ends."""
    path = tmp_path / "held.duckdb"
    DuckDBSink(path).close()
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "holding\n"
        yield Held(path, proc.pid)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()


@pytest.fixture
def corrupt_database(tmp_path: Path) -> Path:
    """A .duckdb file full of junk bytes."""
    path = tmp_path / "corrupt.duckdb"
    path.write_bytes(b"\x00not a database\xff" * 4096)
    return path
