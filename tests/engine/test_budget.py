from __future__ import annotations

import re

import pytest

from researchgym.agents import AgentStop
from researchgym.agents.models import ModelCall
from researchgym.engine.budget import Budget


def call(cost: float, tokens: int) -> ModelCall:
    return ModelCall(
        request_model="m", response_model="m", input_tokens=tokens // 2,
        output_tokens=tokens - tokens // 2, cost_usd=cost, priced=True, latency_s=0.1,
        retries=0, finish_reason="stop", error=None, started_at=0, response="r",
    )  # fmt: skip


def test_calls_are_counted() -> None:
    budget = Budget()
    budget.charge(call(0.5, 100))
    budget.charge(call(0.25, 50))
    assert (budget.calls, budget.cost_usd, budget.tokens) == (2, 0.75, 150)


def test_overspending_the_cost_stops_the_agent() -> None:
    budget = Budget(max_cost_usd=1.0)
    budget.charge(call(0.6, 10))
    with pytest.raises(AgentStop) as stop:
        budget.charge(call(0.6, 10))
    assert stop.value.reason == "exit_cost"
    assert re.fullmatch(
        r"the episode spent \$1\.2000 on models, over its \$1 limit", stop.value.detail
    )


def test_too_many_tokens_stop_the_agent() -> None:
    budget = Budget(max_tokens=100)
    with pytest.raises(
        AgentStop, match=r"^exit_cost: the episode used 150 tokens, over its 100 limit$"
    ):
        budget.charge(call(0.0, 150))
