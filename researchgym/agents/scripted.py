"""Agents that play a fixed list of commands: scripted runs and the task's baseline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from researchgym.agents.registry import agent

if TYPE_CHECKING:
    from collections.abc import Sequence

    from researchgym.agents.base import AgentContext, Observation
    from researchgym.tasks import TaskSpec

__all__ = ["BaselineAgent", "ScriptedAgent"]


class ScriptedAgent:
    """Plays ``commands`` in order, then submits.

    >>> import anyio
    >>> bot = ScriptedAgent(["ls"])
    >>> seen = Observation("start", 0, 10)
    >>> anyio.run(bot.act, seen), anyio.run(bot.act, seen._replace(text="file.txt", step=1))
    ('ls', 'submit')
    """

    def __init__(self, commands: Sequence[str]) -> None:
        self._commands = list(commands)
        self._next = 0

    async def act(self, observation: Observation) -> str:
        """Return the next scripted command, or ``submit`` once the script is played."""
        if self._next >= len(self._commands):
            return "submit"
        self._next += 1
        return self._commands[self._next - 1]


class BaselineAgent(ScriptedAgent):
    """Runs the task's baseline commands, validates, and submits."""

    def __init__(self, task: TaskSpec) -> None:
        super().__init__([*task.baseline.commands, "validate", "submit"])


@agent("scripted")
def _scripted(context: AgentContext, *, commands: list[str]) -> ScriptedAgent:
    return ScriptedAgent(commands)


@agent("baseline")
def _baseline(context: AgentContext) -> BaselineAgent:
    return BaselineAgent(context.task)
