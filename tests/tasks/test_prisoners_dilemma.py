"""The built-in Prisoner's Dilemma: its evaluator, run as the engine runs it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from researchgym.sandboxes import LocalSandbox, open_local_sandbox
from researchgym.tasks import evaluate, resolve_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

TASK = resolve_task("prisoners_dilemma")


@pytest.fixture
async def sandbox() -> AsyncIterator[LocalSandbox]:
    async with await open_local_sandbox() as sb:
        await sb.upload(TASK.workspace_dir, str(sb.workdir))
        yield sb


async def score_of(sandbox: LocalSandbox, body: str) -> float | None:
    await sandbox.write_file("strategy.py", f"def row_strategy(history):\n{body}\n".encode())
    return (await evaluate(TASK, sandbox)).score


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_shipped_baseline_scores_what_task_yaml_says(sandbox: LocalSandbox) -> None:
    result = await evaluate(TASK, sandbox)
    assert result.status == "scored"
    assert result.score == pytest.approx(TASK.spec.baseline.score, abs=1e-9)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_scores_follow_the_payoffs(sandbox: LocalSandbox) -> None:
    always_defect = await score_of(sandbox, "    return 1")
    always_cooperate = await score_of(sandbox, "    return 0")
    defect_last = await score_of(sandbox, "    return 1 if len(history) == 9 else 0")
    assert always_defect is not None and always_cooperate is not None and defect_last is not None
    # payoffs lie between the lone cooperator's 0 and the lone defector's 5
    assert 0 < always_defect < always_cooperate < defect_last < 5
    # the opponent punishes repeated defection: always defecting beats mutual defection (1)
    # only by the rounds before the grudge sets in
    assert 1 < always_defect < 2
    assert defect_last > TASK.spec.baseline.score  # there is room to beat the baseline


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_evaluation_is_deterministic(sandbox: LocalSandbox) -> None:
    body = "    import random\n    return random.Random(len(history)).randint(0, 1)"
    assert await score_of(sandbox, body) == await score_of(sandbox, body)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_invalid_move_is_a_format_error(sandbox: LocalSandbox) -> None:
    await sandbox.write_file("strategy.py", b"def row_strategy(history):\n    return 2\n")
    result = await evaluate(TASK, sandbox)
    assert result.status == "evaluation_format_error"
    assert result.error is not None
    assert "invalid submission: row_strategy returned 2; it must be 0 or 1" in result.error


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_broken_strategy_is_a_format_error(sandbox: LocalSandbox) -> None:
    await sandbox.write_file("strategy.py", b"def row_strategy(history)\n")
    result = await evaluate(TASK, sandbox)
    assert result.status == "evaluation_format_error"
    assert result.error is not None and "SyntaxError" in result.error


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_evaluator_is_not_in_the_workspace(sandbox: LocalSandbox) -> None:
    listing = (await sandbox.exec("ls -AR", timeout=10)).output
    assert "strategy.py" in listing and "evaluate" not in listing
