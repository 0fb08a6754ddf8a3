"""The Gym-style environment of one episode: reset, then step until done.

``ResearchEnv`` is the agent's side of the bus: ``step(action)`` sends the action to the
episode's tool service as a request and turns the reply into a ``StepResult``. As in MLGym,
the reward is always 0 and ``info["score"]`` lists the metrics of every scored validate and
submit so far; the score is the signal, not the reward. Every limit is a wrapper
(``researchgym.engine.limits``) around it.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, NamedTuple

from typing_extensions import override

from researchgym.engine.messages import ToolReply, ToolRequest
from researchgym.tools import command_docs
from researchgym.words import TOOLS

if TYPE_CHECKING:
    from collections.abc import Callable

    from researchgym.agents import ModelCall
    from researchgym.engine.bus import Endpoint
    from researchgym.engine.status import ExitReason
    from researchgym.tasks import TaskSpec

__all__ = ["Env", "ResearchEnv", "StepResult", "Wrapper"]


class StepResult(NamedTuple):
    """What one step returns, unpackable as Gym's 5-tuple."""

    observation: str
    reward: float
    terminated: bool
    """The episode ended by its own logic (submit)."""
    truncated: bool
    """The episode was cut by a limit (and autosubmitted)."""
    info: dict[str, Any]
    """``score``: the metrics so far; ``exit_status`` once the episode is over, and
    ``detail`` when a limit or the agent stopped it, in words."""


class Env(ABC):
    """An async environment for one episode: ``reset()`` once, then ``step()`` until done.

    Limits wrap an environment (``Wrapper``); what they need to know of the episode beyond
    its steps (what its models cost, how much time is left) goes through ``charge`` and
    ``seconds_left``, which every wrapper passes on.
    """

    @abstractmethod
    async def reset(self) -> tuple[str, dict[str, Any]]:
        """Return the first observation and info.

        Raises:
            RuntimeError: If called twice (an environment runs one episode).
        """

    @abstractmethod
    async def step(self, action: str) -> StepResult:
        """Run one action.

        Raises:
            RuntimeError: Before reset or after the episode ended.
            BusError: If the tool service is gone or does not answer.
        """

    @abstractmethod
    async def autosubmit(self, reason: ExitReason, detail: str | None = None) -> StepResult:
        """Evaluate the current artefact and end the episode: a limit or the agent stopped it.

        Raises:
            RuntimeError: After the episode ended.
            BusError: If the tool service is gone or does not answer.
        """

    @property
    @abstractmethod
    def steps(self) -> int:
        """Actions taken so far."""

    @property
    @abstractmethod
    def exit_status(self) -> str | None:
        """The exit status, once the episode is over."""

    @property
    def detail(self) -> str | None:
        """Why a limit or the agent stopped the episode, in words, once it has."""
        return None

    def charge(self, call: ModelCall) -> None:
        """Count a model call of the episode's agent against the limits.

        Raises:
            LimitReached: If the call took the episode over a limit.
        """
        return

    def format_error(self, problem: str) -> None:
        """Count a malformed model reply of the episode's agent against the limits.

        Raises:
            LimitReached: If the episode has had more than its limit.
        """
        return

    def check(self) -> None:
        """Raise ``LimitReached`` if a limit of the episode is reached."""
        return

    def seconds_left(self) -> float:
        """Seconds the episode may still run (infinite without a time limit)."""
        return math.inf

    def interrupt(self) -> None:
        """Stop the command in flight (the time is up); only an autosubmission runs after."""
        return

    async def aclose(self) -> None:
        """Release what the environment holds; its episode ends if it has not."""
        return


class ResearchEnv(Env):
    """The environment of one episode, talking to its tool service over the bus."""

    def __init__(
        self,
        endpoint: Endpoint,
        task: TaskSpec,
        *,
        tools: str = TOOLS,
        timeout: float,
        interrupt: Callable[[], None] | None = None,
    ) -> None:
        """Create the environment.

        Args:
            endpoint: The agent's endpoint on the episode's bus.
            task: The task, for the first observation.
            tools: The tool service's address.
            timeout: Seconds to wait for the observation of one action.
            interrupt: Stops the tool service's command in flight.
        """
        self._endpoint = endpoint
        self._task = task
        self._tools = tools
        self._timeout = timeout
        self._interrupt = interrupt
        self._started = False
        self._steps = 0
        self._scores: list[dict[str, float]] = []
        self._exit_status: str | None = None
        self._detail: str | None = None

    @property
    @override
    def steps(self) -> int:
        return self._steps

    @property
    @override
    def exit_status(self) -> str | None:
        return self._exit_status

    @property
    @override
    def detail(self) -> str | None:
        return self._detail

    @override
    def interrupt(self) -> None:
        if self._interrupt is not None:
            self._interrupt()

    @override
    async def reset(self) -> tuple[str, dict[str, Any]]:
        if self._started:
            raise RuntimeError("An environment runs one episode; reset() was already called.")
        self._started = True
        observation = f"{self._task.description.strip()}\n\nCOMMANDS:\n{command_docs()}"
        return observation, {"task_id": self._task.id, "score": []}

    @override
    async def step(self, action: str) -> StepResult:
        if not self._started:
            raise RuntimeError("Call reset() before step().")
        if self._exit_status is not None:
            raise RuntimeError(f"The episode is over ({self._exit_status}).")
        self._steps += 1
        result = await self._ask(ToolRequest(action, self._steps))
        return result._replace(terminated=result.info.get("exit_status") is not None)

    @override
    async def autosubmit(self, reason: ExitReason, detail: str | None = None) -> StepResult:
        if self._exit_status is not None:
            raise RuntimeError(f"The episode is over ({self._exit_status}).")
        result = await self._ask(ToolRequest("submit", self._steps, reason))
        self._detail = detail
        if detail is not None:
            result.info["detail"] = detail
        return result._replace(truncated=True)

    async def _ask(self, request: ToolRequest) -> StepResult:
        reply = await self._endpoint.ask(self._tools, request, ToolReply, timeout=self._timeout)
        if reply.metrics:
            self._scores.append(reply.metrics)
        self._exit_status = reply.exit_status
        info: dict[str, Any] = {
            "score": list(self._scores),
            "open_file": reply.open_file,
            "cwd": reply.cwd,
        }
        if reply.exit_status is not None:
            info["exit_status"] = reply.exit_status
        return StepResult(reply.observation, 0.0, False, False, info)


class Wrapper(Env):
    """An environment around another one; override what the wrapper changes."""

    def __init__(self, env: Env) -> None:
        self.env = env

    @property
    @override
    def steps(self) -> int:
        return self.env.steps

    @property
    @override
    def exit_status(self) -> str | None:
        return self.env.exit_status

    @property
    @override
    def detail(self) -> str | None:
        return self.env.detail

    @override
    async def reset(self) -> tuple[str, dict[str, Any]]:
        return await self.env.reset()

    @override
    async def step(self, action: str) -> StepResult:
        return await self.env.step(action)

    @override
    async def autosubmit(self, reason: ExitReason, detail: str | None = None) -> StepResult:
        return await self.env.autosubmit(reason, detail)

    @override
    def charge(self, call: ModelCall) -> None:
        self.env.charge(call)

    @override
    def format_error(self, problem: str) -> None:
        self.env.format_error(problem)

    @override
    def check(self) -> None:
        self.env.check()

    @override
    def seconds_left(self) -> float:
        return self.env.seconds_left()

    @override
    def interrupt(self) -> None:
        self.env.interrupt()

    @override
    async def aclose(self) -> None:
        await self.env.aclose()
