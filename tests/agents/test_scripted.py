from __future__ import annotations

from researchgym.agents import BaselineAgent, Observation, ScriptedAgent
from researchgym.tasks import resolve_task


async def test_scripted_agent_plays_its_script_then_submits() -> None:
    agent = ScriptedAgent(["ls", "cat x"])
    assert [await agent.act(Observation(f"obs {i}", i, 10)) for i in range(4)] == [
        "ls",
        "cat x",
        "submit",
        "submit",
    ]


TASK = resolve_task("prisoners_dilemma").spec


async def test_baseline_agent_runs_the_baseline_then_validates_and_submits() -> None:
    task = TASK
    agent = BaselineAgent(task)
    actions = [
        await agent.act(Observation("obs", 0, 10)) for _ in range(len(task.baseline.commands) + 2)
    ]
    assert actions == [*task.baseline.commands, "validate", "submit"]
