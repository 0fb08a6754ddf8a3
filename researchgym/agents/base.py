"""The Agent contract: turn an observation into an action.

An agent is built for one episode by a registered factory ``(context, **params)``; the
``AgentContext`` gives it what the engine lends it: the task, the command docs, models
whose every call is recorded and counted against the episode's budget, bus channels for
team members, and a way to start background members. An agent stops its episode early by
raising ``AgentStop`` with the reason: the engine then scores the current artefact
(autosubmission) and records the reason in the exit status.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from researchgym.agents.models import Model
    from researchgym.tasks import TaskSpec

__all__ = [
    "Agent",
    "AgentContext",
    "AgentStop",
    "Channel",
    "ModelOpener",
    "Observation",
    "Received",
    "StopReason",
]

T_Payload = TypeVar("T_Payload")

StopReason = Literal["exit_cost", "exit_context", "exit_format", "exit_api", "exit_time"]
"""Why an agent ended its episode early (as MLGym names it): its budget ran out, its
model's context window is full, it kept answering in the wrong format, its model's API kept
failing, or its time is up."""


class AgentStop(Exception):
    """Raised by an agent to end its episode early; the artefact is scored all the same.

    Attributes:
        reason: Why, as the exit status will say.
        detail: What happened, in words (stored with the episode).
    """

    def __init__(self, reason: StopReason, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


class Observation(NamedTuple):
    """What an agent sees before each action."""

    text: str
    """The output of its last action (at first: the task and the commands)."""
    step: int
    """Actions taken so far."""
    max_steps: int
    """Actions allowed in the episode."""
    open_file: str | None = None
    """The file open in the viewer, if any."""
    cwd: str | None = None
    """The shell's working directory."""


class Received(Protocol):
    """A message a member received (the engine's ``Envelope``)."""

    @property
    def sender(self) -> str:
        """Who sent it."""
        ...

    def payload_as(self, kind: type[T_Payload]) -> T_Payload:
        """The payload, as the ``kind`` of message expected.

        Raises:
            UnexpectedMessageError: If it is of another type.
        """
        ...


class Channel(Protocol):
    """A team member's address on the episode's bus (the engine's ``Endpoint``)."""

    name: str

    async def ask(
        self, recipient: str, payload: object, reply: type[T_Payload], *, timeout: float
    ) -> T_Payload:
        """Send a request and return its reply's payload, checked to be a ``reply``."""
        ...

    async def reply(self, request: Any, payload: object) -> object:
        """Answer a request (a ``Received`` message)."""
        ...

    async def receive(self) -> Received:
        """Return the next message of the mailbox (``anyio.EndOfStream`` once closed)."""
        ...


ModelOpener = Callable[..., "Model"]
"""``open(name, *, member="agent", api_base=None) -> Model``: a model whose calls the engine
records under ``member`` and counts against the episode's budget (and the member's)."""


@dataclass(frozen=True)
class AgentContext:
    """What the engine lends an agent for one episode."""

    task: TaskSpec
    command_docs: str
    """How to use every command, for prompts."""
    max_steps: int
    open_model: ModelOpener
    open_channel: Callable[[str], Channel]
    """Opens a bus endpoint named for a team member (closed with the episode)."""
    start_soon: Callable[[Callable[[], Coroutine[Any, Any, None]]], None]
    """Runs a background member (a planner, say) for as long as the episode lasts."""
    format_error: Callable[[str], None] = lambda problem: None
    """Counts a malformed model reply against the episode's limit on format errors (what
    was wrong with it, in words); raises ``AgentStop`` (``exit_format``) once it is over."""


@runtime_checkable
class Agent(Protocol):
    """Who acts in an episode.

    An agent sees the task's first observation, then the observation of each of its
    actions, and answers with the next action: one command string (``python3 train.py``,
    ``validate``, ``submit``). It never touches the sandbox itself.
    """

    async def act(self, observation: Observation) -> str:
        """Return the next action, given the latest observation.

        Raises:
            AgentStop: To end the episode early (its artefact is scored).
            Exception: Any other error ends the episode with status ``exit_error``.
        """
        ...
