"""Container start: how fast sandboxes are acquired, with and without a warm pool.

32 Docker sandboxes are asked for at once under the limit on concurrent starts, first from a
provider without a pool (each episode waits for its container to be created and started, and
its shell to be opened), then from one whose warm pool was filled beforehand. Reports
containers started per second and the p50/p95 latency of `provider.open()`.

    .venv/bin/python benchmarks/docker_start.py [--count 32] [--starts 8]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import anyio
from rich.console import Console
from rich.table import Table

from researchgym.sandboxes import (
    DockerSandbox,
    DockerSandboxes,
    SandboxSpec,
    image_name,
    open_docker_sandboxes,
)

SPEC = SandboxSpec(memory="256m")


async def acquire_all(provider: DockerSandboxes, count: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    sandboxes: list[DockerSandbox] = []

    async def one() -> None:
        started = time.perf_counter()
        sandboxes.append(await provider.open(SPEC))
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(count):
            tg.start_soon(one)
    wall = time.perf_counter() - started
    for sandbox in sandboxes:
        await sandbox.aclose()
    return latencies, wall


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


async def main(args: argparse.Namespace) -> None:
    table = Table(title=f"Acquiring {args.count} Docker sandboxes ({args.starts} starts at once)")
    for column in ("pool", "containers/s", "open() p50", "open() p95"):
        table.add_column(column, justify="right")
    async with open_docker_sandboxes(
        run_id="bench-start", image=args.image, concurrent_starts=args.starts
    ) as cold:
        latencies, wall = await acquire_all(cold, args.count)
    table.add_row(
        "none",
        f"{args.count / wall:.1f}",
        f"{percentile(latencies, 50) * 1000:.0f} ms",
        f"{percentile(latencies, 95) * 1000:.0f} ms",
    )
    async with open_docker_sandboxes(
        run_id="bench-start",
        image=args.image,
        concurrent_starts=args.starts,
        pool_size=args.count,
    ) as warm:
        fill_started = time.perf_counter()
        await warm.warm(SPEC, args.count)
        fill = time.perf_counter() - fill_started
        latencies, wall = await acquire_all(warm, args.count)
    table.add_row(
        f"{args.count} warm",
        f"{args.count / fill:.1f} (filling)",
        f"{percentile(latencies, 50) * 1000:.2f} ms",
        f"{percentile(latencies, 95) * 1000:.2f} ms",
    )
    console = Console()
    console.print(table)
    console.print("goal: p50 under 10 ms with a warm pool")
    console.print(f"command: .venv/bin/python benchmarks/docker_start.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=32)
    parser.add_argument("--starts", type=int, default=8)
    parser.add_argument("--image", default=image_name())
    anyio.run(main, parser.parse_args())
