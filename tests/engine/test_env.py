"""The Gym-style API over a real bus, tool service, evaluator and local sandbox."""

from __future__ import annotations

import pytest

from researchgym.engine import Env, ResearchEnv, StepLimit


async def test_reset_gives_the_task_and_the_commands(env: ResearchEnv) -> None:
    observation, info = await env.reset()
    assert observation.startswith("Make answer.txt say 42.\n\nCOMMANDS:\n")
    assert "validate\n" in observation and "submit\n" in observation
    assert info == {"task_id": "toy", "score": []}


async def test_step_unpacks_like_gym_and_collects_scores(env: ResearchEnv) -> None:
    await env.reset()
    _observation, reward, terminated, truncated, info = await env.step("echo 3 > answer.txt")
    assert (reward, terminated, truncated, info["score"]) == (0.0, False, False, [])
    result = await env.step("validate")
    assert result.info["score"] == [{"Score": 3.0, "Twice": 6.0}]
    await env.step("echo 5 > answer.txt")
    final = await env.step("submit")
    assert final.terminated and not final.truncated
    assert final.info["score"] == [{"Score": 3.0, "Twice": 6.0}, {"Score": 5.0, "Twice": 10.0}]
    assert final.info["exit_status"] == "submitted"
    assert (env.steps, env.exit_status) == (4, "submitted")


async def test_step_info_carries_the_open_file_and_the_working_directory(
    env: ResearchEnv,
) -> None:
    await env.reset()
    first = await env.step("ls")
    workspace = first.info["cwd"]
    assert first.info == {"score": [], "open_file": None, "cwd": workspace}
    await env.step("mkdir -p sub && echo 1 > sub/a.txt && cd sub")
    opened = await env.step("open a.txt")
    assert opened.info["open_file"] == f"{workspace}/sub/a.txt"
    assert opened.info["cwd"] == f"{workspace}/sub"
    assert (await env.step("validate")).info["open_file"] == f"{workspace}/sub/a.txt"


async def test_order_is_enforced(env: ResearchEnv) -> None:
    with pytest.raises(RuntimeError, match=r"^Call reset\(\) before step\(\)\.$"):
        await env.step("ls")
    await env.reset()
    with pytest.raises(RuntimeError, match=r"^An environment runs one episode"):
        await env.reset()
    await env.step("submit")
    with pytest.raises(
        RuntimeError, match=r"^The episode is over \(submission_not_found \(submit\)\)\.$"
    ):
        await env.step("ls")


async def test_step_limit_truncates_with_an_autosubmission(env: ResearchEnv) -> None:
    limited: Env = StepLimit(env, max_steps=2)
    await limited.reset()
    first = await limited.step("echo 9 > answer.txt")
    assert not (first.terminated or first.truncated)
    last = await limited.step("ls")
    assert last.truncated and not last.terminated
    assert last.info["exit_status"] == "autosubmission (max_steps)"
    assert last.info["score"] == [{"Score": 9.0, "Twice": 18.0}]
    assert last.observation.startswith("answer.txt\n\n\n[Step limit reached.]\n")


def test_step_limit_needs_a_step() -> None:
    with pytest.raises(ValueError, match=r"^max_steps must be at least 1, not 0\.$"):
        StepLimit(None, max_steps=0)  # type: ignore[arg-type]
