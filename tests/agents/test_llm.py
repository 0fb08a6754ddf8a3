"""The LLM agent on scripted models: what it shows the model, and how it stops."""

from __future__ import annotations

from typing import Any

import pytest

from researchgym.agents import AgentStop, LLMAgent, MockModel, Observation
from researchgym.agents.prompt import system_prompt
from researchgym.errors import ContextWindowError, MalformedReplyError, ModelApiError
from researchgym.tools import command_docs

GOOD = "I look first.\n```\nls\n```"


def agent(*replies: str | Exception, **options: Any) -> tuple[LLMAgent, list[list[dict[str, str]]]]:
    """An agent on a model scripted with ``replies``, and the conversations it was sent."""
    sent: list[list[dict[str, str]]] = []

    def script(messages: list[dict[str, str]]) -> str:
        sent.append(messages)
        reply = replies[len(sent) - 1]
        if isinstance(reply, Exception):
            raise reply
        return reply

    model = MockModel(script)
    return LLMAgent(model, system=system_prompt(command_docs()), task="Win.", **options), sent


def seen(text: str, step: int, **where: str) -> Observation:
    return Observation(text, step, 10, where.get("open_file"), where.get("cwd"))


async def test_the_model_sees_commands_task_and_where_the_agent_stands() -> None:
    bot, sent = agent(GOOD, "Now validate.\n```\nvalidate\n```")
    assert await bot.act(seen("Start.", 0, cwd="/home/agent/workspace")) == "ls"
    system, task = sent[0]
    assert system["role"] == "system"
    for name in ["open", "goto", "scroll_up", "edit", "insert", "search_dir", "validate"]:
        assert f"\n{name}" in system["content"]
    assert task == {
        "role": "user",
        "content": "TASK:\nWin.\n\n(Current Step: 0, Remaining Steps: 10)\n(Open file: n/a)\n"
        "(Current directory: /home/agent/workspace)\nbash-$",
    }
    listing = seen("a.py\nb.py", 1, open_file="/w/a.py", cwd="/w")
    assert await bot.act(listing) == "validate"
    assert sent[1][2:] == [
        {"role": "assistant", "content": GOOD},
        {
            "role": "user",
            "content": "a.py\nb.py\n(Current Step: 1, Remaining Steps: 9)\n"
            "(Open file: /w/a.py)\n(Current directory: /w)\nbash-$",
        },
    ]


async def test_old_observations_are_folded_away() -> None:
    bot, sent = agent(*[GOOD] * 4, history=1)
    for step in range(4):
        await bot.act(seen(f"output {step}\nsecond line", step))
    last = sent[-1]
    assert last[1]["content"].startswith("TASK:\nWin.")  # the task always stays
    observations = [m["content"] for m in last[2:] if m["role"] == "user"]
    assert observations[:2] == ["Old output omitted (6 lines)."] * 2
    assert observations[2].startswith("output 3\nsecond line")
    assert [m["content"] for m in last if m["role"] == "assistant"] == [GOOD] * 3


async def test_a_malformed_reply_is_asked_again_with_what_was_wrong() -> None:
    bot, sent = agent("I will run ls", "", GOOD, GOOD)
    assert await bot.act(seen("Start.", 0)) == "ls"
    assert len(sent) == 3
    assert sent[1][-2:] == [
        {"role": "assistant", "content": "I will run ls"},
        {
            "role": "user",
            "content": "Your reply was not in the required format: your reply had no command "
            "in a fenced code block (```).\nReply again with a discussion, then exactly one "
            "command in a fenced code block (```), and nothing after the block.",
        },
    ]
    assert "your reply was empty" in sent[2][-1]["content"]
    # Only the good reply stays in the conversation.
    await bot.act(seen("a.py", 1))
    assert [m["content"] for m in sent[3] if m["role"] == "assistant"] == [GOOD]


async def test_format_retries_run_out_with_exit_format() -> None:
    bot, sent = agent(*["no command"] * 3, format_retries=2)
    with pytest.raises(AgentStop) as stop:
        await bot.act(seen("Start.", 0))
    assert stop.value.reason == "exit_format"
    assert stop.value.detail == (
        "3 replies in a row were not in the format; the last: your reply had no command in a "
        "fenced code block (```)"
    )
    assert len(sent) == 3


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ContextWindowError("m", "128000 tokens"), "exit_context"),
        (ModelApiError("m", 3, "503 Service Unavailable"), "exit_api"),
        # The server's fault, retried by the model already: not asked again as a format error.
        (MalformedReplyError("m", "not JSON", attempts=3), "exit_api"),
    ],
)
async def test_model_failures_stop_the_agent(error: Exception, reason: str) -> None:
    bot, sent = agent(GOOD, error, GOOD)
    await bot.act(seen("Start.", 0))
    with pytest.raises(AgentStop) as stop:
        await bot.act(seen("a.py", 1))
    assert stop.value.reason == reason
    assert str(error) in stop.value.detail
    assert len(sent) == 2
