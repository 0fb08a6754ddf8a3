"""The Gymnasium facade: registered built-in tasks, check_env, rewards, close."""

from __future__ import annotations

import threading
import warnings
from typing import TYPE_CHECKING, Any

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

from researchgym.errors import UnknownComponentError
from researchgym.gym import ResearchGymEnv, make_env
from researchgym.tasks import builtin_task_ids
from tests.tasks.test_evaluator import SCORE_ANSWER
from tests.tasks.test_loader import make_task

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def toy(tmp_path: Path, direction: str = "max", baseline: float = 4.0) -> Path:
    def edit(spec: dict[str, Any]) -> None:
        spec["metric"]["direction"] = direction
        spec["baseline"]["score"] = baseline

    root = make_task(tmp_path / f"toy-{direction}", edit)
    (root / "eval" / "evaluate.py").write_text(SCORE_ANSWER)
    return root


@pytest.fixture
def closing() -> Iterator[list[gymnasium.Env[str, str]]]:
    """Environments to close after the test, whatever it did."""
    envs: list[gymnasium.Env[str, str]] = []
    yield envs
    for env in envs:
        env.close()


def test_every_built_in_task_is_registered() -> None:
    registered = {i for i in gymnasium.registry if i.startswith("researchgym/")}
    assert registered == {f"researchgym/{t}" for t in builtin_task_ids()}


def test_check_env_passes(closing: list[gymnasium.Env[str, str]]) -> None:
    env = gymnasium.make("researchgym/prisoners_dilemma", sandbox="local")
    closing.append(env)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a checker's warning is a failure too
        check_env(env.unwrapped)


def test_an_episode_scores_like_mlgym(
    tmp_path: Path, closing: list[gymnasium.Env[str, str]]
) -> None:
    env = make_env(toy(tmp_path), sandbox="local", limits={"max_steps": 3})
    closing.append(env)
    observation, info = env.reset(seed=1)
    assert observation.startswith("Make answer.txt say 42.") and info["score"] == []
    assert env.step("echo 5 > answer.txt")[1:4] == (0.0, False, False)
    _, reward, terminated, _, info = env.step("validate")
    assert (reward, terminated, info["score"]) == (0.0, False, [{"Score": 5.0, "Twice": 10.0}])
    _, _, terminated, truncated, info = env.step("ls")
    assert truncated and not terminated
    assert info["exit_status"] == "autosubmission (max_steps)"
    with pytest.raises(RuntimeError, match=r"^The episode is over"):
        env.step("ls")
    env.reset()  # a new episode, in a fresh sandbox
    assert "answer.txt" not in env.step("ls")[0]


@pytest.mark.parametrize(
    ("direction", "answers", "rewards"),
    [
        ("max", [5, 3, 8], [0.25, 0.0, 0.75]),  # over the baseline 4, then over the best
        ("min", [2, 3, 1], [0.5, 0.0, 0.25]),  # under the baseline 4, then under the best
    ],
)
def test_improvement_rewards_a_new_best_as_a_share_of_the_baseline(
    tmp_path: Path,
    closing: list[gymnasium.Env[str, str]],
    direction: str,
    answers: list[int],
    rewards: list[float],
) -> None:
    env = make_env(toy(tmp_path, direction), sandbox="local", reward="improvement")
    closing.append(env)
    env.reset()
    got = []
    for answer in answers:
        assert env.step(f"echo {answer} > answer.txt")[1] == 0.0
        got.append(env.step("validate")[1])
    assert got == pytest.approx(rewards)


def test_score_rewards_the_metric_signed_by_direction(
    tmp_path: Path, closing: list[gymnasium.Env[str, str]]
) -> None:
    env = make_env(toy(tmp_path, "min"), sandbox="local", reward="score")
    closing.append(env)
    env.reset()
    env.step("echo 2 > answer.txt")
    assert env.step("validate")[1] == -2.0
    assert env.step("submit")[1] == -2.0


def test_close_ends_the_episode_and_the_event_loop(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    env = make_env(toy(tmp_path), sandbox="local")
    env.reset()
    env.step("ls")
    env.close()
    for thread in set(threading.enumerate()) - before:  # the loop's idle workers, stopping
        thread.join(timeout=60)
        assert not thread.is_alive(), thread.name
    with pytest.raises(RuntimeError, match=r"^Call reset\(\) before step\(\)\.$"):
        env.step("ls")
    env.close()  # closing twice does nothing


def test_bad_arguments_are_named(tmp_path: Path) -> None:
    with pytest.raises(UnknownComponentError, match=r"prisoners_dilemma"):
        make_env("no_such_task")
    with pytest.raises(ValueError, match=r"^reward must be none, score or improvement"):
        ResearchGymEnv(toy(tmp_path), reward="best")  # type: ignore[arg-type]
