"""Commands per second over concurrent Docker sandboxes: persistent shell against fresh execs.

16 Docker sandboxes run `echo hi` as fast as they can, first through their persistent shell
(one bash per sandbox over an exec's attached stdin stream), then each command in a fresh
`docker exec` (create, start attached, read, inspect: what a backend without a persistent
session pays per command). Both are measured in the same run, on the same containers.

    .venv/bin/python benchmarks/docker_sessions.py [--sessions 16] [--seconds 5]
"""

from __future__ import annotations

import argparse
import sys
import time

import anyio
from rich.console import Console
from rich.table import Table

from researchgym.sandboxes import DockerSandbox, SandboxSpec, image_name, open_docker_sandboxes


async def rate(sandboxes: list[DockerSandbox], seconds: float, fresh: bool) -> float:
    done = 0

    async def hammer(sandbox: DockerSandbox) -> None:
        nonlocal done
        while True:
            if fresh:
                result = await sandbox.run(["echo", "hi"], timeout=30)
            else:
                result = await sandbox.exec("echo hi", timeout=30)
            assert result.output == "hi\n", result
            done += 1

    started = time.perf_counter()
    with anyio.move_on_after(seconds):
        async with anyio.create_task_group() as tg:
            for sandbox in sandboxes:
                tg.start_soon(hammer, sandbox)
    return done / (time.perf_counter() - started)


async def main(args: argparse.Namespace) -> None:
    spec = SandboxSpec(memory="256m")
    async with open_docker_sandboxes(
        run_id="bench-sessions", image=args.image, concurrent_starts=8
    ) as provider:
        sandboxes = [await provider.open(spec) for _ in range(args.sessions)]
        try:
            persistent = await rate(sandboxes, args.seconds, fresh=False)
            fresh = await rate(sandboxes, args.seconds, fresh=True)
        finally:
            for sandbox in sandboxes:
                await sandbox.aclose()
    table = Table(title=f"{args.sessions} concurrent Docker sandboxes running `echo hi`")
    for column in ("path", "commands/s"):
        table.add_column(column, justify="right")
    table.add_row("persistent shell (attached exec stream)", f"{persistent:,.0f}")
    table.add_row("fresh exec per command", f"{fresh:,.1f}")
    console = Console()
    console.print(table)
    console.print(f"ratio: {persistent / fresh:,.0f}x (goal: 2,500/s and 50x)")
    console.print(
        f"command: .venv/bin/python benchmarks/docker_sessions.py {' '.join(sys.argv[1:])}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--image", default=image_name())
    anyio.run(main, parser.parse_args())
