"""The run report's SQL, on small hand-computed cases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest

from researchgym.storage import SCHEMAS, DuckDBSink, latest_run_id, open_database, report

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import duckdb

T0 = 1_764_000_000_000_000


def episode(
    run: str, ep: str, task: str, direction: str, status: str, start: int
) -> dict[str, Any]:
    return {
        "run_id": run, "episode_id": ep, "task_id": task, "agent": "x", "attempt": 1,
        "exit_status": status, "steps": 4, "metric": "Score", "direction": direction,
        "baseline": 1.0, "started_at": T0 + start, "ended_at": T0 + start + 1,
    }  # fmt: skip


def scores(run: str, ep: str, *values: tuple[str, float]) -> list[dict[str, Any]]:
    return [
        {"run_id": run, "episode_id": ep, "seq": seq, "kind": kind, "score": value}
        for seq, (kind, value) in enumerate(values, start=1)
    ]


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    path = tmp_path / "report.duckdb"
    sink = DuckDBSink(path)
    episodes = [
        # task a, higher is better: best attempt 5 (a validate), best submission 4
        episode("r1", "e1", "a", "max", "submitted", 0),
        episode("r1", "e2", "a", "max", "submitted", 1),
        episode("r1", "e3", "a", "max", "exit_error", 2),  # no score: counts for neither
        # task b, lower is better: best attempt 0.5, best submission 0.6
        episode("r1", "e4", "b", "min", "submitted", 3),
        episode("r1", "e5", "b", "min", "autosubmission (max_steps)", 4),
        # another, later run
        episode("r2", "e6", "a", "max", "submitted", 10),
    ]
    rows = [
        *scores("r1", "e1", ("validate", 3.0), ("validate", 5.0), ("submit", 4.0)),
        *scores("r1", "e2", ("submit", 2.0)),
        *scores("r1", "e4", ("validate", 0.5), ("submit", 0.7)),
        *scores("r1", "e5", ("autosubmit", 0.6)),
        *scores("r2", "e6", ("submit", 9.0)),
    ]
    sink.write("episodes", pa.Table.from_pylist(episodes, schema=SCHEMAS["episodes"]))
    sink.write("scores", pa.Table.from_pylist(rows, schema=SCHEMAS["scores"]))
    sink.close()
    with open_database(path) as connection:
        yield connection


def test_best_attempt_and_best_submission_follow_the_direction(
    con: duckdb.DuckDBPyConnection,
) -> None:
    assert report(con, ["r1"]).to_pylist() == [
        {
            "task": "a", "agent": "x", "metric": "Score ↑", "episodes": 3,
            "best_attempt": 5.0, "best_submission": 4.0, "baseline": 1.0, "steps": 4.0,
            "exit_statuses": "submitted x2, exit_error x1",
        },
        {
            "task": "b", "agent": "x", "metric": "Score ↓", "episodes": 2,
            "best_attempt": 0.5, "best_submission": 0.6, "baseline": 1.0, "steps": 4.0,
            "exit_statuses": "autosubmission (max_steps) x1, submitted x1",
        },
    ]  # fmt: skip


def test_runs_are_selected(con: duckdb.DuckDBPyConnection) -> None:
    only_r2 = report(con, ["r2"]).to_pylist()
    assert [(r["task"], r["episodes"], r["best_attempt"]) for r in only_r2] == [("a", 1, 9.0)]
    both = {r["task"]: r for r in report(con, ["r1", "r2"]).to_pylist()}
    assert (both["a"]["episodes"], both["a"]["best_submission"]) == (4, 9.0)
    assert report(con, ["nope"]).num_rows == 0


def test_latest_run_is_the_one_that_started_last(con: duckdb.DuckDBPyConnection) -> None:
    assert latest_run_id(con) == "r2"
