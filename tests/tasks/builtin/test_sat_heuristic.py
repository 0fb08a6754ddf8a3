"""The built-in SAT heuristic task: its evaluator, run as the engine runs it."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pytest

from researchgym.sandboxes import LocalSandbox, open_local_sandbox
from researchgym.tasks import evaluate, resolve_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from researchgym.tasks import EvaluationResult

TASK = resolve_task("sat_heuristic")
BASELINE = TASK.spec.baseline.score
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


@asyncio_only
async def test_shipped_baseline_scores_about_what_task_yaml_says(sandbox: LocalSandbox) -> None:
    for command in TASK.spec.baseline.commands:
        assert (await sandbox.exec(command, timeout=60)).exit_code == 0
    result = await evaluate(TASK, sandbox)
    assert result.status == "scored", result.error
    assert result.metrics["Instances"] == 30
    # wall time on a shared machine: only its order of magnitude is stable
    assert result.score is not None and BASELINE / 3 < result.score < BASELINE * 3
    assert result.metrics["Slowest"] < 5  # far from the 10 s limit of a call
    assert f"The baseline takes about {BASELINE:.0f} s." in " ".join(TASK.spec.description.split())


@asyncio_only
async def test_a_better_heuristic_is_several_times_faster(sandbox: LocalSandbox) -> None:
    shipped = (TASK.workspace_dir / "solver.py").read_text()
    assert NAIVE in shipped
    await sandbox.write_file("solver.py", shipped.replace(NAIVE, JEROSLOW_WANG).encode())
    result = await evaluate(TASK, sandbox)
    assert result.status == "scored", result.error
    assert result.score is not None and result.score < BASELINE / 4


def test_scored_instances_are_hidden_and_mixed() -> None:
    answers = json.loads((TASK.eval_dir / "answers.json").read_text())
    generator = (TASK.workspace_dir / "generate.py").read_text()
    # the agent benchmarks on the very generator that makes the scored instances ...
    assert (TASK.eval_dir / "generate.py").read_text() == generator
    # ... but not on the scored seed
    assert f"DEV_SEED = {answers['seed']}\n" not in generator
    assert 10 <= sum(answers["satisfiable"]) <= 20 and len(answers["satisfiable"]) == 30


@asyncio_only
async def test_claiming_unsat_everywhere_is_invalid(sandbox: LocalSandbox) -> None:
    result = await evaluate_solve(sandbox, "    return None")
    assert result.status == "evaluation_format_error"
    assert result.error == (
        "invalid submission: solve() on instance 0 said unsatisfiable, but it is satisfiable"
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
        ("    raise ValueError('no idea')", r"solve\(\) failed: ValueError: no idea"),
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
    listing = (await sandbox.exec("ls -AR; grep -r 20261127 . || true", timeout=10)).output
    assert "solver.py" in listing and "evaluate" not in listing and "answers" not in listing
    assert "20261127" not in listing
