"""The researchgym command with models and teams: real processes, a real model server."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import anyio
import pytest
import yaml

from tests.cli.helpers import CLI, cli, rows
from tests.openai_server import Reply

if TYPE_CHECKING:
    from pathlib import Path

    from tests.openai_server import OpenAIServer

KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")


def without_keys() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in KEYS} | {"COLUMNS": "200"}


def test_a_missing_api_key_names_the_variable_before_anything_runs(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    done = cli("run", "--model", "openai/gpt-4o", "--db", db, env=without_keys())
    assert done.returncode == 1
    assert " ".join(done.stderr.split()) == (
        "error: No API key for the model 'openai/gpt-4o': the environment variable "
        "OPENAI_API_KEY is not set. Set OPENAI_API_KEY, or give an api_base for a server that "
        "needs no key, or run offline with the mock model."
    )
    assert not db.exists()


def test_an_unknown_model_is_named(tmp_path: Path) -> None:
    done = cli("run", "--model", "nosuchprovider/brain-9", "--db", tmp_path / "db.duckdb")
    assert done.returncode == 1
    assert done.stderr.startswith("error: Unknown model 'nosuchprovider/brain-9'")
    assert "Traceback" not in done.stderr
    mock = cli("run", "--model", "mock:chatty", "--db", tmp_path / "db.duckdb")
    assert mock.stderr.startswith("error: Unknown model 'mock:chatty': there is no such mock")


def test_a_team_experiment_from_a_config_file(tmp_path: Path) -> None:
    """Two teams that differ in one line, the executor's model, and a lone agent."""
    config = tmp_path / "team.yaml"
    planner = {"planner": {"model": "mock"}}
    team: dict[str, Any] = {"kind": "planner-executor", "params": planner}
    config.write_text(
        yaml.safe_dump(
            {
                "tasks": ["prisoners_dilemma"],
                "agents": [
                    {**team, "label": "team-demo"},
                    {**team, "label": "team-quick", "params": {
                        **planner, "executor": {"model": "mock:submit"}
                    }},
                    {"kind": "llm", "label": "alone", "params": {"model": "mock:submit"}},
                ],
                "attempts": 1,
                "sandbox": {"kind": "local"},
                "storage": {"path": str(tmp_path / "db.duckdb")},
            }
        )
    )  # fmt: skip
    done = cli("run", config)
    assert done.returncode == 0, done.stderr
    assert "3 episodes (0 crashed)" in done.stdout
    members = rows(
        tmp_path / "db.duckdb",
        "SELECT e.agent, a.name, a.request_model FROM agents a JOIN episodes e "
        "USING (episode_id) WHERE a.name <> 'agent' ORDER BY e.agent, a.name",
    )
    assert members == [
        {"agent": "team-demo", "name": "executor", "request_model": "mock"},
        {"agent": "team-demo", "name": "planner", "request_model": "mock"},
        {"agent": "team-quick", "name": "executor", "request_model": "mock:submit"},
        {"agent": "team-quick", "name": "planner", "request_model": "mock"},
    ]
    statuses = rows(tmp_path / "db.duckdb", "SELECT agent, exit_status FROM episodes ORDER BY 1")
    assert statuses == [
        {"agent": label, "exit_status": "submitted"}
        for label in ["alone", "team-demo", "team-quick"]
    ]


def test_team_options_make_a_team(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    done = cli(
        "run", "--task", "prisoners_dilemma", "--attempts", "1", "--sandbox", "local",
        "--planner-model", "mock", "--executor-model", "mock:submit", "--db", db,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert rows(db, "SELECT kind, params FROM agents WHERE name = 'agent'") == [
        {
            "kind": "planner-executor",
            "params": '{"planner": {"model": "mock", "api_base": null, "history": 5, '
            '"max_cost_usd": null}, "executor": {"model": "mock:submit", "api_base": null, '
            '"history": 5, "max_cost_usd": null}, "steps_per_goal": 5}',
        }
    ]


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    """The model server runs on asyncio."""
    return ("asyncio", {"debug": True})


async def test_a_local_server_by_api_base_then_a_replay(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    openai_server.default = Reply("I look around.\n```\nls\n```", 50, 7)
    db = tmp_path / "db.duckdb"
    args = [
        CLI, "run", "--task", "prisoners_dilemma", "--attempts", "1", "--sandbox", "local",
        "--max-steps", "2", "--model", "openai/local-model", "--api-base", openai_server.url,
        "--db", str(db),
    ]  # fmt: skip
    done = await anyio.run_process(args, check=False, env=without_keys())
    stdout = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()
    assert "ran offline" not in stdout  # a real model: no hint to use one
    calls = await anyio.to_thread.run_sync(
        rows, db, "SELECT request_model, input_tokens, output_tokens, priced FROM llm_calls"
    )
    assert calls == [
        {"request_model": "openai/local-model", "input_tokens": 50, "output_tokens": 7,
         "priced": False}
    ] * 2  # fmt: skip
    [episode] = await anyio.to_thread.run_sync(
        rows, db, "SELECT episode_id, exit_status FROM episodes"
    )
    assert episode["exit_status"] == "autosubmission (max_steps)"
    replay = await anyio.to_thread.run_sync(
        lambda: cli("replay", str(episode["episode_id"]), "--db", db)
    )
    assert replay.returncode == 0, replay.stderr
    assert f"Replayed 2 steps of {episode['episode_id']}" in replay.stdout
    assert "The replay matches: same observations, scores and exit status." in replay.stdout


def test_replay_of_an_unknown_episode_says_so(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    cli("run", "--task", "prisoners_dilemma", "--agent", "baseline", "--attempts", "1",
        "--sandbox", "local", "--db", db)  # fmt: skip
    done = cli("replay", "nope", "--db", db)
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: There is no episode 'nope' in {db}."
