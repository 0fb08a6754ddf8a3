"""The runner: a RunConfig becomes episodes, run concurrently in one task group.

Tasks x agents x attempts are expanded into episode plans, and every plan runs in one task
group under a limit on concurrent episodes. A failing episode is recorded and the others go
on; only cancellation (Ctrl-C) stops the run, and even then everything recorded so far is
flushed and the run is stored as cancelled.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio

import researchgym
from researchgym._host import hostname
from researchgym.agents import ModelSettings, check_agent, check_model
from researchgym.engine.admission import Admission, admit
from researchgym.engine.bus import open_bus
from researchgym.engine.episode import (
    EpisodeOutcome,
    EpisodePlan,
    RunContext,
    attempt_key,
    run_episode,
)
from researchgym.engine.placement import engine_placement
from researchgym.engine.recorder import Recorder, now_us
from researchgym.engine.resume import resume
from researchgym.engine.status import FAILED
from researchgym.errors import ConfigError, ResearchGymError, StorageError
from researchgym.sandboxes import choose_sandboxes, open_sandboxes, remove_leftovers
from researchgym.storage import READABLE, SINKS, open_writer, stored_run
from researchgym.tasks import resolve_task, task_names

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from researchgym.config import ModelsConfig, RunConfig, StorageConfig
    from researchgym.storage import Sink, StoredRun
    from researchgym.tasks import Task

__all__ = [
    "RunStatistics",
    "Runner",
    "choose_run_sandboxes",
    "load_tasks",
    "open_run_context",
    "open_sink",
    "record_run",
]


@dataclass(frozen=True)
class RunStatistics:
    """Where a run stands."""

    episodes: int
    """Episodes planned."""
    running: int
    done: int
    """Episodes finished, failed ones included."""
    crashed: int
    """Episodes that ended in early_exit or exit_error (the report's "failed" is another
    count: episodes that ended in any error and have no score)."""
    steps: int
    """Agent actions so far, over all episodes."""
    exhausted: int = 0
    """Episodes that failed because this host ran out of open files (the run is failed)."""


class Runner:
    """Runs one RunConfig. ``await runner.run()``; poll ``statistics()`` for progress."""

    def __init__(self, config: RunConfig, *, force: bool = False) -> None:
        """Prepare a run of ``config``; ``force`` resumes it even if a task or agent changed."""
        self.config = config
        self.outcomes: list[EpisodeOutcome] = []
        self._force = force
        self._attempts = 0
        self._planned = 0
        self._running = 0
        self._recorder: Recorder | None = None
        self.admission: Admission = admit(config.limits.concurrent_episodes, config.sandbox.kind)
        """How many episodes run at once (the open-file limit is raised already)."""

    def statistics(self) -> RunStatistics:
        """Return the run's progress so far."""
        crashed = sum(o.exit_status in FAILED for o in self.outcomes)
        exhausted = sum(o.exhausted for o in self.outcomes)
        steps = self._recorder.tool_calls if self._recorder else 0
        return RunStatistics(
            self._planned, self._running, len(self.outcomes), crashed, steps, exhausted
        )

    async def run(self) -> list[EpisodeOutcome]:
        """Run every episode and store everything.

        Returns:
            The outcome of every episode.

        Raises:
            ResearchGymError: If a task or an agent cannot be loaded, a CPU of the placement
                does not exist, the store cannot be opened, or it holds a run of this id.
        """
        with engine_placement(self.config.cpus):
            return await self._run()

    async def _run(self) -> list[EpisodeOutcome]:
        plans = await anyio.to_thread.run_sync(self._plan)
        await self._check_models()
        await self._choose_sandboxes(plans)
        self._attempts = len(plans)
        storage, run_id = self.config.storage, self.config.run_id
        stored = await anyio.to_thread.run_sync(self._stored, storage, run_id)
        started_at, interrupted = now_us(), list[dict[str, Any]]()
        if stored is not None:  # resumed (or refused): with nothing stored, a run starts
            plans, interrupted, started_at = await self._resume(plans, stored, started_at)
        self._planned = len(plans)
        sink = await anyio.to_thread.run_sync(open_sink, storage)
        async with open_writer(sink) as writer:
            self._recorder = recorder = Recorder(writer, run_id=self.config.run_id)
            status = "cancelled"
            # On disk at once: a run killed from here on is known to have been running.
            await self._record_run(recorder, started_at, "running", self._attempts, ended=False)
            for row in interrupted:
                await recorder.row("episodes", **row)
            await writer.flush()
            try:
                await self._run_all(plans, recorder)
                # episodes the host had no resources for: the run did not do what it asked
                status = "failed" if any(o.exhausted for o in self.outcomes) else "completed"
            except Exception:
                status = "failed"
                raise
            finally:
                if writer.error is not None:  # a failed flush cancels the run: it failed
                    status = "failed"
                with anyio.CancelScope(shield=True):
                    await self._record_run(recorder, started_at, status, self._attempts, ended=True)
        return self.outcomes

    def _stored(self, storage: StorageConfig, run_id: str) -> StoredRun | None:
        """What the store holds of this run already (blocking)."""
        if storage.format in READABLE:
            return stored_run(storage.path, run_id)
        if self.config.resume:
            raise ConfigError(
                f"The run {run_id} cannot be resumed from the sink '{storage.format}': "
                f"researchgym reads back only {' and '.join(sorted(READABLE))} stores."
            )
        return None

    def _plan(self) -> list[EpisodePlan]:
        tasks = load_tasks(self.config.tasks)
        for agent in self.config.agents:
            check_agent(agent.kind, agent.params)  # a bad agent fails the run now
        combinations = itertools.product(
            tasks, self.config.agents, range(1, self.config.attempts + 1)
        )
        return [
            EpisodePlan(self.config.run_id, task, agent, n, attempt_key(task, agent, n))
            for task, agent, n in combinations
        ]

    async def _resume(
        self, plans: list[EpisodePlan], stored: StoredRun, started_at: int
    ) -> tuple[list[EpisodePlan], list[dict[str, Any]], int]:
        """What a resumed run still runs, the rows to store as interrupted, its first start.

        What the killed process left of its sandboxes is removed first.
        """
        cfg = self.config
        if not cfg.resume:
            raise ConfigError(
                f"The run id '{cfg.run_id}' is already in {cfg.storage.path}: give the run a "
                "new run_id (or leave it out for a fresh one), or resume it: researchgym run "
                f"--resume {cfg.run_id}."
            )
        work = await anyio.to_thread.run_sync(  # it asks /proc whether the run's process lives
            partial(
                resume,
                plans,
                stored,
                path=cfg.storage.path,
                retry_errors=cfg.retry_errors,
                force=self._force,
            )
        )
        await remove_leftovers(cfg.sandbox.kind, run_id=cfg.run_id)
        first = (stored.run or {}).get("started_at")
        return work.to_run, work.interrupted, _microseconds(first) if first else started_at

    async def _run_all(self, plans: list[EpisodePlan], recorder: Recorder) -> None:
        cfg = self.config
        limiter = anyio.CapacityLimiter(self.admission.episodes)
        async with open_run_context(cfg, recorder) as run:
            for spec, count in collections.Counter(run.sandbox_spec(p.task) for p in plans).items():
                run.sandboxes.expect(spec, count)

            async def one(plan: EpisodePlan) -> None:
                async with limiter:
                    self._running += 1
                    try:
                        outcome = await run_episode(plan, run)
                        # an infrastructure failure: the next try, while retries are left
                        while outcome.retryable and plan.try_number <= cfg.retry_errors:
                            plan = plan.next_try()
                            outcome = await run_episode(plan, run)
                    finally:
                        self._running -= 1
                    self.outcomes.append(outcome)

            async with anyio.create_task_group() as tg:
                for plan in plans:
                    tg.start_soon(one, plan)

    async def _choose_sandboxes(self, plans: list[EpisodePlan]) -> None:
        self.config = await choose_run_sandboxes(self.config, [p.task for p in plans])

    async def _check_models(self) -> None:
        """Fail before anything runs if a model is unknown or its API key is not set."""
        for name, api_base in sorted(
            {m for agent in self.config.agents for m in _models(agent.params)}
        ):
            await check_model(name, api_base=api_base or self.config.models.api_base)

    async def _record_run(
        self, recorder: Recorder, started_at: int, status: str, episodes: int, *, ended: bool
    ) -> None:
        await record_run(recorder, self.config, started_at, status, episodes, ended=ended)


