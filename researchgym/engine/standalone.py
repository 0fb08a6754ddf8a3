"""One episode as a public environment: ``open_env``.

It is the runner's own way of running an episode (``Episode.open``), in a run of one: the
same sandboxes, bus, services, limits and records, with the caller as the agent.

Example::

    async with open_env("diabetes_regression", sandbox="local") as env:
        observation, info = await env.reset()
        result = await env.step("python3 baseline.py && validate")
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from researchgym.config import AgentConfig, Limits, RunConfig, SandboxConfig, StorageConfig
from researchgym.engine.episode import Episode, EpisodePlan, attempt_key
from researchgym.engine.recorder import Recorder, now_us
from researchgym.engine.runner import (
    choose_run_sandboxes,
    open_run_context,
    open_sink,
    record_run,
)
from researchgym.errors import ConfigError
from researchgym.storage import open_writer
from researchgym.tasks import Task, resolve_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from researchgym.engine.episode import EpisodeEnv
    from researchgym.storage import Sink

__all__ = ["EXTERNAL_AGENT", "open_env"]

EXTERNAL_AGENT = "external"
"""The agent an environment's episode is stored under: whoever calls ``step``."""


@asynccontextmanager
async def open_env(
    task: str | Path | Task,
    *,
    sandbox: str | SandboxConfig | dict[str, Any] = "auto",
    limits: Limits | dict[str, Any] | None = None,
    store: str | Path | StorageConfig | None = None,
    run_id: str | None = None,
    agent: str = EXTERNAL_AGENT,
) -> AsyncIterator[EpisodeEnv]:
    """Open the environment of one episode of ``task``; leaving the block removes its sandbox.

    Args:
        task: A built-in task id, a task folder, or a loaded task.
        sandbox: ``auto``, ``docker`` or ``local``, or a sandbox configuration.
        limits: The episode's limits (default: ``Limits()``, 50 steps).
        store: Where to record the episode: a DuckDB file, or a storage configuration
            (Parquet); by default nothing is stored.
        run_id: The id of the run of one it is stored as (default: a fresh one).
        agent: The agent's label in the stored episode.

    Raises:
        ConfigError: If an argument is wrong, or ``run_id`` is already in the store.
        UnknownComponentError: If ``task`` is neither a built-in id nor a folder.
        TaskSpecError: If the task folder is broken.
        DockerUnavailableError, ImageMissingError: If Docker sandboxes cannot start.
        StorageError: If the store cannot be opened.
    """
    loaded = (
        task if isinstance(task, Task) else await anyio.to_thread.run_sync(resolve_task, str(task))
    )
    # in a thread: a plug-in's name is looked up in the installed distributions' metadata
    config = await anyio.to_thread.run_sync(
        partial(_config, loaded, task, sandbox, limits, store, run_id, agent)
    )
    config = await choose_run_sandboxes(config, [loaded])
    sink = await anyio.to_thread.run_sync(_open_store, config, store is not None)
    async with open_writer(sink) as writer:
        recorder = Recorder(writer, run_id=config.run_id)
        started_at, status = now_us(), "cancelled"
        await record_run(recorder, config, started_at, "running", 1, ended=False)
        try:
            async with open_run_context(config, recorder) as run:
                agent_config = config.agents[0]
                key = attempt_key(loaded, agent_config, 1)
                episode = Episode(EpisodePlan(config.run_id, loaded, agent_config, 1, key), run)
                async with episode.open() as env:
                    yield env
            status = "completed"
        except Exception:
            status = "failed"
            raise
        finally:
            with anyio.CancelScope(shield=True):
                await record_run(recorder, config, started_at, status, 1, ended=True)


def _config(
    loaded: Task,
    task: str | Path | Task,
    sandbox: str | SandboxConfig | dict[str, Any],
    limits: Limits | dict[str, Any] | None,
    store: str | Path | StorageConfig | None,
    run_id: str | None,
    agent: str,
) -> RunConfig:
    """The run of one that an environment is (stored with its episode)."""
    from pydantic import ValidationError

    try:
        storage = (
            store
            if isinstance(store, StorageConfig)
            else StorageConfig(path=Path(store))
            if store is not None
            else StorageConfig()
        )
        fields: dict[str, Any] = {
            "tasks": [str(loaded.root) if isinstance(task, Task) else str(task)],
            "agents": [AgentConfig(kind=EXTERNAL_AGENT, label=agent)],
            "attempts": 1,
            "sandbox": {"kind": sandbox} if isinstance(sandbox, str) else sandbox,
            "limits": limits if limits is not None else Limits(),
            "storage": storage,
        }
        if run_id is not None:
            fields["run_id"] = run_id
        return RunConfig.model_validate(fields)
    except ValidationError as e:
        error = e.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        raise ConfigError(f"Bad environment argument '{key}': {error['msg'].rstrip('.')}.") from e


def _open_store(config: RunConfig, stored: bool) -> Sink:
    """The sink of an environment's records (blocking: call it from a thread)."""
    from researchgym.storage import NullSink, stored_run

    if not stored:
        return NullSink()
    if stored_run(config.storage.path, config.run_id) is not None:
        raise ConfigError(
            f"The run id '{config.run_id}' is already in {config.storage.path}: give the "
            "environment another run_id, or leave it out for a fresh one."
        )
    return open_sink(config.storage)
