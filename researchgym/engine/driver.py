"""Driving an agent through its episode: what the engine lends it, and where it must stop.

The agent gets an ``AgentContext``: models whose every call is recorded in ``llm_calls``
and charged to the episode's ``Budget``, bus channels for team members, and the episode's
task group for background members. Then the loop runs: observation -> ``agent.act`` ->
``env.step`` -> observation, until the agent submits, a limit autosubmits (steps, wall time,
budget), or the agent stops itself (``AgentStop``: format, context window, API).
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, NamedTuple

import anyio

from researchgym.agents import AgentContext, AgentStop, Observation, create_agent, open_model
from researchgym.engine.budget import Budget
from researchgym.engine.recorder import to_json
from researchgym.tools import command_docs

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from anyio.abc import TaskGroup

    from researchgym.agents import Agent, Channel, Model, ModelCall
    from researchgym.engine.env import Env, StepResult
    from researchgym.engine.episode import EpisodePlan, RunContext

__all__ = ["Ending", "drive"]


class Ending(NamedTuple):
    """How the agent's part of an episode ended."""

    exit_status: str
    detail: str | None
    """Why an agent stopped itself or a limit stopped it, in words."""


async def drive(
    plan: EpisodePlan,
    run: RunContext,
    env: Env,
    task_group: TaskGroup,
    *,
    interrupt: Callable[[], None],
) -> Ending:
    """Build the episode's agent and play until the episode is over.

    ``interrupt`` stops the command in flight when the wall time runs out, so that the
    autosubmission need not wait for it.

    Raises:
        Exception: Whatever the agent or the environment raise, except ``AgentStop``.
    """
    async with AsyncExitStack() as channels:
        lender = _Lender(plan, run, task_group, channels)
        built = create_agent(plan.agent.kind, lender.context(), plan.agent.params)
        model = built.params.get("model")
        await run.recorder.row(
            "agents",
            episode_id=plan.episode_id,
            name="agent",
            kind=built.kind,
            role="agent",
            request_model=model if isinstance(model, str) else None,
            params=to_json(built.params),
        )
        max_wall = run.limits.max_wall_s
        with anyio.move_on_after(max_wall if max_wall is not None else float("inf")) as wall:
            ending = await _loop(built.agent, env, run.limits.max_steps)
        if wall.cancelled_caught:
            interrupt()
            final = await env.autosubmit("exit_time")
            return Ending(final.info["exit_status"], f"the episode ran over {max_wall:g} s")
        return ending


async def _loop(agent: Agent, env: Env, max_steps: int) -> Ending:
    text, _ = await env.reset()
    observation = Observation(text, 0, max_steps, None, None)
    while True:
        try:
            action = await agent.act(observation)
        except AgentStop as stop:
            final = await env.autosubmit(stop.reason)
            return Ending(final.info["exit_status"], stop.detail)
        result = await env.step(action)
        if result.terminated or result.truncated:
            return Ending(result.info["exit_status"], None)
        observation = _observation(result, env.steps, max_steps)


def _observation(result: StepResult, steps: int, max_steps: int) -> Observation:
    info = result.info
    return Observation(result.observation, steps, max_steps, info.get("open_file"), info.get("cwd"))


class _Lender:
    """What the engine lends one episode's agent."""

    def __init__(
        self, plan: EpisodePlan, run: RunContext, task_group: TaskGroup, channels: AsyncExitStack
    ) -> None:
        self._plan = plan
        self._run = run
        self._tg = task_group
        self._channels = channels
        self._budget = Budget(run.limits.max_cost_usd, run.limits.max_tokens)
        self._members: set[str] = set()

    def context(self) -> AgentContext:
        return AgentContext(
            task=self._plan.task.spec,
            command_docs=command_docs(),
            max_steps=self._run.limits.max_steps,
            open_model=self.open_model,
            open_channel=self.open_channel,
            start_soon=self._start_soon,
        )

    def open_model(self, name: str, *, member: str = "agent", api_base: str | None = None) -> Model:
        async def hook(call: ModelCall) -> None:
            await self._record_member(member, name)
            await self._run.recorder.llm_call(self._plan.episode_id, member=member, call=call)
            self._budget.charge(call)

        return open_model(
            name,
            settings=self._run.models,
            hook=hook,
            api_base=api_base or self._run.api_base,
        )

    def _start_soon(self, member: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._tg.start_soon(member)

    def open_channel(self, name: str) -> Channel:
        endpoint = self._run.bus.endpoint(name, episode_id=self._plan.episode_id)
        self._channels.push_async_callback(endpoint.aclose)
        return endpoint

    async def _record_member(self, member: str, model: str) -> None:
        """A team member gets a row of its own in ``agents`` at its first model call."""
        if member == "agent" or member in self._members:
            return
        self._members.add(member)
        await self._run.recorder.row(
            "agents",
            episode_id=self._plan.episode_id,
            name=member,
            kind=self._plan.agent.kind,
            role=member,
            request_model=model,
            params=None,
        )
