"""Random 3-SAT instances near the satisfiability threshold, generated from a seed.

The scored instances come from this same generator (same sizes, same ratio) with a seed
you do not know, so benchmark on your own seeds. Usage::

    python3 generate.py                 # print a summary of the development set
    python3 generate.py --seed 7 --count 5 --n-vars 90

From Python: ``from generate import instances; for n_vars, clauses in instances(seed): ...``
"""

import argparse
import random

N_VARS = 65
"""Variables per instance."""
RATIO = 4.26
"""Clauses per variable: near the threshold, where about half the instances are satisfiable."""
COUNT = 30
"""Instances per set."""
DEV_SEED = 2
"""The development set's seed (the scored set uses another one)."""


def random_clause(rng, n_vars):
    """Three distinct variables, each negated with probability 1/2."""
    chosen = []
    while len(chosen) < 3:
        var = 1 + int(rng.random() * n_vars)
        if var not in chosen:
            chosen.append(var)
    return [var if rng.random() < 0.5 else -var for var in chosen]


def instance(rng, n_vars=N_VARS, ratio=RATIO):
    """One random 3-SAT instance: ``(n_vars, clauses)``, clauses as lists of signed ints."""
    return n_vars, [random_clause(rng, n_vars) for _ in range(round(ratio * n_vars))]


def instances(seed=DEV_SEED, count=COUNT, n_vars=N_VARS, ratio=RATIO):
    """``count`` instances from ``seed``; the same seed always gives the same instances."""
    # Only rng.random() is used: its sequence for an integer seed is the same in every
    # Python version, which randrange and sample do not promise.
    rng = random.Random(seed)
    return [instance(rng, n_vars, ratio) for _ in range(count)]


def _main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEV_SEED)
    parser.add_argument("--count", type=int, default=COUNT)
    parser.add_argument("--n-vars", type=int, default=N_VARS)
    parser.add_argument("--ratio", type=float, default=RATIO)
    args = parser.parse_args()
    for i, (n_vars, clauses) in enumerate(
        instances(args.seed, args.count, args.n_vars, args.ratio)
    ):
        print(f"instance {i}: {n_vars} variables, {len(clauses)} clauses")


if __name__ == "__main__":
    _main()
