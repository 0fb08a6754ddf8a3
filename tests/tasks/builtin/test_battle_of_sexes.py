"""The built-in Battle of the Sexes: its evaluator, run as the engine runs it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from researchgym.sandboxes import LocalSandbox, open_local_sandbox
from researchgym.tasks import evaluate, resolve_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from researchgym.tasks import EvaluationResult

TASK = resolve_task("battle_of_sexes")

pytestmark = pytest.mark.parametrize("anyio_backend", ["asyncio"])


@pytest.fixture
async def sandbox() -> AsyncIterator[LocalSandbox]:
    async with await open_local_sandbox() as sb:
        await sb.upload(TASK.workspace_dir, str(sb.workdir))
        yield sb


async def evaluate_body(sandbox: LocalSandbox, body: str) -> EvaluationResult:
    await sandbox.write_file("strategy.py", f"def row_strategy(history):\n{body}\n".encode())
    return await evaluate(TASK, sandbox)


async def score_of(sandbox: LocalSandbox, body: str) -> float:
    result = await evaluate_body(sandbox, body)
    assert result.status == "scored", result.error
    assert result.score is not None
    return result.score


async def test_shipped_baseline_scores_what_task_yaml_says(sandbox: LocalSandbox) -> None:
    for command in TASK.spec.baseline.commands:
        assert (await sandbox.exec(command, timeout=60)).exit_code == 0
    result = await evaluate(TASK, sandbox)
    assert result.status == "scored"
    assert result.score == pytest.approx(TASK.spec.baseline.score, abs=1e-9)
    assert f"scores {TASK.spec.baseline.score:.3f}." in TASK.spec.description


async def test_a_fair_strategy_beats_the_baseline_and_scores_the_same_twice(
    sandbox: LocalSandbox,
) -> None:
    # insist on 0 until you have had your way three times more often than the column player
    fair = (
        "    mine = sum(1 for row, column in history if row == column == 0)\n"
        "    theirs = sum(1 for row, column in history if row == column == 1)\n"
        "    return 0 if mine - theirs < 3 else 1"
    )
    first = await score_of(sandbox, fair)
    assert first > TASK.spec.baseline.score + 0.3  # there is room to beat the baseline
    assert first < 2  # the most a round pays
    assert await score_of(sandbox, fair) == first


async def test_insisting_on_the_other_move_scores_less(sandbox: LocalSandbox) -> None:
    assert 0 < await score_of(sandbox, "    return 1") < TASK.spec.baseline.score


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("    return 2", "row_strategy returned 2; it must be 0 or 1"),
        ("    return 1.0", "row_strategy returned 1.0; it must be 0 or 1"),
        ("    return True", "row_strategy returned True; it must be 0 or 1"),
        ("    return '0'", "row_strategy returned '0'; it must be 0 or 1"),
        ("    return [0]", "row_strategy returned [0]; it must be 0 or 1"),
        ("    return 0 if len(history) < 5 else None", "row_strategy returned None; it must"),
    ],
)
async def test_an_invalid_move_is_a_format_error(
    sandbox: LocalSandbox, body: str, reason: str
) -> None:
    result = await evaluate_body(sandbox, body)
    assert result.status == "evaluation_format_error"
    assert result.error is not None
    assert re.match(rf"invalid submission: {re.escape(reason)}", result.error)


async def test_a_crashing_strategy_is_a_format_error(sandbox: LocalSandbox) -> None:
    result = await evaluate_body(sandbox, "    return history[3][0]")
    assert result.status == "evaluation_format_error"
    assert result.error is not None and "row_strategy() failed: IndexError" in result.error


async def test_a_broken_module_is_a_format_error(sandbox: LocalSandbox) -> None:
    await sandbox.write_file("strategy.py", b"def row_strategy(history)\n")
    result = await evaluate(TASK, sandbox)
    assert result.status == "evaluation_format_error"
    assert result.error is not None and "SyntaxError" in result.error


async def test_a_missing_strategy_is_not_found(sandbox: LocalSandbox) -> None:
    await sandbox.exec("rm strategy.py", timeout=10)
    result = await evaluate(TASK, sandbox)
    assert result.status == "submission_not_found"
    assert result.score is None


async def test_evaluator_is_not_in_the_workspace(sandbox: LocalSandbox) -> None:
    listing = (await sandbox.exec("ls -AR", timeout=10)).output
    assert "strategy.py" in listing and "evaluate" not in listing
