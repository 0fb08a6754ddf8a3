"""One episode: a sandbox, its services on the bus, and the agent's loop.

1. Open a sandbox fitting the task, with its ``data/`` read-only at ``workdir/data``, and
   copy ``workspace/`` into the workdir. ``eval/`` stays out until an evaluation.
2. Start the evaluator and the tool service on the bus.
3. Drive the agent: observation -> action -> ``env.step`` (a request to the tool service)
   -> observation, until it submits or a limit autosubmits.
4. Record how it ended. A failure ends this episode only: a dead sandbox is
   ``early_exit``, anything else ``exit_error``, each with its error stored.
"""

from __future__ import annotations

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
from researchgym.engine.status import CANCELLED, EARLY_EXIT, EXIT_ERROR
from researchgym.errors import SandboxError

if TYPE_CHECKING:
    from researchgym.config import AgentConfig, Limits
    from researchgym.engine.bus import Bus
    from researchgym.engine.recorder import Recorder
    from researchgym.sandboxes import SandboxProvider, SandboxSpec
    from researchgym.tasks import Task

__all__ = ["EpisodeOutcome", "EpisodePlan", "RunContext", "run_episode"]


@dataclass(frozen=True)
class EpisodePlan:
    """One episode to run: a task, an agent, an attempt."""

    episode_id: str
    task: Task
    agent: AgentConfig
    attempt: int


class EpisodeOutcome(NamedTuple):
    """How an episode ended."""

    episode_id: str
    exit_status: str
    error: str | None
    steps: int


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
    started_at = now_us()
    status: str = CANCELLED
    error: str | None = None
    try:
        await recorder.event(plan.episode_id, "episode_start", payload=_describe(plan))
        status, error = await _play_safely(plan, run)
    finally:
        with anyio.CancelScope(shield=True):
            steps = recorder.steps(plan.episode_id)
            kind = run.sandboxes.kind
            await _record_end(plan, recorder, started_at, kind, steps, status, error)
    return EpisodeOutcome(plan.episode_id, status, error, steps)


async def _play_safely(plan: EpisodePlan, run: RunContext) -> tuple[str, str | None]:
    status, error = EXIT_ERROR, None
    try:
        status, error = await _play(plan, run)
    except* SandboxError as group:
        status, error = EARLY_EXIT, _error_text(group)
    except* Exception as group:
        if status != EARLY_EXIT:
            error = _error_text(group)
    return status, error


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


async def _record_end(
    plan: EpisodePlan,
    recorder: Recorder,
    started_at: int,
    sandbox_kind: str,
    steps: int,
    status: str,
    error: str | None,
) -> None:
    spec = plan.task.spec
    await recorder.event(
        plan.episode_id, "episode_end", payload={"exit_status": status, "error": error}
    )
    await recorder.row(
        "episodes",
        episode_id=plan.episode_id,
        task_id=spec.id,
        agent=plan.agent.label,
        attempt=plan.attempt,
        sandbox=sandbox_kind,
        exit_status=status,
        error=error,
        steps=steps,
        metric=spec.metric.name,
        direction=spec.metric.direction,
        baseline=spec.baseline.score,
        started_at=started_at,
        ended_at=now_us(),
    )
    recorder.close_episode(plan.episode_id)


def _describe(plan: EpisodePlan) -> dict[str, object]:
    return {"task_id": plan.task.spec.id, "agent": plan.agent.label, "attempt": plan.attempt}


def _error_text(group: BaseExceptionGroup[Exception]) -> str:
    errors = group.exceptions
    while len(errors) == 1 and isinstance(errors[0], BaseExceptionGroup):
        errors = errors[0].exceptions
    return "\n".join(f"{type(e).__name__}: {e}" for e in errors)
