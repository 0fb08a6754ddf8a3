"""The bash, validate and submit tools, on a real local sandbox and a real task."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from researchgym.sandboxes import open_local_sandbox
from researchgym.tasks import Task, load_task
from researchgym.tools import ToolContext, ToolResult, find_tool
from tests.tasks.test_evaluator import SCORE_ANSWER
from tests.tasks.test_loader import make_task
from tests.tools.helpers import tool_context

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


@pytest.fixture
def task(tmp_path: Path) -> Task:
    root = make_task(tmp_path / "toy", lambda s: s.update(timeouts={"command": 0.5}))
    (root / "eval" / "evaluate.py").write_text(SCORE_ANSWER)
    return load_task(root)


@pytest.fixture
async def context(task: Task) -> AsyncIterator[ToolContext]:
    async with await open_local_sandbox() as sb:
        yield tool_context(sb, task)


async def execute(command: str, context: ToolContext) -> ToolResult:
    return await find_tool(command)(command, context)


async def test_bash_shows_output_and_exit_code(context: ToolContext) -> None:
    result = await execute("echo hello", context)
    assert (result.observation, result.exit_code, result.ends_episode) == ("hello\n", 0, False)
    failed = await execute("false", context)
    assert failed.observation == "Your command failed with exit code 1 and produced no output."
    quiet = await execute("true", context)
    assert quiet.observation == "Your command ran successfully and did not produce any output."


async def test_bash_tells_the_viewer_where_the_shell_is(context: ToolContext) -> None:
    assert context.viewer.cwd == str(context.sandbox.workdir)
    await execute("mkdir -p sub && cd sub", context)
    assert context.viewer.cwd == f"{context.sandbox.workdir}/sub"
    await execute("cd /tmp; false", context)
    assert context.viewer.cwd == "/tmp"


async def test_bash_refuses_interactive_programs_without_running_anything(
    context: ToolContext,
) -> None:
    result = await execute("touch ran; python3", context)
    assert result.observation.startswith("Error: python3 without a script starts an ")
    assert result.exit_code is None
    assert (await execute("ls", context)).observation == (
        "Your command ran successfully and did not produce any output."
    )


async def test_bash_timeout_is_an_observation(context: ToolContext) -> None:
    result = await execute("echo start; sleep 20", context)
    assert result.timed_out
    assert result.observation.startswith("start\n")
    assert result.observation.endswith("\n[The command was killed after 0.5 s, its time limit.]")
    assert (await execute("echo alive", context)).observation == "alive\n"


async def test_validate_scores_and_goes_on(context: ToolContext) -> None:
    await execute("echo 7 > answer.txt", context)
    result = await execute("validate", context)
    assert result.evaluation is not None and result.evaluation.score == 7.0
    assert not result.ends_episode
    assert result.observation == (
        "Your submission artefact answer.txt was evaluated.\n"
        "Baseline Score: 0\n"
        "Your Score: 7 (higher is better)\n"
        "All metrics: {'Score': 7.0, 'Twice': 14.0}"
    )


async def test_validate_without_artefact_says_why(context: ToolContext) -> None:
    result = await execute("validate", context)
    assert result.observation == (
        "Evaluation failed (submission_not_found): answer.txt does not exist in the workspace; "
        "create it first."
    )
    assert not result.ends_episode


async def test_submit_ends_the_episode(context: ToolContext) -> None:
    await execute("echo 2 > answer.txt", context)
    result = await execute("submit", context)
    assert result.ends_episode
    assert result.evaluation is not None and result.evaluation.score == 2.0


async def test_nothing_may_follow_submit(context: ToolContext) -> None:
    result = await execute("submit\nrm -rf ~", context)
    assert not result.ends_episode and result.evaluation is None
    assert result.observation == (
        "Error: unexpected text after the submit command:\nrm -rf ~\n"
        "Send one command per action. Nothing was run."
    )
