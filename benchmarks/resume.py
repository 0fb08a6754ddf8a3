"""Resuming a big run: how long until the first new episode starts.

A run of 1,000 attempts (one task, one scripted agent) is stored with 900 of them ended
(``submitted``) and its process gone, as a killed run leaves it; then the run is resumed
(``resume: true``, the same configuration) and timed from ``Runner.run()`` to the first
new episode running: planning (loading the task, hashing it, the attempts' keys), reading
what the store holds, matching, and starting the run. The stored rows are written through
the DuckDB sink, with the keys the runner computes, so they are what a real run stores.

    .venv/bin/python benchmarks/resume.py [--attempts 1000] [--ended 900] [--sandbox local]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pyarrow as pa
from rich.console import Console

from researchgym._host import hostname
from researchgym.config import run_config
from researchgym.engine import Runner
from researchgym.engine.episode import attempt_key
from researchgym.storage import SCHEMAS, DuckDBSink
from researchgym.tasks import load_task

sys.path.insert(0, str(Path(__file__).parent))
from engine import make_task


def stored_run(cfg_data: dict[str, object], task_root: Path, ended: int, path: Path) -> None:
    """Write what a killed run of ``cfg_data`` leaves after ``ended`` attempts ended."""
    cfg = run_config(cfg_data)
    task, agent = load_task(task_root), cfg.agents[0]
    now = datetime.now(UTC)
    episodes = [
        {
            "run_id": cfg.run_id,
            "episode_id": f"{cfg.run_id}-{key[:12]}-1",
            "task_id": task.spec.id,
            "agent": agent.label,
            "attempt": n,
            "sandbox": "local",
            "exit_status": "submitted",
            "steps": 2,
            "started_at": now,
            "ended_at": now,
            "attempt_key": key,
            "try_number": 1,
            "task_hash": task.content_hash,
            "retryable": False,
            "recorded_at": now,
        }
        for n in range(1, ended + 1)
        for key in [attempt_key(task, agent, n)]
    ]
    run = {
        "run_id": cfg.run_id,
        "started_at": now,
        "status": "running",
        "episodes": cfg.attempts,
        "config": cfg.model_dump_json(),
        "host": hostname(),
        "pid": _a_dead_pid(),
    }
    sink = DuckDBSink(path)
    sink.write("episodes", pa.Table.from_pylist(episodes, schema=SCHEMAS["episodes"]))
    sink.write("runs", pa.Table.from_pylist([run], schema=SCHEMAS["runs"]))
    sink.close()


def _a_dead_pid() -> int:
    """The pid of a process that has ended: the killed run's."""
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


async def time_to_first_episode(runner: Runner) -> float:
    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        tg.start_soon(runner.run)
        while runner.statistics().running == 0:  # noqa: ASYNC110  (public statistics: no hook)
            await anyio.sleep(0.001)
        elapsed = time.perf_counter() - started
        tg.cancel_scope.cancel()  # the rest is an ordinary run: not what is measured
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--ended", type=int, default=900)
    parser.add_argument("--sandbox", choices=["local", "docker"], default="local")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        task = make_task(tmp / "echo")
        data: dict[str, object] = {
            "run_id": "big",
            "resume": True,
            "tasks": [str(task)],
            "agents": [{"kind": "scripted", "params": {"commands": ["echo hi"]}}],
            "attempts": args.attempts,
            "sandbox": {"kind": args.sandbox},
            "storage": {"path": str(tmp / "db.duckdb")},
        }
        written = time.perf_counter()
        stored_run(data, task, args.ended, tmp / "db.duckdb")
        written = time.perf_counter() - written
        runner = Runner(run_config(data))
        seconds = anyio.run(time_to_first_episode, runner)
        left = runner.statistics().episodes
    console = Console()
    console.print(
        f"{args.attempts:,} attempts, {args.ended:,} ended ({written:.2f} s to store them): "
        f"{left:,} to run; first new episode started after [bold]{seconds:.2f} s[/]"
    )
    console.print(f"command: .venv/bin/python benchmarks/resume.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
