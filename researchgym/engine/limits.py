"""Limits of an episode: environment wrappers, stacked from a ``Limits`` configuration.

One mechanism serves them all. A limit knows when it is reached (``reached``); it is checked
before and after every step, and whenever the episode's agent spends (``charge``), gets a
malformed reply from its model (``format_error``), or runs out of time while it thinks (the
driver asks ``check``). A limit reached during a step
evaluates the current artefact (autosubmission) and ends the episode with
``truncated=True`` and the limit's exit reason; reached anywhere else, it raises
``LimitReached``, an ``AgentStop``: the agent stops where it stands and the episode's
driver autosubmits for it.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import TYPE_CHECKING, ClassVar

import anyio
from typing_extensions import override

from researchgym.agents import AgentStop
from researchgym.engine.env import Env, StepResult, Wrapper

if TYPE_CHECKING:
    from researchgym.agents import ModelCall, StopReason
    from researchgym.config import Limits
    from researchgym.engine.status import ExitReason

__all__ = [
    "BudgetLimit",
    "FormatLimit",
    "Limit",
    "LimitReached",
    "StepLimit",
    "TimeLimit",
    "limited",
]


class LimitReached(AgentStop):
    """A limit of the episode is reached: the agent stops and its artefact is scored."""

    def __init__(self, reason: ExitReason, detail: str | None) -> None:
        super().__init__(reason, detail or reason)  # type: ignore[arg-type]
        self.exit_reason: ExitReason = reason
        self.limit_detail = detail
        """What happened, in words; None where the exit status says it all."""


def limited(env: Env, limits: Limits) -> Env:
    """``env`` inside a wrapper for every limit that ``limits`` sets."""
    env = StepLimit(env, max_steps=limits.max_steps)
    if limits.max_wall_s is not None:
        env = TimeLimit(env, max_wall_s=limits.max_wall_s)
    if limits.max_cost_usd is not None or limits.max_tokens is not None:
        env = BudgetLimit(env, max_cost_usd=limits.max_cost_usd, max_tokens=limits.max_tokens)
    if limits.max_format_errors is not None:
        env = FormatLimit(env, max_format_errors=limits.max_format_errors)
    return env


class Limit(Wrapper):
    """A wrapper that ends the episode once ``reached`` says why."""

    reason: ClassVar[ExitReason]
    note: ClassVar[str]
    """Shown after the observation of the step that reached the limit."""

    @abstractmethod
    def reached(self) -> tuple[bool, str | None]:
        """Whether the limit is reached, and what happened in words (or None)."""

    @override
    def check(self) -> None:
        self.env.check()
        hit, detail = self.reached()
        if hit:
            raise LimitReached(self.reason, detail)

    @override
    async def step(self, action: str) -> StepResult:
        try:
            self.check()
        except LimitReached as limit:
            return await self.env.autosubmit(limit.exit_reason, limit.limit_detail)
        try:
            result = await self._step(action)
        except LimitReached as limit:
            return await self.env.autosubmit(limit.exit_reason, limit.limit_detail)
        if result.terminated or result.truncated:
            return result
        try:
            self.check()
        except LimitReached as limit:
            final = await self.env.autosubmit(limit.exit_reason, limit.limit_detail)
            observation = f"{result.observation}\n\n[{self.note}]\n{final.observation}"
            return final._replace(observation=observation)
        return result

    async def _step(self, action: str) -> StepResult:
        """Run the action in the environment inside (a limit may cut it short)."""
        return await self.env.step(action)


class StepLimit(Limit):
    """Autosubmits when the agent has taken ``max_steps`` actions without submitting.

    Args:
        env: The environment to limit.
        max_steps: Actions allowed; the last one is followed by the autosubmission.
    """

    reason = "max_steps"
    note = "Step limit reached."

    def __init__(self, env: Env, *, max_steps: int) -> None:
        super().__init__(env)
        if max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, not {max_steps}.")
        self.max_steps = max_steps

    @override
    async def reset(self) -> tuple[str, dict[str, object]]:
        observation, info = await self.env.reset()
        return observation, {**info, "max_steps": self.max_steps}

    @override
    def reached(self) -> tuple[bool, str | None]:
        return self.env.steps >= self.max_steps, None


class TimeLimit(Limit):
    """Autosubmits when the episode has run ``max_wall_s`` seconds since ``reset``.

    A command still running then is interrupted; an agent still thinking is stopped by
    its driver, which runs it within ``seconds_left``.
    """

    reason = "exit_time"
    note = "Time limit reached."

    def __init__(self, env: Env, *, max_wall_s: float) -> None:
        super().__init__(env)
        if max_wall_s <= 0:
            raise ValueError(f"max_wall_s must be positive, not {max_wall_s:g}.")
        self.max_wall_s = max_wall_s
        self._deadline = math.inf

    @override
    async def reset(self) -> tuple[str, dict[str, object]]:
        self._deadline = anyio.current_time() + self.max_wall_s
        return await self.env.reset()

    @override
    def seconds_left(self) -> float:
        mine = max(self._deadline - anyio.current_time(), 0.0)
        return min(mine, self.env.seconds_left())

    @override
    def reached(self) -> tuple[bool, str | None]:
        hit = anyio.current_time() >= self._deadline
        return hit, f"the episode ran over {self.max_wall_s:g} s"

    @override
    async def _step(self, action: str) -> StepResult:
        with anyio.move_on_after(self.seconds_left()) as scope:
            return await self.env.step(action)
        assert scope.cancelled_caught
        self.env.interrupt()
        raise LimitReached(self.reason, f"the episode ran over {self.max_wall_s:g} s")


class BudgetLimit(Limit):
    """Stops the agent once its model calls cost more or used more tokens than allowed.

    The budget counts all the calls of the episode, whoever makes them, so that a team's
    budget is enforced as a whole (a team enforces its members' own budgets itself).
    """

    reason = "exit_cost"
    note = "Budget spent."

    def __init__(
        self, env: Env, *, max_cost_usd: float | None = None, max_tokens: int | None = None
    ) -> None:
        super().__init__(env)
        self.max_cost_usd = max_cost_usd
        self.max_tokens = max_tokens
        """Input and output tokens together."""
        self.cost_usd = 0.0
        self.tokens = 0
        self.calls = 0

    @override
    def charge(self, call: ModelCall) -> None:
        self.env.charge(call)
        self.calls += 1
        self.cost_usd += call.cost_usd
        self.tokens += call.input_tokens + call.output_tokens
        self.check()

    @override
    def reached(self) -> tuple[bool, str | None]:
        if self.max_cost_usd is not None and self.cost_usd > self.max_cost_usd:
            return True, (
                f"the episode spent ${self.cost_usd:.4f} on models, over its "
                f"${self.max_cost_usd:g} limit"
            )
        if self.max_tokens is not None and self.tokens > self.max_tokens:
            return (
                True,
                f"the episode used {self.tokens:,} tokens, over its {self.max_tokens:,} limit",
            )
        return False, None


class FormatLimit(Limit):
    """Stops the agent once its model sent more malformed replies than allowed, in all."""

    reason = "exit_format"
    note = "Format error limit reached."

    def __init__(self, env: Env, *, max_format_errors: int) -> None:
        super().__init__(env)
        if max_format_errors < 1:
            raise ValueError(f"max_format_errors must be at least 1, not {max_format_errors}.")
        self.max_format_errors = max_format_errors
        self.format_errors = 0
        self._last = ""

    @override
    def format_error(self, problem: str) -> None:
        self.env.format_error(problem)
        self.format_errors += 1
        self._last = problem
        self.check()

    @override
    def reached(self) -> tuple[bool, str | None]:
        return self.format_errors > self.max_format_errors, (
            f"{self.format_errors} malformed replies in the episode, over its "
            f"{self.max_format_errors} limit; the last: {self._last}"
        )


def stop_reason(stop: AgentStop) -> tuple[StopReason | ExitReason, str | None]:
    """The exit reason and the detail of an agent's stop or a limit's."""
    if isinstance(stop, LimitReached):
        return stop.exit_reason, stop.limit_detail
    return stop.reason, stop.detail
