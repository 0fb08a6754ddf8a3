"""The Gym-style environment of one episode: reset, then step until done.

``ResearchEnv`` is the agent's side of the bus: ``step(action)`` sends the action to the
episode's tool service as a request and turns the reply into a ``StepResult``. As in MLGym,
the reward is always 0 and ``info["score"]`` lists the metrics of every scored validate and
submit so far; the score is the signal, not the reward. Limits are wrappers
(``researchgym.engine.limits``) around it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, NamedTuple

from typing_extensions import override

from researchgym.engine.messages import ToolReply, ToolRequest
from researchgym.tools import command_docs

if TYPE_CHECKING:
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
    """``score``: the metrics so far; ``exit_status`` once the episode is over."""


class Env(ABC):
    """An async environment for one episode: ``reset()`` once, then ``step()`` until done."""

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
    async def autosubmit(self, reason: ExitReason) -> StepResult:
        """Evaluate the current artefact and end the episode because of a limit.

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


class ResearchEnv(Env):
    """The environment of one episode, talking to its tool service over the bus."""

    def __init__(
        self, endpoint: Endpoint, task: TaskSpec, *, tools: str = "tools", timeout: float
    ) -> None:
        """Create the environment.

        Args:
            endpoint: The agent's endpoint on the episode's bus.
            task: The task, for the first observation.
            tools: The tool service's address.
            timeout: Seconds to wait for the observation of one action.
        """
        self._endpoint = endpoint
        self._task = task
        self._tools = tools
        self._timeout = timeout
        self._started = False
        self._steps = 0
        self._scores: list[dict[str, float]] = []
        self._exit_status: str | None = None

    @property
    @override
    def steps(self) -> int:
        return self._steps

    @property
    @override
    def exit_status(self) -> str | None:
        return self._exit_status

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
        self._steps += 1
        result = await self._ask(ToolRequest(action, self._steps))
        return result._replace(terminated=result.info.get("exit_status") is not None)

    @override
    async def autosubmit(self, reason: ExitReason) -> StepResult:
        result = await self._ask(ToolRequest("submit", self._steps, reason))
        return result._replace(truncated=True)

    async def _ask(self, request: ToolRequest) -> StepResult:
        if self._exit_status is not None:
            raise RuntimeError(f"The episode is over ({self._exit_status}).")
        envelope = await self._endpoint.request(self._tools, request, timeout=self._timeout)
        reply: ToolReply = envelope.payload
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

    @override
    async def reset(self) -> tuple[str, dict[str, Any]]:
        return await self.env.reset()

    @override
    async def step(self, action: str) -> StepResult:
        return await self.env.step(action)

    @override
    async def autosubmit(self, reason: ExitReason) -> StepResult:
        return await self.env.autosubmit(reason)
