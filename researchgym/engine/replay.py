"""Replaying a stored episode: its actions again, in a fresh sandbox, compared step by step.

The stored episode's task and limits come from its run's configuration; its actions from
``tool_calls``. The replay is a run of its own (``replay-of-<episode>-<time>-<random>``) in
the same store, so that both can be queried side by side; then each step's observation, the
scores and the exit status are compared.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import anyio

from researchgym.config import RunConfig, StorageConfig
from researchgym.engine.runner import Runner, load_tasks
from researchgym.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from researchgym.sandboxes import SandboxKind

__all__ = ["Mismatch", "ReplayReport", "replay_episode"]


class Mismatch(NamedTuple):
    """A step whose observation differs."""

    step: int
    command: str
    stored: str
    replayed: str


class ReplayReport(NamedTuple):
    """How a replay compares with the stored episode."""

    episode_id: str
    replay_episode_id: str
    steps: int
    mismatches: list[Mismatch]
    stored_scores: list[float]
    replayed_scores: list[float]
    stored_status: str
    replayed_status: str

    @property
    def matches(self) -> bool:
        """True if every observation, score and the exit status are the same."""
        return (
            not self.mismatches
            and self.stored_scores == self.replayed_scores
            and self.stored_status == self.replayed_status
        )


async def replay_episode(
    episode_id: str, *, store: StorageConfig, sandbox: SandboxKind | None = None
) -> ReplayReport:
    """Replay a stored episode and compare it with the original.

    Args:
        episode_id: The episode to replay.
        store: Where it is stored; the replay is stored there too.
        sandbox: Where to replay it (default: as its run was configured).

    Raises:
        ConfigError: If there is no such episode, or its task can no longer be found.
        StorageError: If the store cannot be read or written.
    """
    stored = await anyio.to_thread.run_sync(_read, store.path, episode_id)
    config = await anyio.to_thread.run_sync(_replay_config, stored, store, sandbox)
    [outcome] = await Runner(config).run()
    replayed = await anyio.to_thread.run_sync(_read, store.path, outcome.episode_id)
    return _compare(stored, replayed)


class _Stored(NamedTuple):
    episode_id: str
    task_id: str
    status: str
    config: dict[str, Any]
    commands: list[str]
    outputs: list[str]
    scores: list[float]


def _read(path: Path, episode_id: str) -> _Stored:
    from researchgym.storage import open_database, query  # DuckDB: when used

    with open_database(path) as con:
        params = {"id": episode_id}
        episode = query(
            con,
            "SELECT e.task_id, e.exit_status, r.config FROM episodes e "
            "LEFT JOIN runs r USING (run_id) WHERE e.episode_id = $id",
            params,
        ).to_pylist()
        if not episode:
            raise ConfigError(f"There is no episode '{episode_id}' in {path}.")
        steps = query(
            con,
            "SELECT command, output FROM tool_calls WHERE episode_id = $id AND agent = 'agent' "
            "ORDER BY step",
            params,
        ).to_pylist()
        scores = query(
            con, "SELECT score FROM scores WHERE episode_id = $id ORDER BY seq", params
        ).to_pylist()
    first = episode[0]
    return _Stored(
        episode_id,
        first["task_id"],
        first["exit_status"],
        json.loads(first["config"]) if first["config"] else {},
        [s["command"] for s in steps],
        [s["output"] for s in steps],
        [s["score"] for s in scores],
    )


def _replay_config(stored: _Stored, store: StorageConfig, sandbox: SandboxKind | None) -> RunConfig:
    original = RunConfig.model_validate(stored.config) if stored.config else RunConfig()
    tasks = [t for t in load_tasks(original.tasks) if t.spec.id == stored.task_id]
    if not tasks:
        raise ConfigError(
            f"The task '{stored.task_id}' of episode {stored.episode_id} is not among the "
            f"tasks of its run ({', '.join(original.tasks)}) any more."
        )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    # An agent that stopped itself (``autosubmission (exit_format)``) stops there again.
    stopped = re.search(r"\((exit_\w+)\)$", stored.status)
    ending = stopped.group(1) if stopped else None
    data = original.model_dump()
    data.update(
        run_id=f"replay-of-{stored.episode_id}-{stamp}",
        tasks=[str(tasks[0].root)],
        agents=[{"kind": "replay", "params": {"actions": stored.commands, "ending": ending}}],
        attempts=1,
        storage=store.model_dump(),
    )
    data["sandbox"]["kind"] = sandbox or original.sandbox.kind
    return RunConfig.model_validate(data)


def _compare(stored: _Stored, replayed: _Stored) -> ReplayReport:
    mismatches = [
        Mismatch(step, command, old, new)
        for step, (command, old, new) in enumerate(
            zip(stored.commands, stored.outputs, replayed.outputs, strict=False), start=1
        )
        if old != new
    ]
    return ReplayReport(
        stored.episode_id,
        replayed.episode_id,
        len(stored.commands),
        mismatches,
        stored.scores,
        replayed.scores,
        stored.status,
        replayed.status,
    )
