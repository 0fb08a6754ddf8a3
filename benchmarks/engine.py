"""Engine throughput: concurrent episodes of a scripted agent on local sandboxes.

64 episodes run at once; each agent sends 50 `echo` commands and then submits, and every
event (bus messages, tool calls, scores) is stored in a DuckDB file. Reports steps per
second over the whole run (sandbox start-up, evaluation and the final flush included), the
same from the first step to the last (the stepping rate, without start-up and close-down),
and the engine's CPU time per step (this process: event loop, recorder and writer threads;
the bash processes are not counted). It runs twice by default, with two CPU placements
(`cpus` in the run configuration): `shared` (engine and sandboxes on every CPU) and `split`
(the engine on one CPU, the sandboxes on the others).

    .venv/bin/python benchmarks/engine.py [--episodes 64] [--commands 50] [--backend asyncio]
        [--placement shared|split|both] [--sandbox local|docker]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import anyio
from rich.console import Console
from rich.table import Table

from researchgym.config import run_config
from researchgym.engine import Runner
from researchgym.storage import open_database, query

SANDBOX_CPUS = sorted(os.sched_getaffinity(0))[1:] or None

TASK_YAML = """\
id: echo
name: Echo
domain: benchmark
description: Say things.
metric: {name: Score, direction: max}
baseline: {score: 0}
submission: {kind: program, path: said.txt}
evaluation: {command: [sh, evaluate.sh], timeout: 30}
timeouts: {command: 30}
"""


def make_task(root: Path) -> Path:
    (root / "workspace").mkdir(parents=True)
    (root / "workspace" / "said.txt").write_text("hello\n")
    (root / "eval").mkdir()
    (root / "eval" / "evaluate.sh").write_text('echo \'{"Score": 1}\' > "$RGYM_RESULT"\n')
    (root / "task.yaml").write_text(TASK_YAML)
    return root


PLACEMENTS = {
    "shared": {},
    "split": {"engine": [min(os.sched_getaffinity(0))], "sandboxes": SANDBOX_CPUS},
}
"""shared: engine and sandboxes on every CPU; split: the engine on one, sandboxes on the rest."""


def measure(args: argparse.Namespace, placement: str, tmp: Path) -> list[str]:
    cfg = run_config(
        {
            "tasks": [str(make_task(tmp / f"echo-{placement}"))],
            "agents": [
                {
                    "kind": "scripted",
                    "params": {"commands": [f"echo {i}" for i in range(args.commands)]},
                }
            ],
            "attempts": args.episodes,
            "limits": {"concurrent_episodes": args.episodes, "max_steps": args.commands + 1},
            "cpus": PLACEMENTS[placement],
            "sandbox": {"kind": args.sandbox},
            "storage": {"path": tmp / f"bench-{placement}.duckdb"},
        }
    )
    wall, cpu = time.perf_counter(), time.process_time()
    anyio.run(Runner(cfg).run, backend=args.backend)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    with open_database(cfg.storage.path) as con:
        counts = query(con, COUNTS).to_pylist()[0]
    assert counts["steps"] == args.episodes * (args.commands + 1), counts
    assert counts["submitted"] == args.episodes, counts
    steps = counts["steps"]
    return [
        placement,
        f"{steps:,}",
        f"{counts['events']:,}",
        f"{wall:.2f}",
        f"{steps / wall:,.0f}",
        f"{cpu / steps * 1e6:,.0f} µs",
        f"{counts['setup_s']:.2f}",
        f"{steps / counts['stepping_s']:,.0f}",
    ]


COUNTS = """
SELECT (SELECT count(*) FROM tool_calls) AS steps,
       (SELECT count(*) FROM events) AS events,
       (SELECT count(*) FROM episodes WHERE exit_status = 'submitted') AS submitted,
       (SELECT epoch(max(started_at)) - epoch(min(started_at)) + arg_max(duration_s, started_at)
        FROM tool_calls) AS stepping_s,
       (SELECT epoch(min(t.started_at)) - epoch(min(r.started_at)) FROM tool_calls t, runs r)
           AS setup_s
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=64)
    parser.add_argument("--commands", type=int, default=50)
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    parser.add_argument("--placement", choices=[*PLACEMENTS, "both"], default="both")
    parser.add_argument("--sandbox", choices=["local", "docker"], default="local")
    args = parser.parse_args()
    title = (
        f"Engine: {args.episodes} episodes x {args.commands} echo ({args.backend}, {args.sandbox})"
    )
    table = Table(title=title)
    columns = ["CPUs", "steps", "events stored", "wall s", "steps/s", "engine CPU/step"]
    columns += ["first step at s", "steps/s from first to last step"]
    for column in columns:
        table.add_column(column, justify="right")
    placements = list(PLACEMENTS) if args.placement == "both" else [args.placement]
    with tempfile.TemporaryDirectory() as tmp:
        for placement in placements:
            table.add_row(*measure(args, placement, Path(tmp)))
    Console().print(table)
    Console().print(f"command: .venv/bin/python benchmarks/engine.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
