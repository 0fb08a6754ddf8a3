"""The built-in continuous Mountain Car: its evaluator, run as the engine runs it."""

from __future__ import annotations

import json
import math
import random
import re
from typing import TYPE_CHECKING, Any, Literal

import pytest

from researchgym.sandboxes import LocalSandbox, open_local_sandbox
from researchgym.tasks import evaluate, resolve_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from researchgym.tasks import EvaluationResult

TASK = resolve_task("mountain_car_continuous")
Mode = Literal["validate", "submit"]
MODES: tuple[Mode, Mode] = ("validate", "submit")
PUSH_WITH_VELOCITY = {"W1": [[0, 1e4]], "b1": [0], "W2": [[1]], "b2": [0]}
"""By hand: hidden = sign(velocity), action = tanh(hidden), about 0.76 with the motion."""


@pytest.fixture
async def sandbox() -> AsyncIterator[LocalSandbox]:
    async with await open_local_sandbox() as sb:
        await sb.upload(TASK.workspace_dir, str(sb.workdir))
        yield sb


async def evaluate_text(
    sandbox: LocalSandbox, text: str | bytes, mode: Mode = "submit"
) -> EvaluationResult:
    await sandbox.write_file("policy.json", text if isinstance(text, bytes) else text.encode())
    return await evaluate(TASK, sandbox, mode=mode)


async def score_of(
    sandbox: LocalSandbox, policy: dict[str, Any], mode: Mode = "submit"
) -> float | None:
    return (await evaluate_text(sandbox, json.dumps(policy), mode)).score


def hidden_seeds() -> dict[Mode, int]:
    """The evaluator's seeds of the start positions, by mode: only a test may read them."""
    source = (TASK.eval_dir / "evaluate.py").read_text()
    found = re.search(r'^SEEDS = \{"validate": ([0-9_]+), "submit": ([0-9_]+)\}$', source, re.M)
    assert found is not None
    return {"validate": int(found[1]), "submit": int(found[2])}


def start_positions(seed: int) -> set[float]:
    """The start positions of 100 episodes seeded by ``seed``, as evaluate.py and env.py draw."""
    rng = random.Random(seed)
    return {rng.uniform(-0.6, -0.4) for _ in range(100)}


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
    result = await evaluate(TASK, sandbox)  # the final evaluation: mode submit
    assert result.status == "scored"
    assert result.score == pytest.approx(TASK.spec.baseline.score, abs=1e-9)
    # it reaches the goal from some start positions only: each success scores over 0
    assert 0 < result.metrics["Success"] < 1
    validated = await evaluate(TASK, sandbox, mode="validate")  # other start positions
    assert validated.status == "scored"
    assert validated.score is not None and result.score is not None
    assert abs(validated.score - result.score) > 1
    assert validated.metrics["Success"] != result.metrics["Success"]


def test_validate_and_submit_run_other_hidden_episodes() -> None:
    """Random 62-bit seeds, one per mode, neither the workspace's: no start position shared."""
    seeds = hidden_seeds()
    assert seeds["validate"] != seeds["submit"]
    assert all(2**40 < seed < 2**62 for seed in seeds.values())  # not a date nor small
    workspace = "".join(p.read_text() for p in TASK.workspace_dir.rglob("*.py"))
    assert all(str(seed) not in workspace for seed in seeds.values())
    assert "seed=2024" in workspace and "TRAIN_SEED = 1" in workspace  # the development seeds
    validate, submit = (start_positions(seeds[mode]) for mode in MODES)
    development = start_positions(2024) | start_positions(1) | start_positions(0)  # 0: default
    assert len(validate) == len(submit) == 100
    assert not validate & submit and not (validate | submit) & development


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_policy_picked_by_validating_is_scored_on_other_episodes(
    sandbox: LocalSandbox,
) -> None:
    """Validating tells an agent how its policies do on the validate episodes; picking the
    best of them by that is tuning to those episodes. The final evaluation scores other
    episodes: every policy scores otherwise there, the pick below its validate score."""
    scores: dict[int, dict[Mode, float]] = {}
    for seed in range(4):  # four runs of the baseline: policies each fitted to one episode
        ran = await sandbox.exec(f"python3 train.py {seed}", timeout=60)
        assert ran.exit_code == 0, ran.output
        results = {mode: await evaluate(TASK, sandbox, mode=mode) for mode in MODES}
        scores[seed] = {mode: r.score for mode, r in results.items() if r.score is not None}
        assert len(scores[seed]) == 2
    assert all(s["validate"] != s["submit"] for s in scores.values())
    picked = max(scores.values(), key=lambda s: s["validate"])
    assert picked["submit"] < picked["validate"]


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
    """env.py in the workspace has the evaluator's dynamics: the same returns, to the bit,
    given the evaluator's seed of each mode."""
    await sandbox.write_file("policy.json", json.dumps(PUSH_WITH_VELOCITY).encode())
    for mode, seed in hidden_seeds().items():
        ran = await sandbox.exec(
            "python3 -c 'import env, json; "
            f'print(repr(env.mean_return(json.load(open("policy.json")), 100, seed={seed})))\'',
            timeout=60,
        )
        assert ran.exit_code == 0, ran.output
        workspace_score = float(ran.output.strip())
        assert math.isfinite(workspace_score)
        assert workspace_score == await score_of(sandbox, PUSH_WITH_VELOCITY, mode)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_evaluator_is_not_in_the_workspace(sandbox: LocalSandbox) -> None:
    listing = (await sandbox.exec("ls -AR", timeout=10)).output
    assert "env.py" in listing and "evaluate" not in listing
