"""The public environment: one episode of a task, the caller acting, recorded on request,
through exactly the runner's episode (its sandbox, services, limits and records)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio
import pytest

from researchgym.engine import open_env
from researchgym.errors import ConfigError, UnknownComponentError
from researchgym.storage import open_database, query
from tests.tasks.test_evaluator import SCORE_ANSWER
from tests.tasks.test_loader import make_task

if TYPE_CHECKING:
    from pathlib import Path


def rows(db: Path, sql: str) -> list[dict[str, Any]]:
    con = open_database(db)
    try:
        result: list[dict[str, Any]] = query(con, sql).to_pylist()
        return result
    finally:
        con.close()


def toy(tmp_path: Path) -> Path:
    root = make_task(tmp_path / "toy")
    (root / "eval" / "evaluate.py").write_text(SCORE_ANSWER)
    return root


async def test_an_episode_of_a_task_folder_is_stored_as_a_run_of_one(tmp_path: Path) -> None:
    db = tmp_path / "env.duckdb"
    async with open_env(toy(tmp_path), sandbox="local", store=db, run_id="r1") as env:
        text, info = await env.reset()
        assert text.startswith("Make answer.txt say 42.") and info["max_steps"] == 50
        assert (await env.step("echo 3 > answer.txt")).info["score"] == []
        result = await env.step("submit")
        assert result.terminated and result.info["score"] == [{"Score": 3.0, "Twice": 6.0}]
    stored = await anyio.to_thread.run_sync(
        rows, db, "SELECT r.status AS run, e.exit_status, e.steps, e.agent, e.sandbox "
        "FROM runs r JOIN episodes e USING (run_id)",
    )  # fmt: skip
    assert stored == [
        {"run": "completed", "exit_status": "submitted", "steps": 2, "agent": "external",
         "sandbox": "local"},
    ]  # fmt: skip
    commands = await anyio.to_thread.run_sync(
        rows, db, "SELECT command FROM tool_calls ORDER BY step"
    )
    assert commands == [{"command": "echo 3 > answer.txt"}, {"command": "submit"}]


async def test_limits_are_the_runners_and_nothing_is_stored_unless_asked(
    tmp_path: Path,
) -> None:
    async with open_env(toy(tmp_path), sandbox="local", limits={"max_steps": 2}) as env:
        await env.reset()
        await env.step("echo 5 > answer.txt")
        last = await env.step("ls")
        assert last.truncated and last.info["exit_status"] == "autosubmission (max_steps)"
        assert last.info["score"] == [{"Score": 5.0, "Twice": 10.0}]
    assert not (tmp_path / "runs").exists()


async def test_leaving_early_records_a_cancelled_episode_and_removes_the_sandbox(
    tmp_path: Path,
) -> None:
    db = tmp_path / "env.duckdb"
    async with open_env(toy(tmp_path), sandbox="local", store=db) as env:
        await env.reset()
        await env.step("ls")
        await env.aclose()
        with pytest.raises(RuntimeError, match=r"^The environment is closed\.$"):
            await env.step("ls")
        await env.aclose()  # closing twice does nothing
    stored = await anyio.to_thread.run_sync(rows, db, "SELECT exit_status, error FROM episodes")
    assert stored == [
        {"exit_status": "cancelled", "error": "the environment was closed before the episode ended"}
    ]


async def test_an_error_in_the_callers_code_is_recorded_and_raised(tmp_path: Path) -> None:
    db = tmp_path / "env.duckdb"
    with pytest.raises(ExceptionGroup) as raised:
        async with open_env(toy(tmp_path), sandbox="local", store=db) as env:
            await env.reset()
            raise KeyError("mine")
    assert raised.group_contains(KeyError)
    stored = await anyio.to_thread.run_sync(
        rows,
        db,
        "SELECT e.exit_status, e.error, r.status FROM episodes e JOIN runs r USING (run_id)",
    )
    assert stored == [
        {"exit_status": "exit_error", "error": "KeyError: 'mine'", "status": "failed"}
    ]


async def test_bad_arguments_are_named(tmp_path: Path) -> None:
    with pytest.raises(UnknownComponentError, match=r"diabetes_regression"):
        async with open_env("no_such_task", sandbox="local"):
            pass
    with pytest.raises(ConfigError, match=r"^Bad environment argument 'limits\.max_steps'"):
        async with open_env(toy(tmp_path), limits={"max_steps": 0}):
            pass
    db = tmp_path / "env.duckdb"
    async with open_env(toy(tmp_path), sandbox="local", store=db, run_id="same"):
        pass
    with pytest.raises(ConfigError, match=r"^The run id 'same' is already in "):
        async with open_env(toy(tmp_path), sandbox="local", store=db, run_id="same"):
            pass


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # aiodocker needs asyncio
async def test_a_built_in_task_in_docker(sandbox_image: str, tmp_path: Path) -> None:
    async with open_env(
        "prisoners_dilemma", sandbox={"kind": "docker", "image": sandbox_image}
    ) as env:
        await env.reset()
        assert (await env.step("whoami")).observation.strip() == "agent"
        final = await env.step("validate")
        assert final.info["score"] and not final.terminated
