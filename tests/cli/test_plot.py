"""`researchgym plot`: PNG files of the latest (or given) runs, as a user runs it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from researchgym.storage import DuckDBSink
from researchgym.storage.synthetic import write_synthetic
from tests.analysis.test_plots import NAMES, assert_sensible_png
from tests.cli.helpers import cli

if TYPE_CHECKING:
    from pathlib import Path


def test_plot_writes_every_png_and_lists_them(tmp_path: Path) -> None:
    db, out = tmp_path / "runs.duckdb", tmp_path / "plots"
    write_synthetic(db, episodes=500, events_per_episode=20, run_id="r1")
    done = cli("plot", "--db", db, "--out", out, "--k", "2")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "10 plots of r1 (k = 2):"
    assert lines[1:] == [f"  {out / name}" for name in NAMES]
    for name in NAMES:
        assert_sensible_png(out / name)


def test_plot_of_a_database_without_runs_is_one_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    DuckDBSink(db).close()
    done = cli("plot", "--db", db, "--out", tmp_path / "plots")
    assert done.returncode == 1
    assert done.stdout == ""
    assert re.fullmatch(
        re.escape(f"No runs in {db} yet. Start one with: researchgym run") + r"\n", done.stderr
    )
    assert not (tmp_path / "plots").exists()


def test_a_run_not_in_the_database_is_named(tmp_path: Path) -> None:
    db = tmp_path / "runs.duckdb"
    write_synthetic(db, episodes=50, events_per_episode=20, run_id="r1")
    for command in ("plot", "report"):
        done = cli(command, "--db", db, "--run", "r1", "--run", "typo")
        assert done.returncode == 1
        assert done.stderr == f"No run 'typo' in {db}. Its runs: r1\n"
