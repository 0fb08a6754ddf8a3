"""Light faces and the Gymnasium step: how fast researchgym starts, and what a step costs.

- ``researchgym --help``: wall time of the command in a fresh process (the interpreter's
  own start included), median of ``--runs``.
- ``import researchgym.engine`` and ``import researchgym``: time of the import statement in
  a fresh interpreter (the interpreter's start not included), median of ``--runs``.
- One Gymnasium ``step("echo hi")`` on a local sandbox: ``researchgym/<task>`` made with
  ``gymnasium.make``, reset once, then ``--steps`` steps timed one by one (median, p90).
  MLGym's trivial step costs 0.38 s (four shell round trips and a Docker exec each).

    .venv/bin/python benchmarks/faces.py [--runs 15] [--steps 500] [--task prisoners_dilemma]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

CLI = Path(sys.executable).parent / "researchgym"

IMPORT = """
import time
start = time.perf_counter()
import {module}
print(time.perf_counter() - start)
"""


def help_seconds() -> float:
    start = time.perf_counter()
    subprocess.run([str(CLI), "--help"], check=True, capture_output=True)
    return time.perf_counter() - start


def import_seconds(module: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT.format(module=module)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(done.stdout.strip())


def step_seconds(task: str, steps: int) -> list[float]:
    import gymnasium

    import researchgym.gym  # noqa: F401  (registers the tasks)

    env = gymnasium.make(f"researchgym/{task}", sandbox="local", limits={"max_steps": steps + 1})
    try:
        env.reset()
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            observation = env.step("echo hi")[0]
            times.append(time.perf_counter() - start)
            assert observation == "hi\n", observation
        return times
    finally:
        env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--task", default="prisoners_dilemma")
    args = parser.parse_args()
    table = Table("what", "median", "min", "max")
    for name, measure in [
        ("researchgym --help", help_seconds),
        ("import researchgym.engine", lambda: import_seconds("researchgym.engine")),
        ("import researchgym", lambda: import_seconds("researchgym")),
    ]:
        times = [measure() for _ in range(args.runs)]
        table.add_row(
            name,
            *(f"{t * 1000:.0f} ms" for t in (statistics.median(times), min(times), max(times))),
        )
    steps = step_seconds(args.task, args.steps)
    p90 = statistics.quantiles(steps, n=10)[-1]
    table.add_row(
        f"gym step('echo hi'), {args.steps} steps",
        f"{statistics.median(steps) * 1000:.2f} ms",
        f"{min(steps) * 1000:.2f} ms",
        f"{max(steps) * 1000:.2f} ms (p90 {p90 * 1000:.2f} ms)",
    )
    Console().print(table)


if __name__ == "__main__":
    main()
