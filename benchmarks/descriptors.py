"""Open files one running episode holds: what ``engine/admission.py`` counts per backend.

Runs N episodes at once whose agent sleeps between a few commands (so that all N hold their
sandboxes together), samples this process's open files (/proc/self/fd) every 20 ms, and
reports the peak above the count before the run, per episode. The engine's own files (the
store, the writer) are in the peak too, so the figure errs high, as admission should.

    .venv/bin/python benchmarks/descriptors.py [--episodes 32 64] [--sandbox local docker]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
from pathlib import Path

import anyio
from engine import make_task  # the echo task of benchmarks/engine.py
from rich.console import Console
from rich.table import Table

from researchgym.config import run_config
from researchgym.engine import Runner


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def measure(episodes: int, sandbox: str, tmp: Path) -> tuple[int, int]:
    """The open files before the run, and at its peak."""
    cfg = run_config(
        {
            "tasks": [str(make_task(tmp / f"echo-{sandbox}-{episodes}"))],
            "agents": [{"kind": "scripted", "params": {"commands": ["sleep 2", "ls", "sleep 2"]}}],
            "attempts": episodes,
            "limits": {"concurrent_episodes": episodes},
            "sandbox": {"kind": sandbox},
            "storage": {"path": tmp / f"fd-{sandbox}-{episodes}.duckdb"},
        }
    )
    before, peak, done = open_files(), 0, threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, open_files())

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        anyio.run(Runner(cfg).run)
    finally:
        done.set()
        sampler.join()
    return before, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--sandbox", nargs="+", default=["local", "docker"])
    args = parser.parse_args()
    table = Table("sandbox", "episodes", "open before", "peak", "per episode")
    with tempfile.TemporaryDirectory() as folder:
        for sandbox in args.sandbox:
            for n in args.episodes:
                before, peak = measure(n, sandbox, Path(folder))
                table.add_row(sandbox, str(n), str(before), str(peak), f"{(peak - before) / n:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
