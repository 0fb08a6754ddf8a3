"""The Gymnasium facade: built-in tasks as ``researchgym/<task_id>``, any task by ``make_env``.

Importing this module registers the built-in tasks with Gymnasium::

    import gymnasium
    import researchgym.gym

    env = gymnasium.make("researchgym/diabetes_regression", sandbox="local")
    observation, info = env.reset()
    observation, reward, terminated, truncated, info = env.step("python3 baseline.py")
    env.close()  # removes the sandbox

``ResearchGymEnv`` is a synchronous ``gymnasium.Env`` over the async environment of
``open_env``, which it runs on an event loop of its own, in a thread (an anyio blocking
portal): so it works in scripts and in notebooks alike. Each ``reset`` starts a new
episode in a fresh sandbox; ``close`` ends the last one.

Observations and actions are text (``gymnasium.spaces.Text`` over the Basic Multilingual
Plane: any other character of an observation is shown as U+FFFD). The reward is a choice:

- ``none`` (the default, as in MLGym): always 0; the score is in ``info["score"]``.
- ``score``: the metric of a step that scored the artefact (validate, submit, an
  autosubmission), signed so that more is better (a metric to minimise counts negative).
- ``improvement``: how much the best score so far improved on the previous best (at first,
  the task's baseline), as a share of the baseline's magnitude; 0 when it did not improve.

``info`` is the async environment's: ``score`` lists the metrics of every scored step so
far, as in MLGym; ``exit_status`` says how the episode ended, once it has.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any, Literal

import gymnasium
from gymnasium.spaces import Text

from researchgym.agents import MAX_REPLY_CHARS
from researchgym.engine import open_env
from researchgym.tasks import Task, builtin_task_ids, resolve_task

if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from pathlib import Path

    from anyio.from_thread import BlockingPortal

    from researchgym.config import Limits, SandboxConfig, StorageConfig
    from researchgym.engine import EpisodeEnv, StepResult

__all__ = ["MAX_OBSERVATION_CHARS", "ResearchGymEnv", "Reward", "make_env", "register_tasks"]

Reward = Literal["none", "score", "improvement"]

MAX_OBSERVATION_CHARS = 1_000_000
"""The longest observation (command output is capped far below it); longer ones are cut."""

_OUTSIDE = re.compile("[^\x00-\ud7ff\ue000-\uffff]")
"""A character outside the observation space: a surrogate, or beyond the BMP."""


@functools.cache
def _charset() -> frozenset[str]:
    """Every character of the Basic Multilingual Plane but the surrogates."""
    return frozenset(chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000)


class ResearchGymEnv(gymnasium.Env[str, str]):
    """One researchgym task as a Gymnasium environment.

    Args:
        task: A built-in task id, a task folder, or a loaded task.
        sandbox: ``auto``, ``docker`` or ``local``, or a sandbox configuration.
        limits: Each episode's limits (default: 50 steps).
        store: Record each episode (a run of one) in this DuckDB file or store.
        reward: ``none``, ``score`` or ``improvement`` (see the module).
        render_mode: None: there is nothing to render but the observation.

    Raises:
        UnknownComponentError: If ``task`` is neither a built-in id nor a folder (listing the
            built-in ids).
        TaskSpecError: If the task folder is broken.
        ValueError: If ``reward`` is not one of the three.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        task: str | Path | Task,
        *,
        sandbox: str | SandboxConfig | dict[str, Any] = "auto",
        limits: Limits | dict[str, Any] | None = None,
        store: str | Path | StorageConfig | None = None,
        reward: Reward = "none",
        render_mode: None = None,
    ) -> None:
        if reward not in ("none", "score", "improvement"):
            raise ValueError(f"reward must be none, score or improvement, not {reward!r}.")
        self.task = task if isinstance(task, Task) else resolve_task(str(task))
        self.reward_kind: Reward = reward
        self.render_mode = render_mode
        self.observation_space = Text(MAX_OBSERVATION_CHARS, min_length=0, charset=_charset())
        self.action_space = Text(MAX_REPLY_CHARS, charset=_charset())
        self._options: dict[str, Any] = {"sandbox": sandbox, "limits": limits, "store": store}
        self._portal_context: AbstractContextManager[BlockingPortal] | None = None
        self._portal: BlockingPortal | None = None
        self._episode: AbstractContextManager[EpisodeEnv] | None = None
        self._env: EpisodeEnv | None = None
        self._scored = 0
        self._best: float | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """End the episode under way, if any, and start a new one in a fresh sandbox."""
        super().reset(seed=seed)
        self._end_episode()
        if self._portal is None:
            from anyio.from_thread import start_blocking_portal

            self._portal_context = start_blocking_portal()
            self._portal = self._portal_context.__enter__()
        episode = self._portal.wrap_async_context_manager(open_env(self.task, **self._options))
        self._env = episode.__enter__()
        self._episode = episode
        self._scored, self._best = 0, None
        observation, info = self._portal.call(self._env.reset)
        return _shown(observation), info

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Run one action (a command, as an agent writes it) in the episode's sandbox.

        Raises:
            RuntimeError: Before ``reset``, or after the episode ended.
        """
        if self._env is None or self._portal is None:
            raise RuntimeError("Call reset() before step().")
        result = self._portal.call(self._env.step, action)
        reward = self._reward(result)
        return _shown(result.observation), reward, result.terminated, result.truncated, result.info

    def close(self) -> None:
        """End the episode under way (its sandbox is removed) and stop the event loop."""
        self._end_episode()
        if self._portal_context is not None:
            self._portal_context.__exit__(None, None, None)
        self._portal_context = self._portal = None

    def _end_episode(self) -> None:
        if self._episode is not None:
            episode, self._episode, self._env = self._episode, None, None
            episode.__exit__(None, None, None)

    def _reward(self, result: StepResult) -> float:
        scores: list[dict[str, float]] = result.info["score"]
        if self.reward_kind == "none" or len(scores) == self._scored:
            return 0.0
        self._scored = len(scores)
        spec = self.task.spec
        value = scores[-1].get(spec.metric.name)
        if value is None:
            return 0.0
        signed = value if spec.metric.direction == "max" else -value
        if self.reward_kind == "score":
            return float(signed)
        baseline = spec.baseline.score
        previous = (
            self._best
            if self._best is not None
            else (baseline if spec.metric.direction == "max" else -baseline)
        )
        if signed <= previous:
            return 0.0
        self._best = signed
        return float((signed - previous) / (abs(baseline) or 1.0))


def _shown(observation: str) -> str:
    """An observation within the observation space."""
    return _OUTSIDE.sub("\ufffd", observation[:MAX_OBSERVATION_CHARS])


def make_env(task: str | Path | Task, **kwargs: Any) -> ResearchGymEnv:
    """A Gymnasium environment of any task: a built-in id or a task folder.

    The keyword arguments are ``ResearchGymEnv``'s.
    """
    return ResearchGymEnv(task, **kwargs)


def register_tasks() -> list[str]:
    """Register ``researchgym/<task_id>`` with Gymnasium for every built-in task.

    Returns:
        The environment ids registered.
    """
    ids = []
    for task_id in builtin_task_ids():
        env_id = f"researchgym/{task_id}"
        if env_id not in gymnasium.registry:
            gymnasium.register(
                id=env_id,
                entry_point="researchgym.gym:ResearchGymEnv",
                kwargs={"task": task_id},
                disable_env_checker=True,  # the suite runs check_env itself
            )
        ids.append(env_id)
    return ids


register_tasks()
