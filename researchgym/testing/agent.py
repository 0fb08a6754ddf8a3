"""``check_agent``: whether an agent kind plays an episode as the engine expects.

An agent kind is built from its parameters by its factory, and then plays: it answers each
observation with a command until it submits, stops (``AgentStop``) or a limit ends it,
without crashing. ``check_agent`` runs one episode of it through the engine, as a run
would, and reads back what was stored.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from researchgym.config import (
    AgentConfig,
    Limits,
    ModelsConfig,
    RunConfig,
    SandboxConfig,
    StorageConfig,
)
from researchgym.engine import Runner
from researchgym.storage import open_database, query
from researchgym.testing.base import expect
from researchgym.words import FAILED

if TYPE_CHECKING:
    from researchgym.engine import EpisodeOutcome

__all__ = ["check_agent"]


async def check_agent(
    kind: str,
    params: dict[str, Any] | None = None,
    *,
    task: str = "prisoners_dilemma",
    sandbox: str = "local",
    max_steps: int = 10,
    api_base: str | None = None,
) -> None:
    """Run one episode of the agent kind ``kind`` and check how it went.

    Args:
        kind: A name of ``AGENTS`` (a plug-in's, ``module:attribute``).
        params: The parameters of its factory.
        task: The task to play (an id, a folder, ``<collection>/<id>``).
        sandbox: Where (a name of ``SANDBOXES``).
        max_steps: The episode's limit on actions.
        api_base: An OpenAI-compatible server for its models.

    Raises:
        ConformanceError: Naming the first promise the agent breaks.
        ConfigError: If the kind is unknown or ``params`` do not fit it.
    """
    component = f"agent kind '{kind}'"
    folder = Path(await anyio.to_thread.run_sync(tempfile.mkdtemp))
    try:
        config = RunConfig(
            tasks=[task],
            agents=[AgentConfig(kind=kind, params=params or {})],
            attempts=1,
            sandbox=SandboxConfig(kind=sandbox),
            limits=Limits(max_steps=max_steps),
            models=ModelsConfig(api_base=api_base),
            storage=StorageConfig(path=folder / "check.duckdb"),
        )
        (outcome,) = await Runner(config).run()
        stored = await anyio.to_thread.run_sync(_stored, folder / "check.duckdb", outcome)
    finally:
        await anyio.to_thread.run_sync(shutil.rmtree, folder)
    _check(outcome, stored, max_steps, component)


def _stored(db: Path, outcome: EpisodeOutcome) -> tuple[str, int]:
    with open_database(db) as con:
        (row,) = query(
            con,
            "SELECT e.exit_status, (SELECT count(*) FROM tool_calls t "
            "WHERE t.episode_id = e.episode_id) AS actions FROM episodes e "
            "WHERE e.episode_id = $id",
            {"id": outcome.episode_id},
        ).to_pylist()
        return str(row["exit_status"]), int(row["actions"])


def _check(
    outcome: EpisodeOutcome, stored: tuple[str, int], max_steps: int, component: str
) -> None:
    expect(
        outcome.exit_status not in FAILED,
        component,
        f"it plays without crashing (it ended {outcome.exit_status}: {outcome.error})",
    )
    expect(
        1 <= outcome.steps <= max_steps,
        component,
        f"it acts, within the limit of {max_steps} steps ({outcome.steps})",
    )
    status, actions = stored
    expect(status == outcome.exit_status, component, "its episode is stored as it ended")
    expect(
        actions == outcome.steps,
        component,
        f"every action is stored ({actions} stored, {outcome.steps} steps)",
    )
