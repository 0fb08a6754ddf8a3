"""The built-in continuous Mountain Car: its evaluator, run as the engine runs it."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import pytest

from researchgym.sandboxes import LocalSandbox, open_local_sandbox
from researchgym.tasks import evaluate, resolve_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from researchgym.tasks import EvaluationResult

TASK = resolve_task("mountain_car_continuous")
PUSH_WITH_VELOCITY = {"W1": [[0, 1e4]], "b1": [0], "W2": [[1]], "b2": [0]}
"""By hand: hidden = sign(velocity), action = tanh(hidden), about 0.76 with the motion."""


@pytest.fixture
async def sandbox() -> AsyncIterator[LocalSandbox]:
    async with await open_local_sandbox() as sb:
        await sb.upload(TASK.workspace_dir, str(sb.workdir))
        yield sb


async def evaluate_text(sandbox: LocalSandbox, text: str | bytes) -> EvaluationResult:
    await sandbox.write_file("policy.json", text if isinstance(text, bytes) else text.encode())
    return await evaluate(TASK, sandbox)


async def score_of(sandbox: LocalSandbox, policy: dict[str, Any]) -> float | None:
    return (await evaluate_text(sandbox, json.dumps(policy))).score


def hidden_units(count: int) -> dict[str, Any]:
    """A policy of ``count`` hidden units that all push with the velocity."""
    return {
        "W1": [[0, 1e4]] * count,
        "b1": [0] * count,
        "W2": [[1 / count] * count],
        "b2": [0],
    }


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_shipped_baseline_scores_what_task_yaml_says(sandbox: LocalSandbox) -> None:
    assert (await evaluate(TASK, sandbox)).status == "submission_not_found"
    for command in TASK.spec.baseline.commands:
        ran = await sandbox.exec(command, timeout=60)
        assert ran.exit_code == 0, ran.output
    result = await evaluate(TASK, sandbox)
    assert result.status == "scored"
    assert result.score == pytest.approx(TASK.spec.baseline.score, abs=1e-9)
    # it reaches the goal from some start positions only: each success scores over 0
    assert 0 < result.metrics["Success"] < 1


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_scores_follow_the_dynamics(sandbox: LocalSandbox) -> None:
    do_nothing = {"W1": [[0, 0]], "b1": [0], "W2": [[0]], "b2": [0]}
    push_right = {"W1": [[0, 0]], "b1": [1], "W2": [[1e3]], "b2": [0]}  # action tanh(1000)
    result = await evaluate_text(sandbox, json.dumps(PUSH_WITH_VELOCITY))
    assert await score_of(sandbox, do_nothing) == 0.0  # no force costs nothing, gains nothing
    # the engine alone cannot climb the hill: 999 steps at full force cost 99.9
    assert await score_of(sandbox, push_right) == pytest.approx(-99.9)
    assert result.metrics["Success"] == 1.0
    assert result.score is not None and 90 < result.score < 100
    assert result.score > TASK.spec.baseline.score + 50  # there is room to beat the baseline
    # hidden units are summed: 64 copies at a 64th of the weight act as one
    assert await score_of(sandbox, hidden_units(64)) == pytest.approx(result.score)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_evaluation_is_deterministic(sandbox: LocalSandbox) -> None:
    policy = {"W1": [[0.3, 40.0], [-1.0, 7.0]], "b1": [0.1, -0.2], "W2": [[1.5, 0.7]], "b2": [0]}
    scores = [await score_of(sandbox, policy) for _ in range(2)]
    assert scores[0] is not None and scores[0] == scores[1]


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in PUSH_WITH_VELOCITY.items() if k != key}


BROKEN = [
    ("[1, 2]", "policy.json must be an object with exactly the keys W1, b1, W2, b2; found list"),
    (
        json.dumps(without("b2")),
        "policy.json must be an object with exactly the keys W1, b1, W2, b2; "
        "found ['W1', 'W2', 'b1']",
    ),
    (
        json.dumps({**PUSH_WITH_VELOCITY, "W3": [[1]]}),
        "policy.json must be an object with exactly the keys W1, b1, W2, b2; "
        "found ['W1', 'W2', 'W3', 'b1', 'b2']",
    ),
    ('{"W1": [[0, 1]], ', "policy.json is not valid JSON"),
    (
        '{"W1": [[0, 1]], "b1": [NaN], "W2": [[1]], "b2": [0]}',
        "policy.json is not valid JSON: NaN is not a number JSON allows",
    ),
    (
        '{"W1": [[0, 1]], "b1": [1e999], "W2": [[1]], "b2": [0]}',
        "b1 holds Infinity; every number must be finite with |x| <= 1e+06",
    ),
    (
        json.dumps({**PUSH_WITH_VELOCITY, "W2": [[2e6]]}),
        "W2 holds 2000000.0; every number must be finite with |x| <= 1e+06",
    ),
    (
        json.dumps({**PUSH_WITH_VELOCITY, "b2": ["0"]}),
        'b2 holds "0", which is not a number',
    ),
    (json.dumps({**PUSH_WITH_VELOCITY, "b2": [True]}), "b2 holds true, which is not a number"),
    (
        json.dumps({**PUSH_WITH_VELOCITY, "W1": [[0, 1, 2]]}),
        "each row of W1 must be a list of 2 numbers; found [0, 1, 2]",
    ),
    (
        json.dumps({**PUSH_WITH_VELOCITY, "W1": [[0, 1], [0, 1]]}),
        "W1 must be a list of 1 row(s) of 2 numbers; found [[0, 1], [0, 1]]",
    ),
    (
        json.dumps({**PUSH_WITH_VELOCITY, "W2": [1]}),
        "each row of W2 must be a list of 1 number; found 1",
    ),
    (
        json.dumps({**PUSH_WITH_VELOCITY, "b1": []}),
        "b1 must be a list of 1 to 64 numbers (one per hidden unit); found []",
    ),
    (json.dumps(hidden_units(65)), "b1 must be a list of 1 to 64 numbers"),
    (b"\xff\xfe", "policy.json is not valid JSON: 'utf-8' codec can't decode byte 0xff"),
    (json.dumps({**PUSH_WITH_VELOCITY, "b2": 0}), "b2 must be a list of 1 number; found 0"),
]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize(("text", "reason"), BROKEN)
async def test_malformed_policy_is_a_format_error(
    sandbox: LocalSandbox, text: str | bytes, reason: str
) -> None:
    result = await evaluate_text(sandbox, text)
    assert result.status == "evaluation_format_error"
    assert result.error is not None and result.error.startswith(f"invalid submission: {reason}")


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_policy_that_is_not_a_file_is_a_format_error(sandbox: LocalSandbox) -> None:
    await sandbox.exec("mkdir policy.json", timeout=10)
    result = await evaluate(TASK, sandbox)
    assert result.status == "evaluation_format_error"
    assert result.error is not None and "cannot read policy.json" in result.error


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_workspace_env_matches_the_evaluator(sandbox: LocalSandbox) -> None:
    """env.py in the workspace has the evaluator's dynamics: the same returns, to the bit."""
    seed = TASK.eval_dir.joinpath("evaluate.py").read_text().split("SEED = ")[1].split()[0]
    await sandbox.write_file("policy.json", json.dumps(PUSH_WITH_VELOCITY).encode())
    ran = await sandbox.exec(
        "python3 -c 'import env, json; "
        f'print(repr(env.mean_return(json.load(open("policy.json")), 100, seed={seed})))\'',
        timeout=60,
    )
    assert ran.exit_code == 0, ran.output
    workspace_score = float(ran.output.strip())
    assert math.isfinite(workspace_score)
    assert workspace_score == await score_of(sandbox, PUSH_WITH_VELOCITY)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_evaluator_is_not_in_the_workspace(sandbox: LocalSandbox) -> None:
    listing = (await sandbox.exec("ls -AR", timeout=10)).output
    assert "env.py" in listing and "evaluate" not in listing
