"""Stored runs as a whole: what a run left in a store, and whether its process still lives.

A run's row is written when it starts (``running``) and again when it ends; a run whose
process was killed stays ``running`` in the store. ``run_state`` tells such a run apart from
one still going on: it is ``interrupted`` once its process is gone from this host. A resumed
run (``researchgym run --resume``) reads what its earlier process left with ``stored_run``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from researchgym._host import process_alive
from researchgym.storage.database import open_database, query
from researchgym.words import INTERRUPTED, RUNNING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["StoredRun", "run_state", "stored_run"]


class StoredRun(NamedTuple):
    """What a store holds of one run."""

    run: dict[str, Any] | None
    """Its row of ``runs`` (None if it was killed before the row was stored)."""
    episodes: list[dict[str, Any]]
    """Its rows of ``episodes``, every try of every attempt, in the order they started; a
    row still ``running`` counts the steps its tool calls show so far."""

    @property
    def state(self) -> str:
        """The run's status, ``interrupted`` for a run whose process is gone (``run_state``)."""
        return run_state(self.run) if self.run is not None else "interrupted"


_EPISODES = f"""
SELECT e.* REPLACE (CASE WHEN e.exit_status = '{RUNNING}' THEN coalesce(t.steps, 0)
                         ELSE e.steps END AS steps)
FROM episodes e
LEFT JOIN (SELECT episode_id, count(*) AS steps FROM tool_calls WHERE run_id = $id
           GROUP BY episode_id) t USING (episode_id)
WHERE e.run_id = $id ORDER BY e.started_at"""


def stored_run(target: Path, run_id: str) -> StoredRun | None:
    """Read what ``target`` (a DuckDB file or a Parquet root) holds of a run (blocking).

    Returns:
        The run, or None if the store holds no row of it (or does not exist yet).

    Raises:
        StorageError: If the store exists but cannot be opened.
        DatabaseLockedError: If another process holds the DuckDB file.
    """
    if not target.exists():
        return None
    with open_database(target) as con:
        params = {"id": run_id}
        runs = query(con, "SELECT * FROM runs WHERE run_id = $id", params).to_pylist()
        episodes = query(con, _EPISODES, params).to_pylist()
    if not runs and not episodes:
        return None
    return StoredRun(runs[0] if runs else None, episodes)


def run_state(run: dict[str, Any]) -> str:
    """A run's status: as stored, but ``interrupted`` for a gone process.

    A run that says ``running`` is ``interrupted`` once its process is gone from this host;
    it stays ``running`` while that lives, or if it ran on another host.
    """
    if run.get("status") != RUNNING:
        return str(run.get("status"))
    alive = process_alive(run.get("host"), run.get("pid"))
    return INTERRUPTED if alive is False else RUNNING
