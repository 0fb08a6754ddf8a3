"""LLM agents and teams in whole runs: through litellm to a real OpenAI-compatible server on
127.0.0.1 (or on mock models), with what was stored checked: model calls, bus messages,
exit statuses."""

from __future__ import annotations

import collections
import socket
from typing import TYPE_CHECKING, Any

import pytest

from researchgym.agents import agent
from researchgym.agents.reply import MAX_REPLY_CHARS
from researchgym.engine import Runner, replay_episode
from tests.engine.test_runner import config, sql, toy_task
from tests.openai_server import (
    Delay,
    Received,
    Reply,
    Step,
    context_length_exceeded,
    empty_content,
    enormous,
    invalid_utf8,
    no_choices,
    not_json,
    rate_limited,
    server_error,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from researchgym.agents import AgentContext, Observation
    from researchgym.config import RunConfig
    from tests.openai_server import OpenAIServer

PRICED = "openai/gpt-4o-mini"
"""A model in litellm's price map, served by the test server."""


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    """litellm and aiohttp run on asyncio only."""
    return ("asyncio", {"debug": True})


def reply(discussion: str, command: str, tokens: tuple[int, int] = (10, 5)) -> Reply:
    return Reply(f"{discussion}\n```\n{command}\n```", *tokens)


def llm_run(tmp_path: Path, server: OpenAIServer | None, **data: Any) -> RunConfig:
    """One episode of the LLM agent on the toy task (answer.txt holds the score)."""
    params = {"model": PRICED} if server else {}
    data.setdefault("agents", [{"kind": "llm", "params": params}])
    models: dict[str, Any] = {"timeout": 1.0, "retries": 2}
    if server is not None:
        models["api_base"] = server.url
    data["models"] = {**models, **data.get("models", {})}
    return config(tmp_path, tasks=[toy_task(tmp_path / "toy")], attempts=1, **data)


LLM_CALLS = (
    "SELECT agent, request_model, input_tokens, output_tokens, retries, finish_reason, "
    "error IS NOT NULL AS failed FROM llm_calls ORDER BY seq"
)


async def test_an_llm_agent_through_litellm_is_recorded_call_by_call(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    openai_server.script(
        rate_limited(retry_after=0.1),
        reply("I write the answer.", "echo 7 > answer.txt", (100, 20)),
        server_error(503),
        reply("I check it.", "validate", (120, 10)),
        Delay(3.0),  # over the 1 s timeout: retried
        reply("Good enough.", "submit", (130, 5)),
    )
    cfg = llm_run(tmp_path, openai_server)
    [outcome] = await Runner(cfg).run()
    assert (outcome.exit_status, outcome.steps) == ("submitted", 3)
    calls = await sql(cfg, LLM_CALLS)
    assert calls == [
        {
            "agent": "agent",
            "request_model": PRICED,
            "input_tokens": tokens_in,
            "output_tokens": tokens_out,
            "retries": 1,
            "finish_reason": "stop",
            "failed": False,
        }
        for tokens_in, tokens_out in [(100, 20), (120, 10), (130, 5)]
    ]
    costs = await sql(cfg, "SELECT cost_usd, priced FROM llm_calls ORDER BY seq")
    assert all(c["priced"] and c["cost_usd"] > 0 for c in costs)
    # Prices are per token: the second call costs what its tokens cost at the first's rates.
    assert await sql(cfg, "SELECT sum(cost_usd) AS usd FROM llm_calls") == [
        {"usd": pytest.approx(sum(c["cost_usd"] for c in costs))}
    ]
    assert await sql(cfg, "SELECT command, action_class FROM tool_calls ORDER BY step") == [
        {"command": "echo 7 > answer.txt", "action_class": "Bash"},
        {"command": "validate", "action_class": "Validate"},
        {"command": "submit", "action_class": "Submit"},
    ]
    assert await sql(cfg, "SELECT kind, score FROM scores ORDER BY seq") == [
        {"kind": "validate", "score": 7.0},
        {"kind": "submit", "score": 7.0},
    ]
    assert await sql(cfg, "SELECT count(*) AS n FROM events WHERE kind = 'llm_call'") == [{"n": 3}]
    # What the model was shown: the commands, then each observation with the footer.
    requests = openai_server.requests
    assert len(requests) == 6
    system = requests[0].messages[0]["content"]
    assert "edit <start_line>:<end_line>" in system and "validate" in system
    last = requests[-1].messages[-1]["content"]
    assert "7" in last and "(Current Step: 2, Remaining Steps: 48)" in last


async def test_malformed_replies_are_format_errors_then_exit_format(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    long = "x" * (MAX_REPLY_CHARS + 1)
    openai_server.script(
        empty_content(),
        Reply(long),
        reply("Now properly.", "echo 3 > answer.txt"),
        *[Reply("I will not use a code block.")] * 4,
    )
    cfg = llm_run(tmp_path, openai_server)
    [outcome] = await Runner(cfg).run()
    assert (outcome.exit_status, outcome.steps) == ("autosubmission (exit_format)", 1)
    assert await sql(cfg, "SELECT error FROM episodes") == [
        {
            "error": "4 replies in a row were not in the format; the last: your reply had no "
            "command in a fenced code block (```)"
        }
    ]
    assert await sql(cfg, "SELECT kind, score FROM scores") == [
        {"kind": "autosubmit", "score": 3.0}
    ]
    calls = await sql(
        cfg, "SELECT retries, error IS NOT NULL AS failed FROM llm_calls ORDER BY seq"
    )
    assert [(c["retries"], c["failed"]) for c in calls] == [(0, False)] * 7
    requests = openai_server.requests
    problem = requests[1].messages[-1]["content"]
    assert problem.startswith("Your reply was not in the required format: your reply was empty")
    # An over-long reply is shown back cut, not sent again whole.
    said, problem = requests[2].messages[-2:]
    assert said == {
        "role": "assistant",
        "content": "x" * 2000 + f"\n[... {MAX_REPLY_CHARS + 1 - 2000:,} more characters]",
    }
    assert problem["content"].startswith(
        f"Your reply was not in the required format: your reply was {MAX_REPLY_CHARS + 1:,} "
        f"characters long, over {MAX_REPLY_CHARS:,}"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_a_server_that_refuses_connections_ends_with_exit_api(tmp_path: Path) -> None:
    cfg = llm_run(
        tmp_path,
        None,
        agents=[{"kind": "llm", "params": {"model": "openai/local"}}],
        models={"api_base": f"http://127.0.0.1:{free_port()}/v1", "retries": 1},
    )
    [outcome] = await Runner(cfg).run()
    assert outcome.exit_status == "submission_not_found (exit_api)"
    [call] = await sql(cfg, "SELECT retries, error, priced, cost_usd FROM llm_calls")
    assert (call["retries"], call["priced"], call["cost_usd"]) == (1, False, 0.0)
    assert "Connection" in call["error"] or "connect" in call["error"]
    [episode] = await sql(cfg, "SELECT error FROM episodes")
    assert episode["error"].startswith("The API of the model 'openai/local' failed (2 times)")


async def test_a_full_context_window_ends_with_exit_context(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    openai_server.script(reply("Write.", "echo 2 > answer.txt"), context_length_exceeded())
    cfg = llm_run(tmp_path, openai_server)
    [outcome] = await Runner(cfg).run()
    assert (outcome.exit_status, outcome.steps) == ("autosubmission (exit_context)", 1)
    assert await sql(cfg, "SELECT score FROM scores") == [{"score": 2.0}]
    assert len(openai_server.requests) == 2  # not retried


async def test_the_cost_limit_autosubmits_with_exit_cost(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    openai_server.script(
        reply("Write.", "echo 1 > answer.txt", (1000, 100)),
        reply("Again.", "ls", (1000, 100)),
    )
    # gpt-4o-mini costs about $0.00021 for these tokens: the second call overspends.
    cfg = llm_run(tmp_path, openai_server, limits={"max_cost_usd": 0.0003})
    [outcome] = await Runner(cfg).run()
    assert (outcome.exit_status, outcome.steps) == ("autosubmission (exit_cost)", 1)
    [episode] = await sql(cfg, "SELECT error FROM episodes")
    assert episode["error"].startswith("the episode spent $0.0004 on models, over its $0.0003")
    assert await sql(cfg, "SELECT count(*) AS n FROM llm_calls") == [{"n": 2}]


async def test_the_episode_limit_on_format_errors_counts_every_malformed_reply(
    tmp_path: Path,
) -> None:
    # the agent asks again up to 3 times in a row; the episode allows 2 malformed replies
    agents = [{"kind": "llm", "params": {"model": "mock:malformed"}}]
    cfg = llm_run(tmp_path, None, agents=agents, limits={"max_format_errors": 2})
    [outcome] = await Runner(cfg).run()
    assert (outcome.exit_status, outcome.steps) == ("submission_not_found (exit_format)", 0)
    [episode] = await sql(cfg, "SELECT error FROM episodes")
    assert episode["error"].startswith("3 malformed replies in the episode, over its 2 limit;")
    assert await sql(cfg, "SELECT count(*) AS n FROM llm_calls") == [{"n": 3}]


async def test_mock_failures_and_limits_end_each_episode_with_its_status(tmp_path: Path) -> None:
    def llm(label: str, model: str) -> dict[str, Any]:
        return {"kind": "llm", "label": label, "params": {"model": model}}

    cfg = llm_run(
        tmp_path,
        None,
        agents=[
            llm("malformed", "mock:malformed"),
            llm("context", "mock:context-full"),
            llm("api", "mock:api-down"),
            {"kind": "scripted", "label": "slow", "params": {"commands": ["sleep 20"]}},
        ],
        limits={"max_wall_s": 2},
    )
    await Runner(cfg).run()
    episodes = await sql(cfg, "SELECT agent, exit_status FROM episodes ORDER BY agent")
    assert episodes == [
        {"agent": "api", "exit_status": "submission_not_found (exit_api)"},
        {"agent": "context", "exit_status": "submission_not_found (exit_context)"},
        {"agent": "malformed", "exit_status": "submission_not_found (exit_format)"},
        {"agent": "slow", "exit_status": "submission_not_found (exit_time)"},
    ]
    calls = await sql(
        cfg,
        "SELECT e.agent, count(*) AS n, count(c.error) AS failed FROM llm_calls c "
        "JOIN episodes e USING (episode_id) GROUP BY e.agent ORDER BY e.agent",
    )
    assert calls == [
        {"agent": "api", "n": 1, "failed": 1},
        {"agent": "context", "n": 1, "failed": 1},
        {"agent": "malformed", "n": 4, "failed": 0},
    ]
    # The command that ran over the wall time was stopped, not waited for.
    assert await sql(cfg, "SELECT command, timed_out, output FROM tool_calls") == [
        {
            "command": "sleep 20",
            "timed_out": True,
            "output": "The command was interrupted: the episode ran out of time.",
        }
    ]


async def test_the_token_limit_autosubmits_with_exit_cost(tmp_path: Path) -> None:
    # The mock counts words: the prompt alone is some 600, so the second call passes 1000.
    cfg = llm_run(tmp_path, None, limits={"max_tokens": 1000})
    [outcome] = await Runner(cfg).run()
    assert (outcome.exit_status, outcome.steps) == ("submission_not_found (exit_cost)", 1)
    [episode] = await sql(cfg, "SELECT error FROM episodes")
    assert episode["error"].endswith("tokens, over its 1,000 limit")
    tokens = await sql(cfg, "SELECT input_tokens + output_tokens AS n FROM llm_calls ORDER BY seq")
    assert len(tokens) == 2 and tokens[0]["n"] <= 1000 < tokens[0]["n"] + tokens[1]["n"]


PLANNER_SAYS = "You lead a small research team"


def team_script(received: Received) -> Step:
    """A planner that sets one sub-goal, then submits; an executor that does it."""
    system = received.messages[0]["content"]
    said = sum(1 for m in received.messages if m["role"] == "assistant")
    if system.startswith(PLANNER_SAYS):
        if said == 0:
            return reply("Start simple.", "Write 9 to answer.txt, then report.")
        return reply("The report says it is done.", "submit")
    if said == 0:
        return reply("I write it.", "echo 9 > answer.txt")
    return reply("That is done.", "done wrote 9 to answer.txt")


def team(**members: Any) -> list[dict[str, Any]]:
    planner = {"model": PRICED, **members.get("planner", {})}
    executor = {"model": PRICED, **members.get("executor", {})}
    return [{"kind": "planner-executor", "params": {"planner": planner, "executor": executor}}]


async def test_a_team_talks_over_the_bus_and_every_message_is_stored(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    openai_server.default = team_script
    cfg = llm_run(tmp_path, openai_server, agents=team())
    [outcome] = await Runner(cfg).run()
    assert (outcome.exit_status, outcome.steps) == ("submitted", 2)
    assert await sql(cfg, "SELECT score FROM scores") == [{"score": 9.0}]
    assert await sql(cfg, "SELECT agent FROM llm_calls ORDER BY seq") == [
        {"agent": member} for member in ["planner", "executor", "executor", "planner"]
    ]
    assert await sql(cfg, "SELECT name, kind, role, request_model FROM agents ORDER BY name") == [
        {"name": name, "kind": "planner-executor", "role": name, "request_model": model}
        for name, model in [("agent", None), ("executor", PRICED), ("planner", PRICED)]
    ]
    messages = await sql(
        cfg,
        "SELECT message_id, correlation_id, sender, recipient, type, payload FROM messages "
        "WHERE type IN ('Report', 'Plan') ORDER BY seq",
    )
    assert [(m["sender"], m["recipient"], m["type"]) for m in messages] == [
        ("executor", "planner", "Report"),
        ("planner", "executor", "Plan"),
    ] * 2
    for request, answer in [messages[0:2], messages[2:4]]:
        assert request["correlation_id"] is None
        assert answer["correlation_id"] == request["message_id"]
    assert '"Write 9 to answer.txt, then report."' in messages[1]["payload"]
    assert '"wrote 9 to answer.txt"' in messages[2]["payload"]
    assert '"submit": true' in messages[3]["payload"].replace('"submit":true', '"submit": true')
    # The executor works on the planner's sub-goal.
    executor_system = next(
        r.messages[0]["content"]
        for r in openai_server.requests
        if not r.messages[0]["content"].startswith(PLANNER_SAYS)
    )
    assert executor_system.endswith("CURRENT SUB-GOAL:\nWrite 9 to answer.txt, then report.\n")


async def test_the_team_budget_is_enforced_as_a_whole(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    openai_server.default = team_script
    # Each call uses 15 tokens: the planner's and the executor's first calls pass 20 together.
    cfg = llm_run(tmp_path, openai_server, agents=team(), limits={"max_tokens": 20})
    [outcome] = await Runner(cfg).run()
    assert (outcome.exit_status, outcome.steps) == ("submission_not_found (exit_cost)", 0)
    assert await sql(cfg, "SELECT agent FROM llm_calls ORDER BY seq") == [
        {"agent": "planner"},
        {"agent": "executor"},
    ]


async def test_a_member_s_own_budget_stops_the_team(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    openai_server.default = team_script
    cfg = llm_run(tmp_path, openai_server, agents=team(executor={"max_cost_usd": 1e-7}))
    [outcome] = await Runner(cfg).run()
    assert outcome.exit_status == "submission_not_found (exit_cost)"
    [episode] = await sql(cfg, "SELECT error FROM episodes")
    assert episode["error"].startswith("the executor spent $0.0000, over its $1e-07")


async def test_a_planner_whose_model_fails_stops_the_team_with_its_reason(tmp_path: Path) -> None:
    agents = [
        {
            "kind": "planner-executor",
            "params": {"planner": {"model": "mock:api-down"}, "executor": {"model": "mock"}},
        }
    ]
    cfg = llm_run(tmp_path, None, agents=agents)
    [outcome] = await Runner(cfg).run()
    assert outcome.exit_status == "submission_not_found (exit_api)"
    [episode] = await sql(cfg, "SELECT error FROM episodes")
    assert episode["error"].startswith("the planner stopped: The API of the model 'mock:api-down'")


async def test_a_replay_matches_its_episode(tmp_path: Path) -> None:
    cfg = llm_run(
        tmp_path,
        None,
        agents=[
            {"kind": "llm", "label": "demo", "params": {"model": "mock"}},
            {"kind": "llm", "label": "malformed", "params": {"model": "mock:malformed"}},
            {"kind": "scripted", "label": "clock", "params": {"commands": ["date +%N"]}},
        ],
    )
    outcomes = {o.episode_id: o for o in await Runner(cfg).run()}
    labels = await sql(cfg, "SELECT episode_id, agent FROM episodes")
    by_label = {row["agent"]: row["episode_id"] for row in labels}
    for label in ["demo", "malformed"]:
        report = await replay_episode(by_label[label], store=cfg.storage)
        assert report.matches, report
        assert report.replayed_status == outcomes[by_label[label]].exit_status
    demo = await replay_episode(by_label["demo"], store=cfg.storage)
    assert (demo.steps, demo.stored_scores, demo.replayed_scores) == (3, [], [])
    clock = await replay_episode(by_label["clock"], store=cfg.storage)
    assert not clock.matches
    assert [(m.step, m.command) for m in clock.mismatches] == [(1, "date +%N")]
    # Each replay is a run of its own, in the same store.
    replays = await sql(cfg, "SELECT count(*) AS n FROM runs WHERE run_id LIKE 'replay-of-%'")
    assert replays == [{"n": 4}]


# --- whatever a server sends, the run goes on ----------------------------------------------


def by_model(scripts: dict[str, list[Step]]) -> Callable[[Received], Step]:
    """A server default that plays each model its own script (a model per episode)."""
    left = {model: list(steps) for model, steps in scripts.items()}

    def answer(received: Received) -> Step:
        steps = left[received.model]
        assert steps, f"the script of {received.model} is played out"
        return steps.pop(0)

    return answer


class SurrogateCommand:
    """An agent whose command holds a lone surrogate, as a model's JSON can."""

    async def act(self, observation: Observation) -> str:
        return "echo 4 > answer.txt # \udc80" if observation.step == 0 else "submit"


@agent("test-surrogate-command")
def _surrogate_command(context: AgentContext) -> SurrogateCommand:
    return SurrogateCommand()


FAULTS: dict[str, list[Step]] = {
    "ok": [reply("I write it.", "echo 1 > answer.txt"), reply("Done.", "submit")],
    "surrogate": [
        reply("I write \ud800 it.", "echo 2 > answer.txt"),
        reply("Done \udfff.", "submit"),
    ],
    "nul": [reply("I write \x00 it.", "echo 3 > answer.txt"), reply("Done.", "submit")],
    "not-json": [not_json()] * 3,
    "no-choices": [no_choices()] * 3,
    "invalid-utf8": [invalid_utf8()] * 3,
    "enormous": [enormous(50_000_000)] * 3,
    "hang": [Delay(60)] * 3,
}
"""What the server answers each episode's model: the first three are scored as usual, the
others each fail with one retry policy (the first request and 2 retries)."""

API_ERROR = "submission_not_found (exit_api)"


async def test_whatever_a_server_sends_ends_one_episode_at_most(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    openai_server.default = by_model(FAULTS)
    agents = [{"kind": "llm", "label": m, "params": {"model": f"openai/{m}"}} for m in FAULTS]
    agents.append({"kind": "test-surrogate-command", "label": "command"})
    cfg = llm_run(tmp_path, openai_server, agents=agents)
    await Runner(cfg).run()
    assert await sql(cfg, "SELECT status FROM runs") == [{"status": "completed"}]
    episodes = await sql(
        cfg,
        "SELECT e.agent, e.exit_status, s.score FROM episodes e "
        "LEFT JOIN scores s USING (episode_id) ORDER BY e.agent",
    )
    assert {e["agent"]: (e["exit_status"], e["score"]) for e in episodes} == {
        "ok": ("submitted", 1.0),
        "surrogate": ("submitted", 2.0),
        "nul": ("submitted", 3.0),
        "command": ("submitted", 4.0),
        **{m: (API_ERROR, None) for m in ["not-json", "no-choices", "invalid-utf8", "enormous"]},
        "hang": (API_ERROR, None),
    }
    # One retry policy each, not a format error asked again (that was 4 x 3 requests).
    asked = collections.Counter(r.model for r in openai_server.requests)
    assert asked == {m: len(steps) for m, steps in FAULTS.items()}
    calls = await sql(
        cfg,
        "SELECT e.agent, c.retries, c.error, c.response FROM llm_calls c "
        "JOIN episodes e USING (episode_id) ORDER BY e.agent, c.seq",
    )
    # Every call has its row: two for each episode scored, one for each that failed.
    assert collections.Counter(c["agent"] for c in calls) == {
        m: 2 if len(steps) == 2 else 1 for m, steps in FAULTS.items()
    }
    # What a model wrote is stored as it wrote it, a lone surrogate as its escape.
    replies = [(c["agent"], c["response"]) for c in calls if c["agent"] in ("surrogate", "nul")]
    assert replies == [
        ("nul", "I write \x00 it.\n```\necho 3 > answer.txt\n```"),
        ("nul", "Done.\n```\nsubmit\n```"),
        ("surrogate", "I write \\ud800 it.\n```\necho 2 > answer.txt\n```"),
        ("surrogate", "Done \\udfff.\n```\nsubmit\n```"),
    ]
    failed = {c["agent"]: c for c in calls if c["error"] is not None}
    assert sorted(failed) == ["enormous", "hang", "invalid-utf8", "no-choices", "not-json"]
    assert all(c["retries"] == 2 and c["response"] is None for c in failed.values())
    assert failed["hang"]["error"].startswith("Timeout: ")
    assert failed["enormous"]["error"] == (
        "the reply was 50,000,000 characters long, over the 4,000,000 that any model writes"
    )
    assert await sql(cfg, "SELECT command FROM tool_calls WHERE command LIKE '%# %'") == [
        {"command": "echo 4 > answer.txt # \\udc80"}
    ]


async def test_a_call_cut_by_the_wall_time_is_recorded(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    openai_server.script(Delay(60))
    cfg = llm_run(tmp_path, openai_server, models={"timeout": 30}, limits={"max_wall_s": 1})
    [outcome] = await Runner(cfg).run()
    assert outcome.exit_status == "submission_not_found (exit_time)"
    [call] = await sql(cfg, "SELECT retries, error, latency_s FROM llm_calls")
    assert call["error"] == (
        "Cancelled: the call was stopped before it ended (its episode ended, or the run)"
    )
    assert (call["retries"], 0.5 < call["latency_s"] < 5) == (0, True)
