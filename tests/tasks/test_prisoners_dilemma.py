"""The built-in Prisoner's Dilemma: its evaluator, run as the engine runs it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from researchgym.sandboxes import LocalSandbox, open_local_sandbox
from researchgym.tasks import evaluate, resolve_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from researchgym.tasks import EvaluationMode

TASK = resolve_task("prisoners_dilemma")
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
    if played == 9:
        return 1  # the last round: nothing left to lose
    # Without a record, it always cooperated while recording; so a defection the next round
    # was the column player's own random choice, made whatever the row player does: defect
    # the round before, unpunished (once in three rounds, so that no grudge sets in).
    mine = [row for row, _ in history[-2:]]
    if theirs and played + 1 < len(theirs) and theirs[played + 1] == 1 and 1 not in mine:
        return 1
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


async def score_of(
    sandbox: LocalSandbox, body: str, mode: EvaluationMode = "submit"
) -> float | None:
    await sandbox.write_file("strategy.py", f"def row_strategy(history):\n{body}\n".encode())
    return (await evaluate(TASK, sandbox, mode=mode)).score


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
    assert await replay("submit") < await replay("submit", shift=1) + 0.01


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


async def test_evaluation_is_deterministic(sandbox: LocalSandbox) -> None:
    body = "    import random\n    return random.Random(len(history)).randint(0, 1)"
    assert await score_of(sandbox, body) == await score_of(sandbox, body)


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
async def test_invalid_move_is_a_format_error(
    sandbox: LocalSandbox, body: str, mode: EvaluationMode, reason: str
) -> None:
    await sandbox.write_file("strategy.py", f"def row_strategy(history):\n{body}\n".encode())
    result = await evaluate(TASK, sandbox, mode=mode)
    assert result.status == "evaluation_format_error"
    assert result.error is not None
    assert re.match(rf"invalid submission: {re.escape(reason)}", result.error)


async def test_broken_strategy_is_a_format_error(sandbox: LocalSandbox) -> None:
    await sandbox.write_file("strategy.py", b"def row_strategy(history)\n")
    result = await evaluate(TASK, sandbox)
    assert result.status == "evaluation_format_error"
    assert result.error is not None and "SyntaxError" in result.error


async def test_evaluator_is_not_in_the_workspace(sandbox: LocalSandbox) -> None:
    listing = (await sandbox.exec("ls -AR", timeout=10)).output
    assert "strategy.py" in listing and "evaluate" not in listing
