"""Every limit is a wrapper of the real environment of an episode (bus, tool service,
evaluator, local sandbox): steps, wall time, cost and tokens, stopped the same way."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import anyio
import pytest

from researchgym.agents import Observation
from researchgym.agents.models import ModelCall
from researchgym.config import Limits
from researchgym.engine import (
    BudgetLimit,
    FormatLimit,
    LimitReached,
    StepLimit,
    TimeLimit,
    limited,
)
from researchgym.engine.driver import play

if TYPE_CHECKING:
    from researchgym.engine import Env, ResearchEnv


def call(cost: float, tokens: int) -> ModelCall:
    return ModelCall(
        request_model="m", response_model="m", input_tokens=tokens // 2,
        output_tokens=tokens - tokens // 2, cost_usd=cost, priced=True, latency_s=0.1,
        retries=0, finish_reason="stop", error=None, started_at=0, response="r",
    )  # fmt: skip


class Spender:
    """An agent whose every act makes a model call of ``cost`` dollars and ``tokens``."""

    def __init__(self, env: Env, cost: float, tokens: int) -> None:
        self.env, self.cost, self.tokens, self.acts = env, cost, tokens, 0

    async def act(self, observation: Observation) -> str:
        self.acts += 1
        self.env.charge(call(self.cost, self.tokens))
        return f"echo {self.acts} > answer.txt"


class Sleeper:
    """An agent that thinks for ever."""

    async def act(self, observation: Observation) -> str:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")


def first(text: str = "start") -> Observation:
    return Observation(text, 0, 50)


def test_limits_stack_one_wrapper_each() -> None:
    inner: Env = None  # type: ignore[assignment]
    env = limited(inner, Limits(max_steps=3, max_wall_s=5, max_cost_usd=1.0))
    assert isinstance(env, BudgetLimit) and isinstance(env.env, TimeLimit)
    assert isinstance(env.env.env, StepLimit) and env.env.env.max_steps == 3
    assert isinstance(limited(inner, Limits()), StepLimit)


async def test_reset_says_how_many_steps_the_agent_has(env: ResearchEnv) -> None:
    _observation, info = await StepLimit(env, max_steps=7).reset()
    assert info["max_steps"] == 7


async def test_calls_are_counted(env: ResearchEnv) -> None:
    budget = BudgetLimit(env)
    budget.charge(call(0.5, 100))
    budget.charge(call(0.25, 50))
    assert (budget.calls, budget.cost_usd, budget.tokens) == (2, 0.75, 150)


async def test_overspending_stops_the_agent_in_its_call(env: ResearchEnv) -> None:
    budget = BudgetLimit(env, max_cost_usd=1.0)
    budget.charge(call(0.6, 10))
    with pytest.raises(LimitReached) as stop:
        budget.charge(call(0.6, 10))
    assert stop.value.exit_reason == "exit_cost"
    assert re.fullmatch(
        r"the episode spent \$1\.2000 on models, over its \$1 limit", stop.value.limit_detail or ""
    )


async def test_too_many_tokens_end_the_episode_with_its_artefact_scored(
    env: ResearchEnv,
) -> None:
    limited_env = limited(env, Limits(max_tokens=250))
    text, _ = await limited_env.reset()
    agent = Spender(limited_env, 0.0, 100)
    await play(agent, limited_env, first(text))
    # the third call went over: the two actions before it ran, and answer.txt says 2
    assert agent.acts == 3 and limited_env.steps == 2
    assert limited_env.exit_status == "autosubmission (exit_cost)"
    assert limited_env.detail == "the episode used 300 tokens, over its 250 limit"


async def test_the_time_limit_interrupts_a_command(env: ResearchEnv) -> None:
    timed = TimeLimit(env, max_wall_s=1)
    await timed.reset()
    await env.step("echo 7 > answer.txt")  # inside the limit: it may be over on a busy machine
    with anyio.fail_after(30):  # the sleep is stopped, not waited for
        result = await timed.step("sleep 60")
    assert result.truncated and result.info["exit_status"] == "autosubmission (exit_time)"
    assert result.info["detail"] == "the episode ran over 1 s"
    assert result.info["score"] == [{"Score": 7.0, "Twice": 14.0}]
    with pytest.raises(RuntimeError, match=r"^The episode is over"):
        await timed.step("ls")


async def test_the_time_limit_stops_an_agent_that_thinks(env: ResearchEnv) -> None:
    timed = limited(env, Limits(max_wall_s=0.5))
    text, _ = await timed.reset()
    with anyio.fail_after(30):
        await play(Sleeper(), timed, first(text))
    assert timed.exit_status == "submission_not_found (exit_time)"
    assert timed.detail == "the episode ran over 0.5 s" and timed.steps == 0


async def test_a_limit_reached_before_a_step_runs_no_action(env: ResearchEnv) -> None:
    budget = BudgetLimit(StepLimit(env, max_steps=5), max_cost_usd=0.1)
    await budget.reset()
    with pytest.raises(LimitReached):
        budget.charge(call(1.0, 1))
    result = await budget.step("echo 1 > answer.txt")  # not run: the budget is spent
    assert result.truncated and result.info["exit_status"] == "submission_not_found (exit_cost)"
    assert budget.steps == 0


async def test_format_errors_are_counted_over_the_episode(env: ResearchEnv) -> None:
    limit = limited(env, Limits(max_format_errors=2))
    assert isinstance(limit, FormatLimit)
    limit.format_error("no command")
    limit.format_error("two commands")
    with pytest.raises(LimitReached) as stop:
        limit.format_error("empty")
    assert stop.value.exit_reason == "exit_format"
    assert stop.value.limit_detail == (
        "3 malformed replies in the episode, over its 2 limit; the last: empty"
    )


def test_limits_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match=r"^max_wall_s must be positive, not 0\.$"):
        TimeLimit(None, max_wall_s=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^max_format_errors must be at least 1, not 0\.$"):
        FormatLimit(None, max_format_errors=0)  # type: ignore[arg-type]
