"""A DPLL solver for SAT. Make it faster: start with choose_literal, the branching heuristic.

Formulas are in conjunctive normal form (DIMACS style): variables are 1..n_vars, a literal
is a variable (true) or its negation (a negative int), a clause is a list of literals, and
a formula is a list of clauses, all of which must be satisfied.

    python3 solver.py               # solve generate.py's development instances, with times
    python3 solver.py --seed 7 --count 5
"""

import sys
import time


def choose_literal(clauses, assignment):
    """The literal to branch on: the solver tries it true first, then false.

    Args:
        clauses: The clauses still to satisfy, simplified: satisfied clauses are gone and
            false literals removed, so every literal in them is unassigned. None is empty,
            and none is a unit clause (unit propagation has run).
        assignment: The values given so far, as a dict from variable to bool.

    Returns:
        A literal whose variable occurs in ``clauses``.
    """
    # Baseline: the lowest-numbered variable still in play, tried true first.
    return min(abs(literal) for clause in clauses for literal in clause)


def assign(clauses, literal):
    """The clauses once ``literal`` is true, or None if that falsifies a clause."""
    reduced = []
    for clause in clauses:
        if literal in clause:
            continue
        if -literal in clause:
            clause = [other for other in clause if other != -literal]
            if not clause:
                return None
        reduced.append(clause)
    return reduced


def propagate(clauses, assignment):
    """Unit propagation: while a clause has one literal left, make it true.

    Records the forced values in ``assignment`` and returns the remaining clauses, or None
    on a conflict.
    """
    while True:
        unit = next((clause[0] for clause in clauses if len(clause) == 1), None)
        if unit is None:
            return clauses
        assignment[abs(unit)] = unit > 0
        clauses = assign(clauses, unit)
        if clauses is None:
            return None


def dpll(clauses, assignment):
    """A satisfying extension of ``assignment`` (a dict it may change), or None if none."""
    clauses = propagate(clauses, assignment)
    if clauses is None:
        return None
    if not clauses:
        return assignment
    literal = choose_literal(clauses, assignment)
    for branch in (literal, -literal):
        reduced = assign(clauses, branch)
        if reduced is not None:
            found = dpll(reduced, {**assignment, abs(branch): branch > 0})
            if found is not None:
                return found
    return None


def solve(n_vars, clauses):
    """Solve a CNF formula: the entry point the evaluator calls, once per instance.

    Args:
        n_vars: The number of variables, numbered 1..n_vars.
        clauses: The clauses, as lists of non-zero ints (literals).

    Returns:
        A satisfying assignment as a list of ``n_vars`` booleans (item ``i`` is the value of
        variable ``i + 1``), or None if the formula is unsatisfiable.
    """
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * n_vars + 1000))
    found = dpll([list(clause) for clause in clauses], {})
    if found is None:
        return None
    return [found.get(var, False) for var in range(1, n_vars + 1)]


def satisfies(assignment, clauses):
    """Whether the list of booleans ``assignment`` makes every clause true."""
    return all(any(assignment[abs(lit) - 1] == (lit > 0) for lit in c) for c in clauses)


def _main():
    import argparse

    from generate import COUNT, DEV_SEED, instances

    parser = argparse.ArgumentParser(description="Solve development instances, with times.")
    parser.add_argument("--seed", type=int, default=DEV_SEED)
    parser.add_argument("--count", type=int, default=COUNT)
    args = parser.parse_args()
    total = 0.0
    for i, (n_vars, clauses) in enumerate(instances(args.seed, args.count)):
        start = time.perf_counter()
        answer = solve(n_vars, clauses)
        elapsed = time.perf_counter() - start
        total += elapsed
        assert answer is None or satisfies(answer, clauses), "wrong assignment"
        print(f"instance {i:2d}: {'UNSAT' if answer is None else 'SAT  '} {elapsed:7.3f} s")
    print(f"total: {total:.3f} s")


if __name__ == "__main__":
    _main()
