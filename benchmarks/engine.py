"""Engine throughput: concurrent episodes of a scripted agent on local sandboxes.

64 episodes run at once; each agent sends 50 `echo` commands and then submits, and every
event (bus messages, tool calls, scores) is stored in a DuckDB file. Reports steps per
second over the whole run (sandbox start-up, evaluation and the final flush included), the
same from the first step to the last (the stepping rate, without start-up and close-down),
and the engine's CPU time per step (this process: event loop, recorder and writer threads;
the bash processes are not counted).

    .venv/bin/python benchmarks/engine.py [--episodes 64] [--commands 50] [--backend asyncio]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import anyio
from rich.console import Console
from rich.table import Table

from researchgym.config import run_config
from researchgym.engine import Runner
from researchgym.storage import open_database, query

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=64)
    parser.add_argument("--commands", type=int, default=50)
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    parser.add_argument("--uvloop", action="store_true", help="asyncio on uvloop's event loop")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = run_config(
            {
                "tasks": [str(make_task(Path(tmp) / "echo"))],
                "agents": [
                    {
                        "kind": "scripted",
                        "params": {"commands": [f"echo {i}" for i in range(args.commands)]},
                    }
                ],
                "attempts": args.episodes,
                "limits": {"concurrent_episodes": args.episodes, "max_steps": args.commands + 1},
                "storage": {"path": Path(tmp) / "bench.duckdb"},
            }
        )
        runner = Runner(cfg)
        wall, cpu = time.perf_counter(), time.process_time()
        options = {"use_uvloop": True} if args.uvloop else {}
        anyio.run(runner.run, backend=args.backend, backend_options=options)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        with open_database(cfg.storage.path) as con:
            counts = query(
                con,
                "SELECT (SELECT count(*) FROM tool_calls) AS steps, "
                "(SELECT count(*) FROM events) AS events, "
                "(SELECT count(*) FROM episodes WHERE exit_status = 'submitted') AS submitted, "
                "(SELECT epoch(max(started_at)) - epoch(min(started_at)) + "
                "     arg_max(duration_s, started_at) FROM tool_calls) AS stepping_s, "
                "(SELECT epoch(min(t.started_at)) - epoch(min(r.started_at)) "
                "     FROM tool_calls t, runs r) AS setup_s",
            ).to_pylist()[0]
    expected_steps = args.episodes * (args.commands + 1)
    assert counts["steps"] == expected_steps, counts
    assert counts["submitted"] == args.episodes, counts
    steps = counts["steps"]
    table = Table(title=f"Engine: {args.episodes} episodes x {args.commands} echo ({args.backend})")
    columns = ("steps", "events stored", "wall s", "steps/s", "engine CPU/step", "first step at s")
    columns += ("steps/s from first to last step",)
    for column in columns:
        table.add_column(column, justify="right")
    table.add_row(
        f"{steps:,}",
        f"{counts['events']:,}",
        f"{wall:.2f}",
        f"{steps / wall:,.0f}",
        f"{cpu / steps * 1e6:,.0f} µs",
        f"{counts['setup_s']:.2f}",
        f"{steps / counts['stepping_s']:,.0f}",
    )
    Console().print(table)


if __name__ == "__main__":
    main()
