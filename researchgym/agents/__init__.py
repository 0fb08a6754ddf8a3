"""Agents: who acts. They turn observations into actions and know nothing of sandboxes.

``create_agent(kind, context, params)`` builds a kind of ``AGENTS`` (built in, from a
plug-in, or ``module:attribute``) for an episode:

- ``llm``: a language model through litellm (or ``mock``) that reads observations and writes
  one command per reply (``LLMAgent``; prompts in ``prompt``, history in ``history``, reply
  parsing in ``reply``, models in ``models``).
- ``planner-executor``: a team on the bus (``PlannerExecutorTeam``).
- ``scripted``, ``baseline``, ``replay``: fixed lists of commands.

An agent ends its episode early by raising ``AgentStop``.
"""

from __future__ import annotations

from researchgym.agents.base import (
    Agent,
    AgentContext,
    AgentStop,
    Channel,
    ModelOpener,
    Observation,
    Received,
    StopReason,
)
from researchgym.agents.llm import LLMAgent
from researchgym.agents.mock import MockModel, ReplayModel
from researchgym.agents.models import (
    MODELS,
    CallHook,
    Model,
    ModelCall,
    ModelFactory,
    ModelReply,
    ModelSettings,
    check_model,
    open_model,
)
from researchgym.agents.registry import (
    AGENTS,
    BuiltAgent,
    agent,
    agent_kinds,
    check_agent,
    create_agent,
)
from researchgym.agents.replay import ReplayAgent
from researchgym.agents.reply import MAX_REPLY_CHARS
from researchgym.agents.scripted import BaselineAgent, ScriptedAgent
from researchgym.agents.team import Member, Plan, PlannerExecutorTeam, Report

__all__ = [
    "AGENTS",
    "MAX_REPLY_CHARS",
    "MODELS",
    "Agent",
    "AgentContext",
    "AgentStop",
    "BaselineAgent",
    "BuiltAgent",
    "CallHook",
    "Channel",
    "LLMAgent",
    "Member",
    "MockModel",
    "Model",
    "ModelCall",
    "ModelFactory",
    "ModelOpener",
    "ModelReply",
    "ModelSettings",
    "Observation",
    "Plan",
    "PlannerExecutorTeam",
    "Received",
    "ReplayAgent",
    "ReplayModel",
    "Report",
    "ScriptedAgent",
    "StopReason",
    "agent",
    "agent_kinds",
    "check_agent",
    "check_model",
    "create_agent",
    "open_model",
]
