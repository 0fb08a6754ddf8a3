"""File tools per operation: open, goto, edit, insert, create, the searches, and a bash floor.

For each backend (local sandboxes, and Docker containers of the sandbox image), a workspace
is laid out before the agent's first command: a 1,000-line Python module (`big.py`, 99
small functions) and 100 small files in 5 folders. Every command then goes through the
public command path, `find_tool(command)(command, context)`, as the tool service runs it:

    open big.py / goto 500 / open big.py 500 / edit 100:109 (10 lines, pyflakes-checked,
    alternating content so every edit writes) / insert 499 (one line) /
    search_dir needle (100 files) / search_file needle big.py / find_file *.py /
    create new_N.py / echo hi

The operations run in rounds, one of each per round (after a few warm-up rounds), so the
machine's load falls on all of them alike; the file `create` made is removed after each
round, by a shell command that is not timed. `echo hi` is the floor every step pays. The
first file request of a sandbox is timed on its own, over a few fresh sandboxes: it may
start a helper process in the sandbox.

The script uses only what the package offered both before and after its file tools began
to read and write through a helper running as the agent, so the same script measures both:

    .venv/bin/python benchmarks/file_tools.py [--rounds 30] [--warmup 3] [--fresh 5]
        [--backend local docker] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from rich.console import Console
from rich.table import Table

import researchgym
import researchgym.sandboxes
from researchgym.sandboxes import (
    SandboxSpec,
    container_config,
    image_name,
    open_docker,
    open_local_sandbox,
    start_docker_sandbox,
)
from researchgym.tasks import TaskSpec
from researchgym.tools import ToolContext, Viewer, find_tool

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from researchgym.sandboxes import Sandbox

LABELS = {"researchgym.managed": "1", "researchgym.run": "bench-file-tools"}
TASK = TaskSpec.model_validate(
    {
        "id": "files",
        "name": "Files",
        "domain": "benchmark",
        "description": "Edit files.",
        "metric": {"name": "Score", "direction": "max"},
        "baseline": {"score": 0},
        "submission": {"kind": "program", "path": "big.py"},
        "timeouts": {"command": 30},
    }
)
FIRST = "open big.py (first file request)"
OPERATIONS = [
    "open big.py",
    "goto 500",
    "open big.py 500",
    "edit 100:109",
    "insert 499",
    "search_dir needle",
    "search_file needle big.py",
    "find_file *.py",
    "create new_N.py",
    "echo hi",
]
"""The operations of a round, in order (``edit`` and ``insert`` need big.py open)."""


def function(k: int, variant: int = 0) -> list[str]:
    """The 10 lines of the module's k-th function (the last two blank)."""
    return [
        f"def func_{k}(x: float) -> float:",
        f'    """Return a value computed from x ({k}, variant {variant})."""',
        f"    a = x * SCALE + {k + variant}",
        f"    b = math.sqrt(abs(a)) + {k}",
        "    c = a - b",
        "    d = c * 0.5",
        "    e = d + a",
        "    return e + b",
        "",
        "",
    ]


def big_module() -> str:
    """1,000 lines: a 9-line header, 99 functions of 10 lines (func_k at 10 + 10k), a last line.

    So lines 100-109 are ``func_9`` and line 499 is the blank line before ``func_49``.
    """
    header = ['"""A generated module, for the file tools\' benchmark."""', ""]
    header += ["from __future__ import annotations", "", "import math", "", "SCALE = 2", "", ""]
    lines = header + [line for k in range(99) for line in function(k)] + ["COUNT = 99"]
    assert len(lines) == 1000 and lines[99].startswith("def func_9(")
    return "\n".join(lines) + "\n"


def lay_out(root: Path) -> Path:
    """The workspace: big.py and 100 small files in 5 folders (every 4th says needle)."""
    root.mkdir(parents=True)
    (root / "big.py").write_text(big_module())
    for i in range(100):
        folder = root / f"pkg{i % 5}"
        folder.mkdir(exist_ok=True)
        word = "needle" if i % 4 == 0 else "hay"
        suffix = ".py" if i % 2 == 0 else ".txt"
        body = f'"""Small file {i}."""\n\nNAME = "{word} {i}"\n\n\ndef value() -> int:\n'
        (folder / f"mod{i}{suffix}").write_text(body + f"    return {i}\n")
    return root


def command(operation: str, n: int) -> str:
    """The command of ``operation`` in round ``n`` (every edit writes something new)."""
    if operation == "edit 100:109":
        return "edit 100:109\n" + "\n".join(function(9, n % 2 + 1)) + "\nend_of_edit"
    if operation == "insert 499":
        return f"insert 499\nINSERTED_{n} = {n}\nend_of_insert"
    if operation == "create new_N.py":
        return f"create new_{n}.py"
    return operation


EXPECTED = {
    "open big.py": "[File: ",
    "goto 500": "\n500:",
    "open big.py 500": "\n500:",
    "edit 100:109": "File updated.",
    "insert 499": "File updated.",
    "create new_N.py": "[File: ",
    "search_dir needle": 'Found 25 matches for "needle"',
    "search_file needle big.py": 'No matches found for "needle"',
    "find_file *.py": 'Found 51 matches for "*.py"',
    "echo hi": "hi",
}
"""What each observation must contain: a run that timed errors would be worthless."""


async def step(context: ToolContext, operation: str, n: int) -> float:
    """Run one command; return its seconds."""
    text = command(operation, n)
    started = time.perf_counter()
    result = await find_tool(text)(text, context)
    seconds = time.perf_counter() - started
    if EXPECTED[operation] not in result.observation:
        raise AssertionError(f"{text!r} gave:\n{result.observation}")
    return seconds


