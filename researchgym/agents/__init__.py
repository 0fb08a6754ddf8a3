"""Agents: who acts. They turn observations into actions and know nothing of sandboxes.

``create_agent(kind, task, params)`` builds a registered kind: ``scripted`` (a fixed list of
commands) or ``baseline`` (the task's baseline, then validate and submit).
"""

from __future__ import annotations

from researchgym.agents.base import Agent
from researchgym.agents.registry import (
    BuiltAgent,
    agent,
    agent_kinds,
    check_agent,
    create_agent,
)
from researchgym.agents.scripted import BaselineAgent, ScriptedAgent

__all__ = [
    "Agent",
    "BaselineAgent",
    "BuiltAgent",
    "ScriptedAgent",
    "agent",
    "agent_kinds",
    "check_agent",
    "create_agent",
]
