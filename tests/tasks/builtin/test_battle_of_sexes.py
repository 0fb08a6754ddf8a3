"""The built-in Battle of the Sexes: its evaluator, run as the engine runs it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from researchgym.sandboxes import LocalSandbox, open_local_sandbox
from researchgym.tasks import evaluate, resolve_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from researchgym.tasks import EvaluationMode, EvaluationResult

TASK = resolve_task("battle_of_sexes")
DESCRIPTION = " ".join(TASK.spec.description.split())
"""What the agent is told, on one line."""

pytestmark = pytest.mark.parametrize("anyio_backend", ["asyncio"])

RECORDER = """\
import json

SHIFT = {shift}
RECORDING = {recording}
calls = {{}}  # calls so far per round: the index of the game each call plays
seen = []  # the column player's moves, per game, per round
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
    if theirs and played < len(theirs):
        return theirs[played]  # meet the column player where the record says it will be
    return 0
"""
"""A strategy that records the column player's moves per game (call order) and round in
record.json while validating, and replays that record: shifted by ``shift`` games, it is
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
    assert await replay("validate") > max(honest, await replay("validate", shift=1)) + 0.1
    # The final evaluation plays other games: the record is worth as much as another game's.
    assert await replay("submit") < await replay("submit", shift=1) + 0.02


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
    ("body", "mode", "reason"),
    [
        ("    return 2", "submit", "row_strategy returned 2; it must be 0 or 1"),
        ("    return 1.0", "submit", "row_strategy returned 1.0; it must be 0 or 1"),
        ("    return True", "submit", "row_strategy returned True; it must be 0 or 1"),
        ("    return '0'", "validate", "row_strategy returned '0'; it must be 0 or 1"),
        # the final evaluation quotes no text of the answer: it could be the hidden history
        ("    return '0'", "submit", "row_strategy returned a str of 1 character; it must be"),
        ("    return [0]", "validate", "row_strategy returned [0]; it must be 0 or 1"),
        ("    return [0]", "submit", "row_strategy returned a list of 1 item; it must be 0 or 1"),
        ("    return 0 if len(history) < 5 else None", "submit", "row_strategy returned None;"),
    ],
)
async def test_an_invalid_move_is_a_format_error(
    sandbox: LocalSandbox, body: str, mode: EvaluationMode, reason: str
) -> None:
    result = await evaluate_body(sandbox, body, mode)
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
