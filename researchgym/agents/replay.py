"""The replay agent: the actions of a stored episode, in order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from researchgym.agents.registry import agent
from researchgym.agents.scripted import ScriptedAgent

if TYPE_CHECKING:
    from researchgym.agents.base import AgentContext

__all__ = ["ReplayAgent"]


class ReplayAgent(ScriptedAgent):
    """Plays back a stored episode's actions (``researchgym replay`` builds it from storage).

    Once they are played, it submits, as the stored episode did (or as its limit did).
    """


@agent("replay")
def _replay(context: AgentContext, *, actions: list[str]) -> ReplayAgent:
    return ReplayAgent(actions)