async def choose_run_sandboxes(config: RunConfig, tasks: list[Task]) -> RunConfig:
    """Settle ``auto``, and refuse to put a task requiring isolation in a local sandbox.

    Returns:
        The configuration with the kind that runs, and why (stored with the run).

    Raises:
        ConfigError: If a task requires isolation and the sandboxes would be local.
        DockerUnavailableError: If the configuration asks for docker and no daemon answers.
    """
    box = config.sandbox
    choice = await choose_sandboxes(box.kind)
    if box.kind == "auto":
        chosen = box.model_copy(update={"kind": choice.kind, "chosen": choice.because})
        config = config.model_copy(update={"sandbox": chosen})
    strict = sorted({task.spec.id for task in tasks if task.spec.requires_isolation})
    if strict and choice.kind == "local":
        why = f" ({box.chosen or choice.because})" if box.chosen or choice.because else ""
        raise ConfigError(
            f"The task {', '.join(strict)} requires isolation: it runs only in Docker "
            f"sandboxes, and this run would put it in local ones{why}. Start Docker "
            "(researchgym sandbox status says what it finds), or leave the task out."
        )
    return config


@asynccontextmanager
async def open_run_context(config: RunConfig, recorder: Recorder) -> AsyncIterator[RunContext]:
    """Open what every episode of a run shares: its sandboxes and its bus.

    Raises:
        DockerUnavailableError: If the sandboxes are docker and no daemon answers.
        ImageMissingError: If the Docker image is not built.
    """
    async with (
        open_sandboxes(
            config.sandbox.kind,
            run_id=config.run_id,
            cpus=config.cpus.sandboxes,
            image=config.sandbox.image,
            pool_size=config.sandbox.pool,
            concurrent_starts=config.sandbox.concurrent_starts,
        ) as sandboxes,
        open_bus(run_id=config.run_id, hook=recorder.message) as bus,
    ):
        yield RunContext(
            bus,
            recorder,
            config.limits,
            sandboxes,
            config.sandbox,
            models=model_settings(config.models),
            api_base=config.models.api_base,
        )


