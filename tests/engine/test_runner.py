"""Whole runs: real local sandboxes, real tasks, every event stored and counted back."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from researchgym.agents import agent
from researchgym.config import RunConfig, run_config
from researchgym.engine import Runner
from researchgym.errors import ConfigError, TaskSpecError, UnknownComponentError
from researchgym.sandboxes import open_docker
from researchgym.storage import open_database, query
from researchgym.tasks import resolve_task
from tests.tasks.test_evaluator import SCORE_ANSWER
from tests.tasks.test_loader import make_task

if TYPE_CHECKING:
    from pathlib import Path

    from researchgym.agents import AgentContext, Observation


PD = resolve_task("prisoners_dilemma").spec


class Crashing:
    async def act(self, observation: Observation) -> str:
        raise RuntimeError("the agent fell over")


@agent("test-crashing")
def _crashing(context: AgentContext) -> Crashing:
    return Crashing()


def toy_task(root: Path, **spec: Any) -> str:
    folder = make_task(root, lambda s: s.update(spec))
    (folder / "eval" / "evaluate.py").write_text(SCORE_ANSWER)
    return str(folder)


def config(tmp_path: Path, **data: Any) -> RunConfig:
    data.setdefault("storage", {"path": tmp_path / "db.duckdb"})
    data.setdefault("sandbox", {"kind": "local"})
    data.setdefault("agents", [{"kind": "baseline"}])
    return run_config(data)


def _sql(cfg: RunConfig, statement: str) -> list[dict[str, Any]]:
    with open_database(cfg.storage.path) as con:
        rows: list[dict[str, Any]] = query(con, statement).to_pylist()
        return rows


async def sql(cfg: RunConfig, statement: str) -> list[dict[str, Any]]:
    return await anyio.to_thread.run_sync(_sql, cfg, statement)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_baseline_run_is_stored_and_counts_back(tmp_path: Path) -> None:
    cfg = config(tmp_path, tasks=["prisoners_dilemma"], attempts=2)
    outcomes = await Runner(cfg).run()
    assert sorted(o.exit_status for o in outcomes) == ["submitted", "submitted"]
    steps = len(PD.baseline.commands) + 2  # baseline commands, validate, submit
    assert await sql(cfg, "SELECT run_id, status, episodes FROM runs") == [
        {"run_id": cfg.run_id, "status": "completed", "episodes": 2}
    ]
    episodes = await sql(
        cfg, "SELECT task_id, agent, attempt, exit_status, steps FROM episodes ORDER BY attempt"
    )
    assert episodes == [
        {
            "task_id": "prisoners_dilemma",
            "agent": "baseline",
            "attempt": a,
            "exit_status": "submitted",
            "steps": steps,
        }
        for a in (1, 2)
    ]
    # per episode: a request and a reply per step (the tool service calls the evaluator
    # itself, off the bus), a tool call per step, two scores, start and end
    per_episode = {
        "message": 2 * steps,
        "tool_call": steps,
        "score": 2,
        "episode_start": 1,
        "episode_end": 1,
    }
    kinds = await sql(cfg, "SELECT kind, count(*) / 2 AS n FROM events GROUP BY kind")
    assert {r["kind"]: r["n"] for r in kinds} == per_episode
    assert (await sql(cfg, "SELECT count(*) AS n FROM messages WHERE delivered"))[0][
        "n"
    ] == 2 * per_episode["message"]
    scores = await sql(cfg, "SELECT kind, score, baseline FROM scores ORDER BY episode_id, seq")
    baseline = PD.baseline.score
    assert [(s["kind"], s["baseline"]) for s in scores] == [
        (k, baseline) for k in ("validate", "submit") * 2
    ]
    # the final evaluation scores what task.yaml says; validate scores on other games
    assert [s["score"] for s in scores[1::2]] == [pytest.approx(baseline)] * 2
    assert scores[0]["score"] == scores[2]["score"] != pytest.approx(baseline)
    # seq numbers are a gapless timeline per episode, and typed rows point into it
    gaps = await sql(
        cfg, "SELECT episode_id, max(seq) - count(*) AS gap FROM events GROUP BY episode_id"
    )
    assert all(r["gap"] == 0 for r in gaps)
    orphans = await sql(
        cfg,
        "SELECT count(*) AS n FROM tool_calls t ANTI JOIN events e USING (run_id, episode_id, seq)",
    )
    assert orphans == [{"n": 0}]
    replies = await sql(
        cfg,
        "SELECT count(*) AS n FROM messages r JOIN messages q "
        "ON r.correlation_id = q.message_id AND r.sender = q.recipient",
    )
    assert replies == [{"n": 2 * steps}]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_failing_episodes_are_recorded_and_the_others_go_on(tmp_path: Path) -> None:
    task = toy_task(tmp_path / "toy", timeouts={"command": 0.5})
    cfg = config(
        tmp_path,
        tasks=[task],
        agents=[
            {"kind": "test-crashing"},
            {"kind": "scripted", "label": "quitter", "params": {"commands": ["exit 3"]}},
            {
                "kind": "scripted",
                "label": "sleeper",
                "params": {"commands": ["sleep 60", "echo 5 > answer.txt"]},
            },
            {"kind": "scripted", "label": "idle", "params": {"commands": []}},
        ],
        attempts=1,
    )
    outcomes = await Runner(cfg).run()
    assert len(outcomes) == 4
    rows = await sql(cfg, "SELECT agent, exit_status, error, steps FROM episodes ORDER BY agent")
    assert rows == [
        {
            "agent": "idle",
            "exit_status": "submission_not_found (submit)",
            "error": None,
            "steps": 1,
        },
        {
            "agent": "quitter",
            "exit_status": "early_exit",
            "error": "SandboxBrokenError: The sandbox's shell is gone: the shell exited with "
            "status 3 (did a command run 'exit'?); open a new sandbox.",
            "steps": 1,
        },
        {"agent": "sleeper", "exit_status": "submitted", "error": None, "steps": 3},
        {
            "agent": "test-crashing",
            "exit_status": "exit_error",
            "error": "RuntimeError: the agent fell over",
            "steps": 0,
        },
    ]
    fatal = await sql(cfg, "SELECT command, output FROM tool_calls WHERE command = 'exit 3'")
    assert fatal == [
        {
            "command": "exit 3",
            "output": "The sandbox failed: The sandbox's shell is gone: the shell exited with "
            "status 3 (did a command run 'exit'?); open a new sandbox.",
        }
    ]
    timed_out = await sql(
        cfg, "SELECT command, timed_out FROM tool_calls WHERE agent = 'agent' AND timed_out"
    )
    assert timed_out == [{"command": "sleep 60", "timed_out": True}]
    assert await sql(cfg, "SELECT score FROM scores") == [{"score": 5.0}]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_step_limit_autosubmits(tmp_path: Path) -> None:
    task = toy_task(tmp_path / "toy")
    cfg = config(
        tmp_path,
        tasks=[task],
        agents=[
            {"kind": "scripted", "params": {"commands": ["echo 4 > answer.txt"] + ["ls"] * 10}}
        ],
        attempts=1,
        limits={"max_steps": 3},
    )
    [outcome] = await Runner(cfg).run()
    expected = ("autosubmission (max_steps)", 3)
    assert (outcome.exit_status, outcome.steps) == expected, outcome.error
    assert await sql(cfg, "SELECT kind, score FROM scores") == [
        {"kind": "autosubmit", "score": 4.0}
    ]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_parquet_storage_reads_back_the_same(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        tasks=["prisoners_dilemma"],
        attempts=1,
        storage={"format": "parquet", "path": tmp_path / "pq"},
    )
    await Runner(cfg).run()
    assert await sql(cfg, "SELECT exit_status FROM episodes") == [{"exit_status": "submitted"}]
    assert (await sql(cfg, "SELECT count(*) AS n FROM tool_calls"))[0]["n"] == len(
        PD.baseline.commands
    ) + 2
    assert list((tmp_path / "pq" / "events").iterdir()) == [
        tmp_path / "pq" / "events" / f"run_id={cfg.run_id}"
    ]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_bad_agent_or_task_fails_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(UnknownComponentError, match=r"^Unknown agent kind 'nope'"):
        await Runner(config(tmp_path, tasks=["prisoners_dilemma"], agents=[{"kind": "nope"}])).run()
    with pytest.raises(ConfigError, match=r"^Agent kind 'scripted' cannot take"):
        await Runner(
            config(tmp_path, tasks=["prisoners_dilemma"], agents=[{"kind": "scripted"}])
        ).run()
    broken = make_task(tmp_path / "broken", lambda s: s.pop("metric"))
    with pytest.raises(TaskSpecError, match="key 'metric': is missing"):
        await Runner(config(tmp_path, tasks=[str(broken)])).run()
    assert not (tmp_path / "db.duckdb").exists()


async def test_runs_under_both_backends(tmp_path: Path) -> None:
    cfg = config(
        tmp_path, tasks=[toy_task(tmp_path / "toy")], attempts=3, limits={"concurrent_episodes": 2}
    )
    runner = Runner(cfg)
    outcomes = await runner.run()
    assert [o.exit_status for o in outcomes] == ["submitted"] * 3
    stats = runner.statistics()
    counts = (stats.episodes, stats.done, stats.running, stats.crashed, stats.steps)
    assert counts == (3, 3, 0, 0, 9)


async def test_sandboxes_run_on_their_cpus(tmp_path: Path) -> None:
    cpu = max(os.sched_getaffinity(0))
    check = "grep Cpus_allowed_list /proc/self/status"
    cfg = config(
        tmp_path,
        tasks=[toy_task(tmp_path / "toy")],
        agents=[{"kind": "scripted", "params": {"commands": [check]}}],
        attempts=1,
        cpus={"sandboxes": [cpu]},
    )
    await Runner(cfg).run()
    [row] = await sql(cfg, f"SELECT output FROM tool_calls WHERE command = '{check}'")
    assert row["output"].split() == ["Cpus_allowed_list:", str(cpu)]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_docker_run_end_to_end(tmp_path: Path, sandbox_image: str) -> None:
    tight = toy_task(tmp_path / "tight", resources={"memory": "256m"}, timeouts={"command": 30})
    unstartable = toy_task(tmp_path / "tiny", id="tiny", resources={"memory": "1m"})
    hog = "python3 -c 'x = bytearray(600 * 2**20)'"
    cfg = config(
        tmp_path,
        tasks=["prisoners_dilemma", tight, unstartable],
        agents=[
            {"kind": "scripted", "params": {"commands": [hog, "echo 8 > answer.txt", "validate"]}},
            {"kind": "baseline"},
        ],
        attempts=1,
        sandbox={"kind": "docker", "image": sandbox_image},
    )
    await Runner(cfg).run()
    rows = await sql(
        cfg, "SELECT task_id, agent, sandbox, exit_status, error FROM episodes ORDER BY ALL"
    )
    by_key = {(r["task_id"], r["agent"]): r for r in rows}
    assert all(r["sandbox"] == "docker" for r in rows)
    assert by_key[("prisoners_dilemma", "baseline")]["exit_status"] == "submitted"
    assert by_key[("toy", "scripted")]["exit_status"] == "submitted"
    # a sandbox that cannot start fails its episodes only, saying why
    for label in ("baseline", "scripted"):
        failed = by_key[("tiny", label)]
        assert failed["exit_status"] == "early_exit"
        assert failed["error"].startswith("SandboxError: Docker could not")
    [oom] = await sql(
        cfg,
        "SELECT exit_code, output FROM tool_calls WHERE command LIKE 'python3 -c%' AND "
        "episode_id IN (SELECT episode_id FROM episodes WHERE task_id = 'toy')",
    )
    assert oom["exit_code"] == 137
    assert oom["output"].endswith("[Killed: the sandbox ran out of memory (its limit is 256m).]")
    scores = await sql(
        cfg,
        "SELECT s.kind, s.score FROM scores s JOIN episodes e USING (run_id, episode_id) "
        "WHERE e.task_id = 'toy' ORDER BY e.agent, s.seq",
    )
    assert [(r["kind"], r["score"]) for r in scores] == [
        ("validate", 0.0),  # the baseline
        ("submit", 0.0),
        ("validate", 8.0),  # the scripted agent, after its process ran out of memory
        ("submit", 8.0),
    ]
    async with open_docker() as docker:
        left = await docker.containers.list(
            all=True, filters={"label": [f"researchgym.run={cfg.run_id}"]}
        )
    assert left == []


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("store", ["duckdb", "parquet"])
async def test_a_run_id_already_stored_is_refused(tmp_path: Path, store: str) -> None:
    storage = {"format": store, "path": tmp_path / ("db.duckdb" if store == "duckdb" else "pq")}
    cfg = config(tmp_path, tasks=[toy_task(tmp_path / "toy")], run_id="mine", storage=storage)
    await Runner(cfg).run()
    with pytest.raises(ConfigError, match=r"^The run id 'mine' is already in .*: give the run"):
        await Runner(cfg).run()
    # the first run's rows only, once
    assert await sql(cfg, "SELECT run_id, episodes FROM runs") == [
        {"run_id": "mine", "episodes": 2}
    ]
    assert await sql(cfg, "SELECT count(*) AS n FROM episodes") == [{"n": 2}]


async def test_a_task_requiring_isolation_refuses_local_sandboxes(tmp_path: Path) -> None:
    strict = toy_task(tmp_path / "strict", id="strict", requires_isolation=True)
    cfg = config(tmp_path, tasks=[strict, toy_task(tmp_path / "lax")])
    with pytest.raises(
        ConfigError,
        match=r"^The task strict requires isolation: it runs only in Docker sandboxes, and this "
        r"run would put it in local ones\. Start Docker \(researchgym sandbox status says what "
        r"it finds\), or leave the task out\.$",
    ):
        await Runner(cfg).run()
    assert not await anyio.Path(cfg.storage.path).exists()  # refused before anything ran


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_auto_stores_the_kind_that_ran_and_why(tmp_path: Path, sandbox_image: str) -> None:
    strict = toy_task(tmp_path / "strict", id="strict", requires_isolation=True)
    cfg = config(tmp_path, tasks=[strict], sandbox={"kind": "auto"}, attempts=1)
    [outcome] = await Runner(cfg).run()
    assert outcome.exit_status == "submitted"
    [row] = await sql(cfg, "SELECT config->'sandbox' AS box FROM runs")
    box = json.loads(row["box"])
    assert (box["kind"], box["chosen"]) == ("docker", "a Docker daemon answers")
