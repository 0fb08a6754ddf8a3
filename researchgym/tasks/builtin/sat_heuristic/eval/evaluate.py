"""Evaluator of the SAT heuristic task: times solve() on hidden random 3-SAT instances.

The instances come from sat_instances.py (a copy of the workspace's generate.py) with a
seed that only this folder knows, one per mode: `validate` (any number of times in an
episode) solves 30 instances from one seed, `submit` (the final evaluation, once) 30 from
another, so that scores of both are totals over as many instances, and a
solver that records what it sees while validating has nothing to replay at the end.
answers.json holds, per mode, that seed, a digest of the instances it gives, and whether
each is satisfiable. Those answers were computed with a trusted reference solver (picosat,
through pycosat) and agree with the shipped DPLL solver.

The submission runs in its own process as the agent (rgym_eval.Player), one call per
instance under a time limit; each call's wall time is measured here. A claimed assignment
must be n_vars booleans satisfying every clause; a claimed None (unsatisfiable) must match
answers.json. Any wrong or malformed answer makes the submission invalid.
"""

import hashlib
import json
import time
from pathlib import Path

import rgym_eval
from sat_instances import instances

TIME_LIMIT = 10.0
"""Seconds one solve() call may take."""


def load_instances(mode):
    """The instances scored in ``mode`` and their satisfiability, checked against the digest."""
    answers = json.loads((Path(__file__).parent / "answers.json").read_text())[mode]
    formulas = instances(answers["seed"], answers["count"], answers["n_vars"], answers["ratio"])
    digest = hashlib.sha256(json.dumps(formulas).encode()).hexdigest()
    if digest != answers["sha256"]:
        # the generator no longer gives the instances the answers are for: a bug of ours
        raise RuntimeError("the scored instances differ from those answers.json is for")
    return formulas, answers["satisfiable"]


def check(index, answer, n_vars, clauses, satisfiable):
    """Raise Invalid unless ``answer`` is a right answer to the instance."""
    what = f"solve() on instance {index}"
    if answer is None:
        if satisfiable:
            raise rgym_eval.Invalid(f"{what} said unsatisfiable, but it is satisfiable")
        return
    if not isinstance(answer, list) or len(answer) != n_vars:
        raise rgym_eval.Invalid(f"{what} returned neither None nor a list of {n_vars} booleans")
    if not all(isinstance(value, bool) for value in answer):
        raise rgym_eval.Invalid(f"{what} returned a list that is not all booleans")
    for number, clause in enumerate(clauses):
        if not any(answer[abs(literal) - 1] == (literal > 0) for literal in clause):
            raise rgym_eval.Invalid(f"{what} returned an assignment that falsifies clause {number}")


def evaluate():
    """Solve every instance through the submission, check each answer, and sum the times."""
    formulas, satisfiable = load_instances(rgym_eval.mode())
    times = []
    with rgym_eval.Player() as player:
        for index, (n_vars, clauses) in enumerate(formulas):
            start = time.perf_counter()
            answer = player.call("solve", n_vars, clauses, timeout=TIME_LIMIT)
            times.append(time.perf_counter() - start)
            check(index, answer, n_vars, clauses, satisfiable[index])
    return {"Time": sum(times), "Slowest": max(times), "Instances": len(times)}


if __name__ == "__main__":
    rgym_eval.main(evaluate)
