"""``check_env``: whether an environment keeps the ``Env`` contract, Gym's shape included.

What agents, the Gymnasium facade and RL loops rely on: ``reset`` once (a second is
refused), then ``step(action)`` returning a ``StepResult`` (the observation as text, a finite
float reward, ``terminated`` and ``truncated``, an info whose ``score`` lists the metrics so
far), the step count, a scored ``validate``, a ``submit`` that ends the episode with its
exit status, and no step after the end.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from researchgym.engine import StepResult
from researchgym.testing.base import expect

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from researchgym.engine import Env

__all__ = ["check_env"]


async def check_env(env: Env) -> None:
    """Play one short episode on ``env`` (not reset yet) and check the contract.

    It runs ``echo``, ``validate`` and ``submit``: the episode is over afterwards.

    Raises:
        ConformanceError: Naming the first promise the environment breaks.
    """
    component = f"environment {type(env).__name__}"
    observation, info = await env.reset()
    expect(isinstance(observation, str) and bool(observation), component, "reset observes text")
    expect(info.get("score") == [], component, "reset's info has an empty score list")
    await _refused(env.reset(), component, "a second reset raises RuntimeError")
    echoed = await env.step("echo rgym-check")
    _check_step(echoed, component)
    expect("rgym-check" in echoed.observation, component, "a step observes the action's output")
    expect(not (echoed.terminated or echoed.truncated), component, "a step goes on")
    expect(env.steps == 1, component, f"steps counts actions ({env.steps} after one)")
    validated = await env.step("validate")
    _check_step(validated, component)
    expect(not validated.terminated, component, "validate does not end the episode")
    submitted = await env.step("submit")
    _check_step(submitted, component)
    expect(submitted.terminated, component, "submit ends the episode (terminated)")
    status = submitted.info.get("exit_status")
    expect(
        status is not None and status == env.exit_status,
        component,
        f"the last step's info and exit_status say how it ended ({status!r}, {env.exit_status!r})",
    )
    await _refused(env.step("echo late"), component, "a step after the end raises RuntimeError")


def _check_step(result: StepResult, component: str) -> None:
    expect(isinstance(result, StepResult), component, "step returns a StepResult")
    expect(isinstance(result.observation, str), component, "a step observes text")
    expect(
        isinstance(result.reward, float) and math.isfinite(result.reward),
        component,
        f"the reward is a finite float ({result.reward!r})",
    )
    scores = result.info.get("score")
    expect(
        isinstance(scores, list) and all(isinstance(s, dict) for s in scores),
        component,
        f"info['score'] lists the metrics of each scored step ({scores!r})",
    )


async def _refused(call: Awaitable[object], component: str, promise: str) -> None:
    try:
        await call
    except RuntimeError:
        return
    expect(False, component, promise)
