"""One episode: a sandbox, its services on the bus, and the agent's loop.

1. Open a sandbox fitting the task, with its ``data/`` read-only at ``workdir/data``, and
   copy ``workspace/`` into the workdir. ``eval/`` stays out until an evaluation.
2. Start the evaluator and the tool service on the bus.
3. Drive the agent: observation -> action -> ``env.step`` (a request to the tool service)
   -> observation, until it submits or a limit autosubmits.
4. Record how it ended. A failure ends this episode only: a dead sandbox is
   ``early_exit``, anything else ``exit_error``, each with its error stored.

The episode's row is written when it starts (``running``) and again when it ends, so that
a run killed meanwhile leaves a row saying which episodes it was in.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple

import anyio
from typing_extensions import override

from researchgym.agents import ModelSettings
from researchgym.config import SandboxConfig
from researchgym.engine.driver import drive
from researchgym.engine.env import Env, ResearchEnv, StepResult, Wrapper
from researchgym.engine.limits import limited
from researchgym.engine.recorder import now_us
from researchgym.engine.services import Evaluator, ToolService, request_timeout
from researchgym.engine.status import CANCELLED, EARLY_EXIT, EXIT_ERROR, RUNNING
from researchgym.errors import SandboxError
from researchgym.words import AGENT, TOOLS

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable

    from researchgym.config import AgentConfig, Limits
    from researchgym.engine.bus import Bus
    from researchgym.engine.recorder import Recorder
    from researchgym.engine.status import ExitReason
    from researchgym.sandboxes import SandboxProvider, SandboxSpec
    from researchgym.tasks import Task

StartSoon = Callable[[Callable[[], Coroutine[Any, Any, None]]], None]
"""Runs a coroutine function in the episode's task group, until the episode ends."""

__all__ = [
    "Episode",
    "EpisodeEnv",
    "EpisodeOutcome",
    "EpisodePlan",
    "RunContext",
    "attempt_key",
    "run_episode",
]


@dataclass(frozen=True)
class EpisodePlan:
    """One episode to run: a try of an attempt (a task, an agent, an attempt number)."""

    run_id: str
    task: Task
    agent: AgentConfig
    attempt: int
    attempt_key: str
    """The attempt's identity (``attempt_key``)."""
    try_number: int = 1
    """Which try of the attempt this is, from 1."""

    @property
    def episode_id(self) -> str:
        """The run, the attempt and the try: unique, and the same when a run is resumed."""
        return f"{self.run_id}-{self.attempt_key[:12]}-{self.try_number}"

    def next_try(self) -> EpisodePlan:
        """The plan of this attempt's next try."""
        return replace(self, try_number=self.try_number + 1)


def attempt_key(task: Task, agent: AgentConfig, attempt: int) -> str:
    """The identity of an attempt: the same task content, agent configuration and number.

    It does not depend on the researchgym version, the run, or where the task folder lies.
    """
    identity = [task.content_hash, agent.model_dump(mode="json"), attempt]
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


class EpisodeOutcome(NamedTuple):
    """How an episode ended."""

    episode_id: str
    exit_status: str
    error: str | None
    steps: int
    retryable: bool = False
    """Whether an infrastructure failure ended it (see ``episodes.retryable``)."""
    exhausted: bool = False
    """Whether it failed because this host ran out of open files: its run is ``failed``."""


@dataclass(frozen=True)
class RunContext:
    """What every episode of a run shares."""

    bus: Bus
    recorder: Recorder
    limits: Limits
    sandboxes: SandboxProvider
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    """What the run configuration says of sandboxes: it overrides the tasks' resources."""
    models: ModelSettings = field(default_factory=ModelSettings)
    """How models are called: timeouts, retries, concurrency per provider."""
    api_base: str | None = None
    """An OpenAI-compatible server for every model that names none."""

    def sandbox_spec(self, task: Task) -> SandboxSpec:
        """What an episode of ``task`` asks of its sandbox."""
        asked, chosen = task.sandbox_spec(), self.sandbox
        return replace(
            asked,
            cpus=asked.cpus if chosen.cpus is None else chosen.cpus,
            memory=asked.memory if chosen.memory is None else chosen.memory,
            gpus=asked.gpus if chosen.gpus is None else chosen.gpus,
            disk=asked.disk if chosen.disk is None else chosen.disk,
            pids=chosen.pids,
        )


