"""The Agent contract: turn an observation into an action."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["Agent"]


@runtime_checkable
class Agent(Protocol):
    """Who acts in an episode.

    An agent sees the task's first observation, then the observation of each of its
    actions, and answers with the next action: one command string (``python3 train.py``,
    ``validate``, ``submit``). It never touches the sandbox itself.
    """

    async def act(self, observation: str) -> str:
        """Return the next action, given the latest observation.

        Raises:
            Exception: Any error ends the episode with status ``exit_error``.
        """
        ...
