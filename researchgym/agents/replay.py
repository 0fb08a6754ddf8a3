"""The replay agent: the actions of a stored episode, in order, and the same ending."""

from __future__ import annotations

from typing import TYPE_CHECKING

from researchgym.agents.base import AgentStop, StopReason
from researchgym.agents.registry import agent
from researchgym.agents.scripted import ScriptedAgent

if TYPE_CHECKING:
    from collections.abc import Sequence

    from researchgym.agents.base import AgentContext, Observation

__all__ = ["ReplayAgent"]


class ReplayAgent(ScriptedAgent):
    """Plays back a stored episode's actions (``researchgym replay`` builds it from storage).

    Once they are played, it ends as the stored episode did: it submits, or it stops for the
    stored reason (``ending``: an agent that ran out of budget or format retries stopped
    there), so that the replay's exit status can be compared with the stored one.
    """

    def __init__(self, actions: Sequence[str], *, ending: StopReason | None = None) -> None:
        super().__init__(actions)
        self._ending = ending

    async def act(self, observation: Observation) -> str:
        """Return the next stored action; then submit, or stop as the stored episode did."""
        if self._ending is not None and self._next >= len(self._commands):
            raise AgentStop(self._ending, "the stored episode stopped here")
        return await super().act(observation)


@agent("replay")
def _replay(
    context: AgentContext, *, actions: list[str], ending: StopReason | None = None
) -> ReplayAgent:
    return ReplayAgent(actions, ending=ending)