class EpisodeEnv(Wrapper):
    """The environment of an episode that ``Episode.open`` opened; see there."""

    def __init__(
        self,
        env: Env,
        episode_id: str,
        start_soon: StartSoon,
        close: Callable[[], Awaitable[None]],
    ) -> None:
        super().__init__(env)
        self.episode_id = episode_id
        self.start_soon = start_soon
        """Runs a coroutine function in the episode's task group, until the episode ends."""
        self._close = close
        self._closed = False

    @override
    async def aclose(self) -> None:
        """End the episode (as ``cancelled`` if it is not over) and remove its sandbox.

        Call it from the task that opened the episode, or leave the ``async with`` block.
        """
        self._closed = True
        await self._close()

    @override
    async def reset(self) -> tuple[str, dict[str, Any]]:
        self._check_open()
        return await self.env.reset()

    @override
    async def step(self, action: str) -> StepResult:
        self._check_open()
        return await self.env.step(action)

    @override
    async def autosubmit(self, reason: ExitReason, detail: str | None = None) -> StepResult:
        self._check_open()
        return await self.env.autosubmit(reason, detail)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("The environment is closed.")


class Episode:
    """One episode of a run, and how it ended (``outcome``, once it has)."""

    def __init__(self, plan: EpisodePlan, run: RunContext) -> None:
        self.plan = plan
        self.run = run
        self.outcome: EpisodeOutcome | None = None

    @asynccontextmanager
    async def open(self) -> AsyncIterator[EpisodeEnv]:
        """Open the episode's environment, limited as the run says; record how it ends.

        The episode's row is written when it starts and when it ends: with the
        environment's exit status if the episode is over, ``cancelled`` if it was left
        before, ``early_exit`` if the sandbox died or could not start, ``exit_error`` if
        anything else failed (the error is stored, and raised again).
        """
        plan, run = self.plan, self.run
        recorder = run.recorder
        recorder.open_episode(plan.episode_id)
        row = _EpisodeRow(plan, run.sandboxes.kind, now_us())
        ending = _Ended(CANCELLED, None, retryable=False)
        try:
            await recorder.row("episodes", **row.started())
            await recorder.event(plan.episode_id, "episode_start", payload=_describe(plan))
            try:
                async with AsyncExitStack() as stack:
                    env, start_soon = await stack.enter_async_context(self._environment())
                    yield EpisodeEnv(env, plan.episode_id, start_soon, stack.aclose)
                    ending = _ending(env)
            except Exception as error:
                ending = _failure(error)
                raise
        finally:
            with anyio.CancelScope(shield=True):
                steps = recorder.steps(plan.episode_id)
                await _record_end(plan, recorder, row, steps, ending)
                self.outcome = EpisodeOutcome(
                    plan.episode_id,
                    ending.status,
                    ending.error,
                    steps,
                    ending.retryable,
                    ending.exhausted,
                )

    @asynccontextmanager
    async def _environment(self) -> AsyncIterator[tuple[Env, StartSoon]]:
        plan, run = self.plan, self.run
        spec = run.sandbox_spec(plan.task)
        async with await run.sandboxes.open(spec, name=f"rgym-{plan.episode_id}") as box:
            await plan.task.lay_out(box)
            ep = plan.episode_id
            async with (
                run.bus.endpoint(TOOLS, episode_id=ep) as tools,
                run.bus.endpoint(AGENT, episode_id=ep) as agent_endpoint,
                anyio.create_task_group() as tg,
            ):
                evaluator = Evaluator(
                    sandbox=box, task=plan.task, recorder=run.recorder, episode_id=ep
                )
                service = ToolService(
                    tools, sandbox=box, task=plan.task, recorder=run.recorder, evaluator=evaluator
                )
                await tg.start(service.serve)
                env = ResearchEnv(
                    agent_endpoint,
                    plan.task.spec,
                    timeout=request_timeout(plan.task),
                    interrupt=service.interrupt,
                )

                def start_soon(member: Callable[[], Coroutine[Any, Any, None]]) -> None:
                    tg.start_soon(member)

                yield limited(env, run.limits), start_soon
                tg.cancel_scope.cancel()


