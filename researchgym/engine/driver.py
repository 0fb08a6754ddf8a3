"""Driving an agent through its episode: what the engine lends it, and the loop.

The agent gets an ``AgentContext``: models whose every call is recorded in ``llm_calls``
and charged to the environment (whose limits may stop the agent in the middle of the call),
bus channels for team members, and the episode's task group for background members. Then
the loop runs: observation -> ``agent.act`` -> ``env.step`` -> observation, until the
episode is over. The limits are the environment's: this loop only lets the agent think
within the time the environment has left, and turns an agent's stop (``AgentStop``, a
limit's included) into the environment's autosubmission.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import anyio

from researchgym.agents import AgentContext, AgentStop, Observation, create_agent, open_model
from researchgym.engine.limits import stop_reason
from researchgym.engine.recorder import to_json
from researchgym.tools import command_docs
from researchgym.words import AGENT

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from researchgym.agents import Agent, Channel, Model, ModelCall
    from researchgym.engine.env import Env, StepResult
    from researchgym.engine.episode import EpisodePlan, RunContext

__all__ = ["drive", "play"]


async def drive(
    plan: EpisodePlan,
    run: RunContext,
    env: Env,
    start_soon: Callable[[Callable[[], Coroutine[Any, Any, None]]], None],
) -> None:
    """Build the episode's agent and play until the episode is over.

    ``start_soon`` runs a team's background member for as long as the episode lasts.

    Raises:
        Exception: Whatever the agent or the environment raise, except ``AgentStop``.
    """
    text, info = await env.reset()
    max_steps: int = info["max_steps"]
    async with AsyncExitStack() as channels:
        lender = _Lender(plan, run, env, start_soon, channels)
        built = create_agent(plan.agent.kind, lender.context(max_steps), plan.agent.params)
        model = built.params.get("model")
        await run.recorder.row(
            "agents",
            episode_id=plan.episode_id,
            name=AGENT,
            kind=built.kind,
            role=AGENT,
            request_model=model if isinstance(model, str) else None,
            params=to_json(built.params),
        )
        await play(built.agent, env, Observation(text, 0, max_steps, None, None))


async def play(agent: Agent, env: Env, first: Observation) -> None:
    """Let ``agent`` act in ``env`` (already reset) until the episode is over."""
    observation = first
    while True:
        try:
            action = await _think(agent, env, observation)
        except AgentStop as stop:
            await env.autosubmit(*stop_reason(stop))
            return
        result = await env.step(action)
        if result.terminated or result.truncated:
            return
        observation = _observation(result, env.steps, first.max_steps)


async def _think(agent: Agent, env: Env, observation: Observation) -> str:
    """The agent's next action, within the time the environment has left.

    Raises:
        AgentStop: If the agent stopped, or a limit stopped it.
    """
    with anyio.move_on_after(env.seconds_left()):
        return await agent.act(observation)
    env.check()  # the time is up: this raises LimitReached
    raise AssertionError("the environment's time ran out, and its limits say it did not")


def _observation(result: StepResult, steps: int, max_steps: int) -> Observation:
    info = result.info
    return Observation(result.observation, steps, max_steps, info.get("open_file"), info.get("cwd"))


class _Lender:
    """What the engine lends one episode's agent."""

    def __init__(
        self,
        plan: EpisodePlan,
        run: RunContext,
        env: Env,
        start_soon: Callable[[Callable[[], Coroutine[Any, Any, None]]], None],
        channels: AsyncExitStack,
    ) -> None:
        self._plan = plan
        self._run = run
        self._env = env
        self._start_soon = start_soon
        self._channels = channels
        self._members: set[str] = set()

    def context(self, max_steps: int) -> AgentContext:
        return AgentContext(
            task=self._plan.task.spec,
            command_docs=command_docs(),
            max_steps=max_steps,
            open_model=self.open_model,
            open_channel=self.open_channel,
            start_soon=self._start_soon,
            format_error=self._env.format_error,
        )

    def open_model(self, name: str, *, member: str = AGENT, api_base: str | None = None) -> Model:
        async def hook(call: ModelCall) -> None:
            await self._record_member(member, name)
            await self._run.recorder.llm_call(self._plan.episode_id, member=member, call=call)
            self._env.charge(call)

        return open_model(
            name,
            settings=self._run.models,
            hook=hook,
            api_base=api_base or self._run.api_base,
        )

    def open_channel(self, name: str) -> Channel:
        endpoint = self._run.bus.endpoint(name, episode_id=self._plan.episode_id)
        self._channels.push_async_callback(endpoint.aclose)
        return endpoint

    async def _record_member(self, member: str, model: str) -> None:
        """A team member gets a row of its own in ``agents`` at its first model call."""
        if member == AGENT or member in self._members:
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
