"""write_plots: every plot rendered from a synthetic database, as valid PNGs of sensible size."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

import pytest

from researchgym.analysis import PLOTS, write_plots
from researchgym.analysis import charts as charts_module
from researchgym.errors import StorageError
from researchgym.storage import open_database
from researchgym.storage.synthetic import write_synthetic

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb

NAMES = [
    "profiles_best_attempt.png",
    "profiles_best_submission.png",
    "aup_vs_cost.png",
    "exit_statuses_by_model.png",
    "failures_by_model.png",
    "failures_by_task.png",
    "actions_overall.png",
    "actions_by_model.png",
    "actions_by_task.png",
    "actions_by_step.png",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header (the IHDR chunk comes first), checking its framing."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert head[12:16] == b"IHDR", f"{path.name} does not start with IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def assert_sensible_png(path: Path) -> None:
    width, height = png_size(path)
    assert 400 <= width <= 4000 and 300 <= height <= 4000, (path.name, width, height)
    assert path.stat().st_size > 10_000, path.name


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plots") / "synthetic.duckdb"
    write_synthetic(path, episodes=2000, events_per_episode=40)
    return path


@pytest.fixture
def con(db: Path) -> Any:
    with open_database(db) as connection:
        yield connection


def test_every_plot_is_a_png_of_sensible_size(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    seen: list[Path] = []
    out = tmp_path / "new" / "plots"
    written = write_plots(con, ["synthetic"], out, k=4, on_written=seen.append)
    assert list(PLOTS) == NAMES
    assert written == seen == [out / name for name in NAMES]
    for path in written:
        assert_sensible_png(path)


def test_a_plot_with_no_data_is_still_written(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[tuple[str, str]] = []
    no_data = charts_module.no_data

    def spy(path: Path, *, title: str, note: str) -> None:
        said.append((path.name, note))
        no_data(path, title=title, note=note)

    monkeypatch.setattr(charts_module, "no_data", spy)
    written = write_plots(con, ["no-such-run"], tmp_path)
    # No episode at all: no score, no exit status, no action.
    assert said == [
        ("profiles_best_attempt.png", "No episodes in these runs."),
        ("profiles_best_submission.png", "No episodes in these runs."),
        ("aup_vs_cost.png", "No episodes in these runs."),
        ("exit_statuses_by_model.png", "No episodes in these runs."),
        ("failures_by_model.png", "No episodes in these runs."),
        ("failures_by_task.png", "No episodes in these runs."),
        ("actions_overall.png", "No actions in these runs."),
        ("actions_by_model.png", "No actions in these runs."),
        ("actions_by_task.png", "No actions in these runs."),
        ("actions_by_step.png", "No actions in these runs."),
    ]
    for path in written:
        width, height = png_size(path)
        assert 400 <= width <= 4000 and 150 <= height <= 4000


def test_many_steps_are_binned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 400 events an episode make (400 - 6) // 3 = 131 steps, 1..131: over 60, so bins of
    # ceil(131 / 60) = 3 steps start at 1, 4, ..., 130 (44 bins); each of the 100 episodes
    # acts once per step, so a bin has 300 actions, the last (130, 131) 200.
    path = tmp_path / "long.duckdb"
    write_synthetic(path, episodes=100, events_per_episode=400)
    drawn: dict[str, Any] = {}
    monkeypatch.setattr(charts_module, "shares_by_step", lambda path, **given: drawn.update(given))
    with open_database(path) as con:
        write_plots(con, ["synthetic"], tmp_path / "plots")
    assert drawn["width"] == 3
    assert drawn["starts"] == list(range(1, 131, 3))
    assert drawn["counts"].totals() == [300.0] * 43 + [200.0]
    assert all(abs(sum(row) - 1) < 1e-9 for row in drawn["counts"].shares())


def test_k_must_be_at_least_one(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^k counts attempts: it must be 1 or more, not 0\.$"):
        write_plots(con, ["synthetic"], tmp_path, k=0)


def test_an_unwritable_folder_is_one_clear_error(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match=rf"^Cannot write the plots to {blocker}/plots: .+\.$"):
        write_plots(con, ["synthetic"], blocker / "plots")
