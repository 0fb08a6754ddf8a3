"""The synthetic database that the metrics' benchmark and plot tests run on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from researchgym.storage import open_database, query
from researchgym.storage.synthetic import SYNTHETIC_AGENTS, SYNTHETIC_TASKS, write_synthetic

if TYPE_CHECKING:
    from pathlib import Path

COUNTS = """
SELECT (SELECT count(*) FROM episodes) AS episodes, (SELECT count(*) FROM events) AS events,
       (SELECT count(*) FROM tool_calls) AS tool_calls, (SELECT count(*) FROM llm_calls) AS calls,
       (SELECT count(DISTINCT (task_id, agent)) FROM episodes) AS pairs,
       (SELECT max(seq) + 1 FROM events WHERE episode_id = 'ep-7') AS timeline
"""


def test_it_has_the_size_asked_for_and_is_the_same_each_time(tmp_path: Path) -> None:
    write_synthetic(tmp_path / "a.duckdb", episodes=400, events_per_episode=50)
    write_synthetic(tmp_path / "b.duckdb", episodes=400, events_per_episode=50)
    with open_database(tmp_path / "a.duckdb") as a, open_database(tmp_path / "b.duckdb") as b:
        assert query(a, COUNTS).to_pylist() == [
            {
                "episodes": 400,
                "events": 400 * 50,
                "tool_calls": 400 * 14,  # (50 - 6) // 3 steps
                "calls": 400 * 14,
                "pairs": len(SYNTHETIC_TASKS) * len(SYNTHETIC_AGENTS),
                "timeline": 50,
            }
        ]
        scores = "SELECT * FROM scores ORDER BY episode_id, seq"
        assert query(a, scores) == query(b, scores)
        # early exits have no score; a submission only where the exit status says so
        orphans = query(
            a,
            "SELECT count(*) AS n FROM scores s JOIN episodes e USING (episode_id) "
            "WHERE e.exit_status = 'early_exit' OR (s.kind = 'submit' AND "
            "e.exit_status NOT IN ('submitted') AND e.exit_status NOT LIKE 'autosub%')",
        )
        assert orphans.to_pylist() == [{"n": 0}]
