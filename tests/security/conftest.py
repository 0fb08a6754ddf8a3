"""The attack suite's harness: whole runs of an adversarial scripted agent, on Docker and
on isolated local sandboxes, and what they must never achieve.

Every attack plays through the public command set, in a real run stored in DuckDB, on a
task whose honest score is known: ``secret`` scores 1.0 only for a submission that knows a
random secret kept in its ``eval/``, which no agent can honestly learn, so every stored
score must be 0. ``attack`` returns what the run stored and how far the engine's resident
memory rose above where it was when the run began.

Backends: ``docker`` (the sandbox image, as CI builds it) and ``local`` where bubblewrap
isolates (CI installs it and runs as root, so neither skips there).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import pytest
import yaml

from researchgym.agents import agent
from researchgym.config import run_config
from researchgym.engine import Runner
from researchgym.sandboxes import local_isolation
from researchgym.storage import open_database, query

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from researchgym.agents import AgentContext, Observation

MEMORY_BUDGET = 150 * 2**20
"""How far the engine's resident memory may rise over an attack: far less than any file
the agent can make, and than the 2 GiB that a race once made it read."""

EVALUATE_SECRET = """\
import rgym_eval

SECRET = open("secret.txt").read().strip()


def evaluate():
    with rgym_eval.Player() as player:
        answer = player.call("answer", timeout=20)
    return {"Score": 1.0 if answer == SECRET else 0.0}


rgym_eval.main(evaluate)
"""

GUESS = 'def answer():\n    return "a guess"\n'


def make_secret_task(root: Path, secret: str, **spec: Any) -> Path:
    """A task that only a submission knowing ``secret`` (hidden in eval/) can win."""
    (root / "workspace").mkdir(parents=True)
    (root / "eval").mkdir()
    (root / "workspace" / "answer.py").write_text(GUESS)
    (root / "eval" / "evaluate.py").write_text(EVALUATE_SECRET)
    (root / "eval" / "secret.txt").write_text(secret)
    data = {
        "id": "secret",
        "name": "Secret",
        "domain": "security",
        "description": "answer() in answer.py must return the secret.",
        "metric": {"name": "Score", "direction": "max"},
        "baseline": {"score": 0.0},
        "submission": {"kind": "program", "path": "answer.py"},
        "evaluation": {"command": ["python3", "evaluate.py"], "timeout": 60},
        "timeouts": {"command": 30},
        **spec,
    }
    (root / "task.yaml").write_text(yaml.safe_dump(data))
    return root


@dataclass
class Attack:
    """What an attack's run stored, and what it cost the engine."""

    scores: list[float]
    """Every score stored (validate and submit)."""
    outputs: list[str]
    """What the agent saw, command by command."""
    stored_text: str
    """Every text column of every table, joined: where a leak would show."""
    memory_rise: int
    """Bytes the engine's peak resident memory rose above its size at the start."""
    exit_status: str
    probes: list[Any] = field(default_factory=list)
    """What the agent's probe returned after each command (``attack(probe=...)``)."""


class Prober:
    """A scripted agent that calls a probe (host side) after each command's observation."""

    def __init__(self, commands: list[str], probe: Callable[[], Awaitable[Any]], seen: list[Any]):
        self._commands = commands
        self._probe = probe
        self._seen = seen

    async def act(self, observation: Observation) -> str:
        if observation.step:
            self._seen.append(await self._probe())
        return (
            self._commands[observation.step] if observation.step < len(self._commands) else "submit"
        )


_PROBES: dict[str, tuple[list[str], Callable[[], Awaitable[Any]], list[Any]]] = {}


@agent("test-prober")
def _prober(context: AgentContext, *, key: str) -> Prober:
    return Prober(*_PROBES[key])


@pytest.fixture(params=["docker", "local"])
def backend(request: pytest.FixtureRequest) -> str:
    """The sandbox kind under attack."""
    kind: str = request.param
    if kind == "docker":
        request.getfixturevalue("sandbox_image")  # built once; skips only with no daemon
    elif not local_isolation().namespaces:
        pytest.skip(f"local sandboxes cannot isolate here: {local_isolation().detail}")
    return kind


@pytest.fixture
def anyio_backend() -> str:
    """aiodocker needs asyncio."""
    return "asyncio"


@pytest.fixture
def secret() -> str:
    return f"s3cret-{secrets.token_hex(8)}"


async def attack(
    tmp_path: Path,
    backend: str,
    commands: list[str],
    *,
    task: Path,
    sandbox: dict[str, Any] | None = None,
    probe: Callable[[], Awaitable[Any]] | None = None,
) -> Attack:
    """Run ``commands`` (then ``submit``) as one episode of ``task`` and read back the run."""
    seen: list[Any] = []
    if probe is not None:
        key = secrets.token_hex(4)
        _PROBES[key] = (commands, probe, seen)
        agents = [{"kind": "test-prober", "params": {"key": key}}]
    else:
        agents = [{"kind": "scripted", "params": {"commands": commands}}]
    cfg = run_config(
        {
            "tasks": [str(task)],
            "agents": agents,
            "attempts": 1,
            "limits": {"max_steps": len(commands) + 2},
            "sandbox": {"kind": backend, "pool": 0, **(sandbox or {})},
            "storage": {"path": tmp_path / f"{backend}.duckdb"},
        }
    )
    start = await anyio.to_thread.run_sync(_reset_peak_memory)
    [outcome] = await Runner(cfg).run()
    peak = await anyio.to_thread.run_sync(_memory, "VmHWM")
    rows = await anyio.to_thread.run_sync(_read, cfg.storage.path)
    return Attack(*rows, memory_rise=peak - start, exit_status=outcome.exit_status, probes=seen)


def _read(db: Path) -> tuple[list[float], list[str], str]:
    with open_database(db) as con:
        scores = query(con, "SELECT score FROM scores ORDER BY seq").column(0).to_pylist()
        outputs = query(con, "SELECT output FROM tool_calls ORDER BY seq").column(0).to_pylist()
        texts = [
            " ".join(str(v) for v in query(con, f"SELECT * FROM {table}").to_pylist())
            for table in ("events", "messages", "tool_calls", "scores", "episodes")
        ]
    return scores, [o or "" for o in outputs], "\n".join(texts)


def _memory(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/self/status")


def _reset_peak_memory() -> int:
    """Reset this process's peak resident size to its current one, and return it."""
    Path("/proc/self/clear_refs").write_text("5")
    return _memory("VmRSS")
