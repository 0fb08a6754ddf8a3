"""The built-in Colonel Blotto game: its evaluator, run as the engine runs it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from researchgym.sandboxes import LocalSandbox, open_local_sandbox
from researchgym.tasks import evaluate, resolve_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from researchgym.tasks import EvaluationMode, EvaluationResult

TASK = resolve_task("colonel_blotto")
DESCRIPTION = " ".join(TASK.spec.description.split())
"""What the agent is told, on one line."""

pytestmark = pytest.mark.parametrize("anyio_backend", ["asyncio"])

RECORDER = """\
import json

SHIFT = {shift}
RECORDING = {recording}
calls = {{}}  # calls so far per round: the index of the game each call plays
seen = []  # the column player's allocations, per game, per round
try:
    with open("record.json") as f:
        record = json.load(f)
except FileNotFoundError:
    record = None


def row_strategy(history):
    played = len(history)
    game = calls.get(played, 0)
    calls[played] = game + 1
    if played == 0:
        seen.append([])
    else:
        seen[game].append(history[-1][1])
        if RECORDING and game == calls[0] - 1:  # the round's last game: save what was seen
            with open("record.json", "w") as f:
                json.dump(seen, f)
    theirs = record[(game + SHIFT) % len(record)] if record else None
    if not theirs or played >= len(theirs):
        return [20] * 6
    # beat the recorded allocation by one soldier on its four weakest battlefields
    column = theirs[played]
    weakest = sorted(range(6), key=lambda i: column[i])
    allocation = [0] * 6
    for i in weakest[:4]:
        allocation[i] = column[i] + 1
    allocation[weakest[4]] = 120 - sum(allocation)
    return allocation
"""
"""A strategy that records the column player's allocations per game (call order) and round
in record.json while validating, and replays that record: shifted by ``shift`` games, it is
another game's record, which tells nothing of the game played."""


@pytest.fixture
async def sandbox() -> AsyncIterator[LocalSandbox]:
    async with await open_local_sandbox() as sb:
        await sb.upload(TASK.workspace_dir, str(sb.workdir))
        yield sb


async def evaluate_body(
    sandbox: LocalSandbox, body: str, mode: EvaluationMode = "submit"
) -> EvaluationResult:
    await sandbox.write_file("strategy.py", f"def row_strategy(history):\n{body}\n".encode())
    return await evaluate(TASK, sandbox, mode=mode)


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
    assert f"scores {TASK.spec.baseline.score:.3f} in the final evaluation" in DESCRIPTION


async def test_validate_plays_other_games_than_the_final_evaluation(
    sandbox: LocalSandbox,
) -> None:
    validated = await evaluate(TASK, sandbox, mode="validate")
    final = await evaluate(TASK, sandbox, mode="submit")
    assert validated.score is not None and final.score is not None
    assert validated.score != pytest.approx(final.score, abs=1e-4)
    assert abs(validated.score - final.score) < 0.05  # an estimate of it, though
    assert f"({validated.score:.3f} when validated)" in DESCRIPTION


async def test_recording_the_games_while_validating_does_not_pay_at_the_end(
    sandbox: LocalSandbox,
) -> None:
    async def replay(mode: EvaluationMode, *, shift: int = 0, recording: bool = False) -> float:
        source = RECORDER.format(shift=shift, recording=recording)
        await sandbox.write_file("strategy.py", source.encode())
        result = await evaluate(TASK, sandbox, mode=mode)
        assert result.status == "scored" and result.score is not None, result.error
        return result.score

    honest = await replay("validate", recording=True)  # no record yet: it only records
    assert (await sandbox.exec("test -s record.json", timeout=10)).exit_code == 0
    # Validating again plays the same games: the record knows them, and that pays.
    assert await replay("validate") > max(honest, await replay("validate", shift=1)) + 0.5
    # The final evaluation plays other games: the record is worth as much as another game's.
    assert await replay("submit") < await replay("submit", shift=1) + 0.03


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
    ("body", "validated", "submitted"),
    [
        ("    return 20", "row_strategy returned 20; it must be a list of 6 ints", None),
        # the final evaluation quotes no text of the answer: it could be the hidden history
        (
            "    return [24] * 5",
            "row_strategy returned [24, 24, 24, 24, 24]; it must be a list",
            "row_strategy returned a list of 5 items; it must be a list",
        ),
        (
            "    return {'a': 1}",
            "row_strategy returned {'a': 1}; it must be a list of 6 ints",
            "row_strategy returned a dict of 1 item; it must be a list of 6 ints",
        ),
        (
            "    return [20.0] * 6",
            "row_strategy returned [20.0, 20.0, 20.0, 20.0, 20.0, 20.0];",
            "row_strategy returned a list of 6 items; each entry must be an int >= 0",
        ),
        (
            "    return [True] * 6",
            "row_strategy returned [True, True, True, True, True, True];",
            "row_strategy returned a list of 6 items; each entry",
        ),
        (
            "    return [21] * 6",
            "row_strategy returned [21, 21, 21, 21, 21, 21], which sums",
            "row_strategy returned a list of 6 items, which sums to 126; it must sum to 120",
        ),
        (
            "    return [-10, 30, 25, 25, 25, 25]",
            "row_strategy returned [-10, 30, 25, 25, 25, 25];",
            "row_strategy returned a list of 6 items; each entry",
        ),
        (
            "    return ['20'] * 6",
            "row_strategy returned ['20', '20', '20', '20', '20', '20'];",
            "row_strategy returned a list of 6 items; each entry",
        ),
    ],
)
async def test_an_invalid_allocation_is_a_format_error(
    sandbox: LocalSandbox, body: str, validated: str, submitted: str | None
) -> None:
    reasons: dict[EvaluationMode, str] = {"validate": validated, "submit": submitted or validated}
    for mode, reason in reasons.items():
        result = await evaluate_body(sandbox, body, mode)
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
