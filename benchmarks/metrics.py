"""Metrics at scale: the full report and every metric view over a large database.

Writes a synthetic database (`researchgym.storage.synthetic`: by default 10,000 episodes and
1,000,000 events, with their tool calls, model calls, messages and scores), then times,
each on a fresh connection as `researchgym report` opens it:

- `report`: what `researchgym report` computes (Best Attempt@k and Best Submission@k per
  task and agent, performance profiles and AUP of both variants, failures, tokens and cost
  per agent, exit statuses);
- `every metric`: the report plus every other aggregate of the metric layer (failures,
  exit statuses and costs by model, task and agent; action classes overall and by model,
  task, agent and step) and a full scan of each view (episode_results, steps, model_calls,
  team_messages).

Goal: the full report, all metrics and views, in under 2 seconds.

    .venv/bin/python benchmarks/metrics.py [--episodes 10000] [--events 100] [--k 4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from researchgym.analysis import actions, costs, exit_statuses, failures, report
from researchgym.storage import open_database, query
from researchgym.storage.synthetic import write_synthetic

if TYPE_CHECKING:
    from collections.abc import Callable

VIEWS = ["episode_results", "steps", "model_calls", "team_messages"]


def full_report(db: Path, k: int) -> None:
    with open_database(db) as con:
        report(con, ["synthetic"], k=k)


def every_metric(db: Path, k: int) -> None:
    runs = ["synthetic"]
    with open_database(db) as con:
        report(con, runs, k=k)
        for by in ("model", "task", "agent"):
            failures(con, runs, by=by)
            exit_statuses(con, runs, by=by)
            costs(con, runs, by=by)
        for dimension in ("all", "model", "task", "agent", "step"):
            actions(con, runs, by=dimension)
        for view in VIEWS:
            query(con, f"SELECT count(*), count(DISTINCT episode_id) FROM {view}")


def timed(work: Callable[[Path, int], None], db: Path, k: int, *, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work(db, k)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100, help="events per episode")
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "synthetic.duckdb"
        start = time.perf_counter()
        with console.status("Writing the synthetic database"):
            write_synthetic(db, episodes=args.episodes, events_per_episode=args.events)
        written = time.perf_counter() - start
        with open_database(db) as con:
            counts = query(con, "SELECT (SELECT count(*) FROM events) AS events").to_pylist()
        table = Table(
            title=f"Metrics over {args.episodes:,} episodes, {counts[0]['events']:,} events "
            f"(written in {written:.1f} s), k = {args.k}, {args.repeats} runs each"
        )
        for column in ("what", "best s", "median s", "worst s"):
            table.add_column(column, justify="right")
        for name, work in (("report", full_report), ("every metric", every_metric)):
            with console.status(f"Timing {name}"):
                times = sorted(timed(work, db, args.k, repeats=args.repeats))
            table.add_row(
                name, f"{times[0]:.3f}", f"{times[len(times) // 2]:.3f}", f"{times[-1]:.3f}"
            )
    console.print(table)
    console.print(f"command: .venv/bin/python benchmarks/metrics.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