async def run_episode(plan: EpisodePlan, run: RunContext) -> EpisodeOutcome:
    """Run one episode to its end with its agent and record it; only cancellation propagates."""
    episode = Episode(plan, run)
    with contextlib.suppress(Exception):  # recorded with the episode
        async with episode.open() as env:
            await drive(plan, run, env, env.start_soon)
    assert episode.outcome is not None
    return episode.outcome


class _Ended(NamedTuple):
    status: str
    error: str | None
    retryable: bool
    exhausted: bool = False


def _ending(env: Env) -> _Ended:
    """How an episode whose environment was left without an error ended."""
    status = env.exit_status
    if status is None:
        return _Ended(CANCELLED, "the environment was closed before the episode ended", False)
    # the model's API failed past its retries: an infrastructure failure
    return _Ended(status, env.detail, retryable="(exit_api)" in status)


class _EpisodeRow(NamedTuple):
    """An episode's row: written when it starts, and again when it ends."""

    plan: EpisodePlan
    sandbox_kind: str
    started_at: int

    def started(self) -> dict[str, object]:
        spec, plan = self.plan.task.spec, self.plan
        return {
            "episode_id": plan.episode_id,
            "task_id": spec.id,
            "agent": plan.agent.label,
            "attempt": plan.attempt,
            "sandbox": self.sandbox_kind,
            "exit_status": RUNNING,
            "steps": 0,
            "metric": spec.metric.name,
            "direction": spec.metric.direction,
            "baseline": spec.baseline.score,
            "started_at": self.started_at,
            "attempt_key": plan.attempt_key,
            "try_number": plan.try_number,
            "task_hash": plan.task.content_hash,
            "retryable": False,
            "recorded_at": self.started_at,
        }


async def _record_end(
    plan: EpisodePlan, recorder: Recorder, row: _EpisodeRow, steps: int, ended: _Ended
) -> None:
    await recorder.event(
        plan.episode_id,
        "episode_end",
        payload={"exit_status": ended.status, "error": ended.error},
    )
    now = now_us()
    end = {
        "exit_status": ended.status,
        "error": ended.error,
        "steps": steps,
        "ended_at": now,
        "retryable": ended.retryable,
        "recorded_at": now,
    }
    await recorder.row("episodes", **{**row.started(), **end})
    recorder.close_episode(plan.episode_id)


def _describe(plan: EpisodePlan) -> dict[str, object]:
    return {
        "task_id": plan.task.spec.id,
        "agent": plan.agent.label,
        "attempt": plan.attempt,
        "try": plan.try_number,
    }


def _failure(error: Exception) -> _Ended:
    """How an episode that ``error`` ended, ended.

    The sandbox died or could not start (``early_exit``, worth another try unless the
    agent's own command ended it), or anything else failed (``exit_error``).
    """
    leaves = _leaves(error)
    exhausted = any(_out_of_descriptors(e) for e in leaves)
    sandbox = [e for e in leaves if isinstance(e, SandboxError)]
    if sandbox:
        by_agent = all(getattr(e, "by_agent", False) for e in sandbox)
        return _Ended(EARLY_EXIT, _error_text(sandbox), not by_agent or exhausted, exhausted)
    return _Ended(EXIT_ERROR, _error_text(leaves), retryable=exhausted, exhausted=exhausted)


_NO_DESCRIPTORS = (errno.EMFILE, errno.ENFILE)


def _out_of_descriptors(error: BaseException | None) -> bool:
    """Whether ``error``, or what caused it, is this host running out of open files.

    Only an ``OSError``'s number counts, never a message's text: a message may quote what
    the agent wrote (a path, an output), and an agent must not earn its attempt a new try.
    """
    seen = 0
    while error is not None and seen < 16:
        if isinstance(error, OSError) and error.errno in _NO_DESCRIPTORS:
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def _leaves(error: BaseException) -> list[BaseException]:
    """An exception, or the exceptions of a group with nested groups flattened."""
    if not isinstance(error, BaseExceptionGroup):
        return [error]
    return [leaf for e in error.exceptions for leaf in _leaves(e)]


def _error_text(errors: Sequence[BaseException]) -> str:
    return "\n".join(f"{type(e).__name__}: {e}" for e in errors)
