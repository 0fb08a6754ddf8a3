"""An episode's budget: every model call is charged to it, and running out stops the agent.

The budget counts all the calls of the episode, whoever makes them, so that a team's budget
is enforced as a whole; a team enforces its members' own budgets itself. Running out raises
``AgentStop("exit_cost")`` from inside the call that overspent, so the agent stops where it
stands and its artefact is scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from researchgym.agents import AgentStop

if TYPE_CHECKING:
    from researchgym.agents import ModelCall

__all__ = ["Budget"]


@dataclass
class Budget:
    """What an episode may spend on models, and what it has spent."""

    max_cost_usd: float | None = None
    max_tokens: int | None = None
    """Input and output tokens together."""
    cost_usd: float = 0.0
    tokens: int = 0
    calls: int = 0

    def charge(self, call: ModelCall) -> None:
        """Count a call.

        Raises:
            AgentStop: With ``exit_cost`` once the cost or the tokens exceed their limit.
        """
        self.calls += 1
        self.cost_usd += call.cost_usd
        self.tokens += call.input_tokens + call.output_tokens
        if self.max_cost_usd is not None and self.cost_usd > self.max_cost_usd:
            raise AgentStop(
                "exit_cost",
                f"the episode spent ${self.cost_usd:.4f} on models, over its "
                f"${self.max_cost_usd:g} limit",
            )
        if self.max_tokens is not None and self.tokens > self.max_tokens:
            raise AgentStop(
                "exit_cost",
                f"the episode used {self.tokens:,} tokens, over its {self.max_tokens:,} limit",
            )
