"""The built-in Colonel Blotto game: its evaluator, run as the engine runs it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from researchgym.sandboxes import LocalSandbox, open_local_sandbox
from researchgym.tasks import evaluate, resolve_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from researchgym.tasks import EvaluationResult

TASK = resolve_task("colonel_blotto")

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


async def test_a_moving_allocation_beats_the_baseline_and_scores_the_same_twice(
    sandbox: LocalSandbox,
) -> None:
    # an uneven allocation, rotated one battlefield each round, so it never stays put
    moving = (
        "    k = len(history) % 6\n"
        "    base = [37, 16, 41, 5, 10, 11]\n"
        "    return base[k:] + base[:k]"
    )
    first = await score_of(sandbox, moving)
    assert first > TASK.spec.baseline.score + 0.3  # there is room to beat the baseline
    assert first < 1  # the most a round pays
    assert await score_of(sandbox, moving) == first


async def test_putting_everything_on_one_battlefield_loses(sandbox: LocalSandbox) -> None:
    # it wins at most one battlefield, and the opponent always contests two or more
    assert await score_of(sandbox, "    return [120, 0, 0, 0, 0, 0]") < -0.99


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("    return 20", "row_strategy returned 20; it must be a list of 6 ints"),
        ("    return [24] * 5", "row_strategy returned [24, 24, 24, 24, 24]; it must be a list"),
        ("    return {'a': 1}", "row_strategy returned {'a': 1}; it must be a list of 6 ints"),
        ("    return [20.0] * 6", "row_strategy returned [20.0, 20.0, 20.0, 20.0, 20.0, 20.0];"),
        ("    return [True] * 6", "row_strategy returned [True, True, True, True, True, True];"),
        ("    return [21] * 6", "row_strategy returned [21, 21, 21, 21, 21, 21], which sums"),
        (
            "    return [-10, 30, 25, 25, 25, 25]",
            "row_strategy returned [-10, 30, 25, 25, 25, 25];",
        ),
        ("    return ['20'] * 6", "row_strategy returned ['20', '20', '20', '20', '20', '20'];"),
    ],
)
async def test_an_invalid_allocation_is_a_format_error(
    sandbox: LocalSandbox, body: str, reason: str
) -> None:
    result = await evaluate_body(sandbox, body)
    assert result.status == "evaluation_format_error"
    assert result.error is not None
    assert re.match(rf"invalid submission: {re.escape(reason)}", result.error)


async def test_the_reasons_say_what_to_fix(sandbox: LocalSandbox) -> None:
    cases = {
        "    return [20.0] * 6": "each entry must be an int >= 0",
        "    return [20] * 5 + [21]": "which sums to 121; it must sum to 120",
        "    return [20] * 6 if len(history) < 4 else [20] * 7": "it must be a list of 6 ints",
    }
    for body, reason in cases.items():
        result = await evaluate_body(sandbox, body)
        assert result.status == "evaluation_format_error"
        assert result.error is not None and reason in result.error


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
