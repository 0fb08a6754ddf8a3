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

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, NamedTuple

import anyio

from researchgym.agents import ModelSettings
from researchgym.config import SandboxConfig
from researchgym.engine.driver import Ending, drive
from researchgym.engine.env import ResearchEnv
from researchgym.engine.limits import StepLimit
from researchgym.engine.recorder import now_us
from researchgym.engine.services import EvaluatorService, ToolService, request_timeout
from researchgym.engine.status import CANCELLED, EARLY_EXIT, EXIT_ERROR, RUNNING
from researchgym.errors import SandboxError

if TYPE_CHECKING:
    from researchgym.config import AgentConfig, Limits
    from researchgym.engine.bus import Bus
    from researchgym.engine.recorder import Recorder
    from researchgym.sandboxes import SandboxProvider, SandboxSpec
    from researchgym.tasks import Task

__all__ = ["EpisodeOutcome", "EpisodePlan", "RunContext", "attempt_key", "run_episode"]


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


async def run_episode(plan: EpisodePlan, run: RunContext) -> EpisodeOutcome:
    """Run one episode to its end and record it; only cancellation propagates."""
    recorder = run.recorder
    recorder.open_episode(plan.episode_id)
    row = _EpisodeRow(plan, run.sandboxes.kind, now_us())
    ending = _Ended(CANCELLED, None, retryable=False)
    try:
        await recorder.row("episodes", **row.started())
        await recorder.event(plan.episode_id, "episode_start", payload=_describe(plan))
        ending = await _play_safely(plan, run)
    finally:
        with anyio.CancelScope(shield=True):
            steps = recorder.steps(plan.episode_id)
            await _record_end(plan, recorder, row, steps, ending)
    return EpisodeOutcome(plan.episode_id, ending.status, ending.error, steps, ending.retryable)


class _Ended(NamedTuple):
    status: str
    error: str | None
    retryable: bool


async def _play_safely(plan: EpisodePlan, run: RunContext) -> _Ended:
    ended = _Ended(EXIT_ERROR, None, retryable=False)
    try:
        status, error = await _play(plan, run)
        # the model's API failed past its retries: an infrastructure failure
        ended = _Ended(status, error, retryable="(exit_api)" in status)
    except* SandboxError as group:
        # the sandbox died or could not start, unless the agent's own command ended it
        by_agent = all(getattr(e, "by_agent", False) for e in _leaves(group))
        ended = _Ended(EARLY_EXIT, _error_text(group), retryable=not by_agent)
    except* Exception as group:
        if ended.status != EARLY_EXIT:
            ended = _Ended(EXIT_ERROR, _error_text(group), retryable=False)
    return ended


async def _play(plan: EpisodePlan, run: RunContext) -> Ending:
    recorder = run.recorder
    spec = run.sandbox_spec(plan.task)
    async with await run.sandboxes.open(spec, name=f"rgym-{plan.episode_id}") as box:
        await plan.task.lay_out(box)
        ep = plan.episode_id
        async with (
            run.bus.endpoint("tools", episode_id=ep) as tools,
            run.bus.endpoint("evaluator", episode_id=ep) as evaluator,
            run.bus.endpoint("agent", episode_id=ep) as agent_endpoint,
            anyio.create_task_group() as tg,
        ):
            await tg.start(
                EvaluatorService(evaluator, sandbox=box, task=plan.task, recorder=recorder).serve
            )
            service = ToolService(tools, sandbox=box, task=plan.task, recorder=recorder)
            await tg.start(service.serve)
            env = StepLimit(
                ResearchEnv(agent_endpoint, plan.task.spec, timeout=request_timeout(plan.task)),
                max_steps=run.limits.max_steps,
            )
            ending = await drive(plan, run, env, tg, interrupt=service.interrupt)
            tg.cancel_scope.cancel()
    return ending


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


def _leaves(group: BaseExceptionGroup[Exception]) -> list[BaseException]:
    """The exceptions of a group, nested groups flattened."""
    return [
        leaf
        for e in group.exceptions
        for leaf in (_leaves(e) if isinstance(e, BaseExceptionGroup) else [e])
    ]


def _error_text(group: BaseExceptionGroup[Exception]) -> str:
    errors = group.exceptions
    while len(errors) == 1 and isinstance(errors[0], BaseExceptionGroup):
        errors = errors[0].exceptions
    return "\n".join(f"{type(e).__name__}: {e}" for e in errors)