def tool_context(sandbox: Sandbox) -> ToolContext:
    """A context as the tool service makes it; the evaluator is never asked."""

    async def evaluate(kind: str) -> Any:
        raise NotImplementedError(kind)

    return ToolContext(sandbox, TASK, evaluate, viewer=Viewer(cwd=str(sandbox.workdir)))


async def prepared(sandbox: Sandbox, workspace: Path) -> ToolContext:
    """Lay the workspace out (as the engine does, before the agent's first command)."""
    await sandbox.upload(workspace, str(sandbox.workdir))
    context = tool_context(sandbox)
    await step(context, "echo hi", 0)  # the shell's first command, not a file request
    return context


async def measure(
    opener: Callable[[], AbstractAsyncContextManager[Sandbox]],
    workspace: Path,
    args: argparse.Namespace,
) -> dict[str, list[float]]:
    """Time the first file request in fresh sandboxes, then every operation in rounds."""
    times: dict[str, list[float]] = {FIRST: []}
    for _ in range(args.fresh - 1):
        async with opener() as sandbox:
            times[FIRST].append(await step(await prepared(sandbox, workspace), "open big.py", 0))
    async with opener() as sandbox:
        context = await prepared(sandbox, workspace)
        times[FIRST].append(await step(context, "open big.py", 0))
        times |= {operation: [] for operation in OPERATIONS}
        for n in range(args.warmup + args.rounds):
            for operation in OPERATIONS:
                seconds = await step(context, operation, n)
                if n >= args.warmup:
                    times[operation].append(seconds)
            await context.sandbox.exec(f"rm -f new_{n}.py", timeout=30)
    return times


def local_opener(root: Path) -> Callable[[], AbstractAsyncContextManager[Sandbox]]:
    @asynccontextmanager
    async def opener() -> AsyncIterator[Sandbox]:
        async with await open_local_sandbox(root=root) as sandbox:
            yield sandbox

    return opener


def docker_opener(docker: Any, image: str) -> Callable[[], AbstractAsyncContextManager[Sandbox]]:
    config = container_config(SandboxSpec(memory="1g"), image=image, labels=LABELS)

    @asynccontextmanager
    async def opener() -> AsyncIterator[Sandbox]:
        async with await start_docker_sandbox(docker, config, memory="1g") as sandbox:
            yield sandbox

    return opener


def versions() -> dict[str, str]:
    """What ran: the package (and its commit), Python, libraries, Docker, local isolation."""
    package = Path(researchgym.__file__).parent
    git = ["git", "-C", str(package), "log", "-1", "--format=%h %s"]
    commit = subprocess.run(git, capture_output=True, text=True, check=False).stdout
    found = {
        "researchgym": f"{researchgym.__version__} from {package}",
        "commit": commit.strip()[:100],
        "python": platform.python_version(),
        "anyio": version("anyio"),
        "aiodocker": version("aiodocker"),
    }
    # Local sandboxes isolate (under bubblewrap) only since 3bdb7e8; before, there is no
    # local_isolation to ask.
    isolation = getattr(researchgym.sandboxes, "local_isolation", None)
    found["local isolation"] = isolation().detail if isolation else "none (not in this version)"
    return found


async def main(args: argparse.Namespace) -> None:
    results: dict[str, dict[str, list[float]]] = {}
    about = versions()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = lay_out(Path(tmp) / "workspace")
        (Path(tmp) / "sandboxes").mkdir()
        if "local" in args.backend:
            results["local"] = await measure(local_opener(Path(tmp) / "sandboxes"), workspace, args)
        if "docker" in args.backend:
            async with open_docker() as docker:
                about["docker"] = str((await docker.version()).get("Version"))
                about["image"] = args.image
                results["docker"] = await measure(
                    docker_opener(docker, args.image), workspace, args
                )
    report(results, about, args)


def report(
    results: dict[str, dict[str, list[float]]], about: dict[str, str], args: argparse.Namespace
) -> None:
    console = Console()
    title = f"File tools: ms per operation ({args.rounds} rounds, {args.fresh} fresh sandboxes)"
    table = Table(title=title)
    for column in ("backend", "operation", "n", "median ms", "p90 ms"):
        table.add_column(column, justify="left" if column in ("backend", "operation") else "right")
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for backend, times in results.items():
        summary[backend] = {}
        for operation, samples in times.items():
            median, p90 = statistics.median(samples), percentile(samples, 0.9)
            summary[backend][operation] = {"median_ms": median * 1e3, "p90_ms": p90 * 1e3}
            row = [backend, operation, str(len(samples)), f"{median * 1e3:.2f}", f"{p90 * 1e3:.2f}"]
            table.add_row(*row)
    console.print(table)
    for name, value in about.items():
        console.print(f"{name}: {value}")
    console.print(f"command: {sys.executable} benchmarks/file_tools.py {' '.join(sys.argv[1:])}")
    if args.json:
        record = {"versions": about, "summary": summary, "samples": results}
        Path(args.json).write_text(json.dumps(record, indent=1))


def percentile(samples: list[float], q: float) -> float:
    """The ``q`` quantile, interpolated between the two nearest samples."""
    ordered = sorted(samples)
    at = q * (len(ordered) - 1)
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--fresh", type=int, default=5, help="sandboxes for the first request")
    parser.add_argument("--backend", nargs="+", choices=["local", "docker"])
    parser.add_argument("--image", default=image_name())
    parser.add_argument("--json", help="also write the samples and medians to this file")
    parsed = parser.parse_args()
    parsed.backend = parsed.backend or ["local", "docker"]
    anyio.run(main, parsed, backend="asyncio")
