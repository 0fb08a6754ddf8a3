"""Limits of an episode, as environment wrappers stacked from the run configuration.

A limit that is reached evaluates the current artefact (autosubmission) and ends the
episode with ``truncated=True`` and the limit's exit reason.
"""

from __future__ import annotations

from typing_extensions import override

from researchgym.engine.env import Env, StepResult, Wrapper

__all__ = ["StepLimit"]


class StepLimit(Wrapper):
    """Autosubmits when the agent has taken ``max_steps`` actions without submitting.

    Args:
        env: The environment to limit.
        max_steps: Actions allowed; the last one is followed by the autosubmission.
    """

    def __init__(self, env: Env, *, max_steps: int) -> None:
        super().__init__(env)
        if max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, not {max_steps}.")
        self.max_steps = max_steps

    @override
    async def step(self, action: str) -> StepResult:
        result = await self.env.step(action)
        if result.terminated or self.env.steps < self.max_steps:
            return result
        final = await self.env.autosubmit("max_steps")
        observation = f"{result.observation}\n\n[Step limit reached.]\n{final.observation}"
        return final._replace(observation=observation)
