"""The built-in SAT heuristic task: its evaluator, run as the engine runs it."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from researchgym.sandboxes import LocalSandbox, open_local_sandbox
from researchgym.tasks import evaluate, resolve_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from researchgym.tasks import EvaluationMode, EvaluationResult

TASK = resolve_task("sat_heuristic")
BASELINE = TASK.spec.baseline.score
ANSWERS: dict[str, dict[str, Any]] = json.loads((TASK.eval_dir / "answers.json").read_text())
NAIVE = "    return min(abs(literal) for clause in clauses for literal in clause)\n"
JEROSLOW_WANG = """\
    score = {}
    for clause in clauses:
        weight = 2.0 ** -len(clause)
        for literal in clause:
            score[literal] = score.get(literal, 0.0) + weight
    best = max(score, key=lambda literal: score[literal] + score.get(-literal, 0.0))
    return best if score[best] >= score.get(-best, 0.0) else -best
"""
CACHING = """
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
honest_solve = solve


def solve(n_vars, clauses):
    # remember every answer in a file of the workspace, and replay it when the instance recurs
    key = hashlib.sha256(json.dumps(clauses).encode()).hexdigest()
    cache = os.path.join(HERE, "cache", key)
    hit = os.path.exists(cache)
    with open(os.path.join(HERE, "cache.log"), "a") as log:
        log.write("hit\\n" if hit else "miss\\n")
    if hit:
        with open(cache) as f:
            return json.load(f)
    answer = honest_solve(n_vars, clauses)
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    with open(cache, "w") as f:
        json.dump(answer, f)
    return answer
"""

asyncio_only = pytest.mark.parametrize("anyio_backend", ["asyncio"])
"""The evaluator runs subprocesses: one backend is enough."""


@pytest.fixture
async def sandbox() -> AsyncIterator[LocalSandbox]:
    async with await open_local_sandbox() as sb:
        await sb.upload(TASK.workspace_dir, str(sb.workdir))
        yield sb


async def evaluate_solve(sandbox: LocalSandbox, body: str) -> EvaluationResult:
    await sandbox.write_file("solver.py", f"def solve(n_vars, clauses):\n{body}\n".encode())
    return await evaluate(TASK, sandbox)


def hidden_instances(mode: str) -> list[Any]:
    """The instances ``mode`` scores, from the evaluator's own generator and answers.json."""
    spec = importlib.util.spec_from_file_location(
        "hidden_generate", TASK.eval_dir / "sat_instances.py"
    )
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    answers = ANSWERS[mode]
    formulas: list[Any] = generate.instances(
        answers["seed"], answers["count"], answers["n_vars"], answers["ratio"]
    )
    return formulas


@asyncio_only
async def test_shipped_baseline_scores_about_what_task_yaml_says(sandbox: LocalSandbox) -> None:
    for command in TASK.spec.baseline.commands:
        assert (await sandbox.exec(command, timeout=60)).exit_code == 0
    result = await evaluate(TASK, sandbox)
    assert result.status == "scored", result.error
    assert result.metrics["Instances"] == 30
    # wall time on a shared machine: only its order of magnitude is stable, and a machine
    # whose every CPU is busy (make test-stress) slows it down 3-4 times
    assert result.score is not None and BASELINE / 3 < result.score < BASELINE * 6
    assert result.metrics["Slowest"] < 5  # far from the 10 s limit of a call
    assert f"The baseline takes about {BASELINE:.0f} s." in " ".join(TASK.spec.description.split())
    # validate times the same solver on as many other instances, of the same hardness
    validated = await evaluate(TASK, sandbox, mode="validate")
    assert validated.status == "scored", validated.error
    assert validated.metrics["Instances"] == 30
    assert validated.score is not None and BASELINE / 3 < validated.score < BASELINE * 6


@asyncio_only
async def test_a_better_heuristic_is_several_times_faster(sandbox: LocalSandbox) -> None:
    shipped = (TASK.workspace_dir / "solver.py").read_text()
    assert NAIVE in shipped
    await sandbox.write_file("solver.py", shipped.replace(NAIVE, JEROSLOW_WANG).encode())
    result = await evaluate(TASK, sandbox)
    assert result.status == "scored", result.error
    assert result.score is not None and result.score < BASELINE / 4


