"""The built-in suite: the baseline agent on every built-in task, two attempts each.

Runs the whole suite as `researchgym run` would (Docker by default), then reports the wall
time of the whole run and, per task, the baseline's commands, each evaluation (`validate`
and `submit`, as the tool calls recorded them) and each episode, with the scores beside the
baselines that task.yaml states. Goal: the whole suite under 10 minutes on a 2-core machine.

    .venv/bin/python benchmarks/suite.py [--attempts 2] [--sandbox docker|local]
        [--concurrency 4]
"""

from __future__ import annotations

import argparse
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

PER_TASK = """
WITH per_episode AS (
    SELECT episode_id,
           sum(duration_s) FILTER (WHERE action_class NOT IN ('Validate', 'Submit'))
               AS baseline_s,
           avg(duration_s) FILTER (WHERE action_class IN ('Validate', 'Submit')) AS eval_s,
           max(duration_s) FILTER (WHERE action_class IN ('Validate', 'Submit')) AS eval_max_s
    FROM tool_calls GROUP BY episode_id
), submitted AS (
    SELECT episode_id, score FROM scores WHERE kind = 'submit'
)
SELECT e.task_id,
       count(*) AS episodes,
       count(*) FILTER (WHERE e.exit_status = 'submitted') AS submitted,
       avg(p.baseline_s) AS baseline_s,
       avg(p.eval_s) AS eval_s,
       max(p.eval_max_s) AS eval_max_s,
       avg(epoch(e.ended_at) - epoch(e.started_at)) AS episode_s,
       avg(s.score) AS score,
       any_value(e.baseline) AS stated_baseline,
       any_value(e.direction) AS direction
FROM episodes e
LEFT JOIN per_episode p USING (episode_id)
LEFT JOIN submitted s USING (episode_id)
GROUP BY e.task_id
ORDER BY e.task_id
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=2)
    parser.add_argument("--sandbox", choices=["docker", "local"], default="docker")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "suite.duckdb"
        cfg = run_config(
            {
                "tasks": ["builtin"],
                "agents": [{"kind": "baseline"}],
                "attempts": args.attempts,
                "limits": {"concurrent_episodes": args.concurrency},
                "sandbox": {"kind": args.sandbox},
                "storage": {"path": db},
            }
        )
        wall = time.perf_counter()
        anyio.run(Runner(cfg).run)
        wall = time.perf_counter() - wall
        with open_database(db) as con:
            rows = query(con, PER_TASK).to_pylist()
    table = Table(
        title=f"Built-in suite, baseline agent, {args.attempts} attempts, {args.sandbox}, "
        f"{args.concurrency} episodes at once: {wall:.1f} s in all"
    )
    columns = ["task", "episodes", "submitted", "baseline cmds s", "eval s (mean)"]
    columns += ["eval s (max)", "episode s", "score", "task.yaml baseline"]
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            row["task_id"],
            str(row["episodes"]),
            str(row["submitted"]),
            f"{row['baseline_s'] or 0:.1f}",
            f"{row['eval_s'] or 0:.1f}",
            f"{row['eval_max_s'] or 0:.1f}",
            f"{row['episode_s']:.1f}",
            "-" if row["score"] is None else f"{row['score']:.4g}",
            f"{row['stated_baseline']:.4g} ({'↑' if row['direction'] == 'max' else '↓'})",
        )
    console = Console(width=160)
    console.print(table)
    console.print(f"command: .venv/bin/python benchmarks/suite.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