async def record_run(
    recorder: Recorder,
    config: RunConfig,
    started_at: int,
    status: str,
    episodes: int,
    *,
    ended: bool,
) -> None:
    """The run's row: written when it starts (``running``) and again when it ends."""
    now = now_us()
    await recorder.row(
        "runs",
        started_at=started_at,
        ended_at=now if ended else None,
        status=status,
        episodes=episodes,
        # ASCII JSON: a lone surrogate in a configuration is stored as its escape
        config=json.dumps(config.model_dump(mode="json")),
        version=researchgym.__version__,
        host=hostname(),
        pid=os.getpid(),
        recorded_at=now,
    )


def open_sink(storage: StorageConfig) -> Sink:
    """Open the sink a storage configuration names (blocking: call it from a thread).

    Raises:
        StorageError: If the store cannot be opened (locked, corrupt, not writable).
        UnknownComponentError: If no sink has the configured format's name.
        PluginError: If the sink is a plug-in that cannot be used.
    """
    factory = SINKS.get(storage.format)
    try:
        return factory(storage.path)
    except ResearchGymError:
        raise
    except Exception as e:  # a plug-in's sink may fail in any way
        raise StorageError(
            f"The sink '{storage.format}' cannot open {storage.path}: {type(e).__name__}: {e}"
        ) from e


def model_settings(models: ModelsConfig) -> ModelSettings:
    """How the run's models are called, from its configuration."""
    return ModelSettings(
        timeout=models.timeout, max_retries=models.retries, concurrency=models.concurrency
    )


def _microseconds(moment: Any) -> int:
    """A stored timestamp (a datetime) as microseconds since the epoch."""
    return int(moment.timestamp() * 1_000_000)


def _models(params: Any) -> set[tuple[str, str | None]]:
    """The (model, api_base) pairs an agent's parameters name, however nested."""
    if not isinstance(params, dict):
        return set()
    found = (
        {(params["model"], params.get("api_base"))}
        if isinstance(params.get("model"), str)
        else set()
    )
    return found.union(*(_models(value) for value in params.values()))


def load_tasks(names: list[str]) -> list[Task]:
    """Load tasks by id or folder; a collection's name (``builtin``) stands for its tasks."""
    return [resolve_task(n) for name in names for n in task_names(name)]