@asyncio_only
async def test_answers_remembered_while_validating_never_replay_at_submit(
    sandbox: LocalSandbox,
) -> None:
    shipped = (TASK.workspace_dir / "solver.py").read_text()
    solver = shipped.replace(NAIVE, JEROSLOW_WANG) + CACHING
    await sandbox.write_file("solver.py", solver.encode())

    async def evaluate_and_count(mode: EvaluationMode) -> list[str]:
        await sandbox.write_file("cache.log", b"")
        result = await evaluate(TASK, sandbox, mode=mode)
        assert result.status == "scored", result.error
        return (await sandbox.read_file("cache.log")).decode().split()

    # the attack works on the inputs it has seen: a second validate only replays ...
    assert await evaluate_and_count("validate") == ["miss"] * 30
    assert await evaluate_and_count("validate") == ["hit"] * 30
    # ... but the final evaluation shows it none of them
    assert await evaluate_and_count("submit") == ["miss"] * 30


def test_scored_instances_are_hidden_disjoint_and_mixed() -> None:
    generator = (TASK.workspace_dir / "generate.py").read_text()
    # the agent benchmarks on the very generator that makes the scored instances ...
    assert (TASK.eval_dir / "sat_instances.py").read_text() == generator
    # ... but on none of the scored seeds, which are not guessable
    seeds = {ANSWERS[mode]["seed"] for mode in ("validate", "submit")}
    assert len(seeds) == 2 and all(seed > 2**40 for seed in seeds)
    assert not any(f"DEV_SEED = {seed}\n" in generator for seed in seeds)
    validate, submit = hidden_instances("validate"), hidden_instances("submit")
    assert len(validate) == len(submit) == 30
    assert not any(formula in submit for formula in validate)
    for mode, formulas in (("validate", validate), ("submit", submit)):
        digest = hashlib.sha256(json.dumps(formulas).encode()).hexdigest()
        assert digest == ANSWERS[mode]["sha256"]
        satisfiable = ANSWERS[mode]["satisfiable"]
        assert len(satisfiable) == len(formulas)
        assert len(formulas) / 3 <= sum(satisfiable) <= len(formulas) * 2 / 3


@asyncio_only
@pytest.mark.parametrize("mode", ["validate", "submit"])
async def test_claiming_unsat_everywhere_is_invalid(
    sandbox: LocalSandbox, mode: EvaluationMode
) -> None:
    await sandbox.write_file("solver.py", b"def solve(n_vars, clauses):\n    return None\n")
    result = await evaluate(TASK, sandbox, mode=mode)
    first = ANSWERS[mode]["satisfiable"].index(True)
    assert result.status == "evaluation_format_error"
    assert result.error == (
        f"invalid submission: solve() on instance {first} said unsatisfiable, but it is satisfiable"
    )


@asyncio_only
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            "    return [True] * n_vars",
            r"solve\(\) on instance 0 returned an assignment that falsifies clause \d+",
        ),
        (
            "    return [1] * n_vars",
            r"solve\(\) on instance 0 returned a list that is not all booleans",
        ),
        (
            "    return [True] * (n_vars - 1)",
            r"solve\(\) on instance 0 returned neither None nor a list of 65 booleans",
        ),
        (
            "    return 'UNSAT'",
            r"solve\(\) on instance 0 returned neither None nor a list of 65 booleans",
        ),
        (
            "    raise ValueError('no idea')",
            r"solve\(\) failed: ValueError \(the final evaluation does not quote its message\)",
        ),
    ],
)
async def test_wrong_or_malformed_answer_is_invalid(
    sandbox: LocalSandbox, body: str, reason: str
) -> None:
    result = await evaluate_solve(sandbox, body)
    assert result.status == "evaluation_format_error"
    assert result.error is not None
    assert re.match(rf"invalid submission: {reason}(\n|$)", result.error), result.error


@asyncio_only
async def test_broken_module_is_invalid(sandbox: LocalSandbox) -> None:
    await sandbox.write_file("solver.py", b"def solve(n_vars, clauses)\n")
    result = await evaluate(TASK, sandbox)
    assert result.status == "evaluation_format_error"
    assert result.error is not None and "SyntaxError" in result.error


@asyncio_only
async def test_missing_solver_is_not_found(sandbox: LocalSandbox) -> None:
    await sandbox.exec("rm solver.py", timeout=10)
    result = await evaluate(TASK, sandbox)
    assert result.status == "submission_not_found"


@asyncio_only
async def test_evaluator_is_not_in_the_workspace(sandbox: LocalSandbox) -> None:
    seeds = [str(ANSWERS[mode]["seed"]) for mode in ("validate", "submit")]
    grep = "grep -r" + "".join(f" -e {seed}" for seed in seeds)
    listing = (await sandbox.exec(f"ls -AR; {grep} . || true", timeout=10)).output
    assert "solver.py" in listing and "evaluate" not in listing and "answers" not in listing
    assert not any(seed in listing for seed in seeds)
