"""The agent kind ``ask-model``: runs what its model answers, as it answers it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from researchgym.agents import AgentContext, Model, Observation


class AskModel:
    """Sends each observation to its model and runs the reply as the next command."""

    def __init__(self, model: Model) -> None:
        self._model = model

    async def act(self, observation: Observation) -> str:
        """The model's reply to the observation, stripped."""
        reply = await self._model.complete([{"role": "user", "content": observation.text}])
        return reply.text.strip() or "submit"


def ask_model(context: AgentContext, *, model: str = "echo/ls") -> AskModel:
    """Build the agent on ``model`` (any model: researchgym records and counts its calls)."""
    return AskModel(context.open_model(model))
