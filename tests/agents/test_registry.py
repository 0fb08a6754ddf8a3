from __future__ import annotations

import re

import pytest

from researchgym.agents import BaselineAgent, ScriptedAgent, agent_kinds, create_agent
from researchgym.errors import ConfigError, UnknownComponentError
from researchgym.tasks import resolve_task

TASK = resolve_task("prisoners_dilemma").spec


def test_builtin_kinds_are_registered() -> None:
    assert {"baseline", "scripted"} <= set(agent_kinds())


def test_create_keeps_the_construction_arguments() -> None:
    built = create_agent("scripted", TASK, {"commands": ["ls"]})
    assert isinstance(built.agent, ScriptedAgent)
    assert (built.kind, built.params) == ("scripted", {"commands": ["ls"]})
    assert isinstance(create_agent("baseline", TASK, {}).agent, BaselineAgent)


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(
        UnknownComponentError,
        match="^"
        + re.escape(f"Unknown agent kind 'gpt'. Choose one of: {', '.join(agent_kinds())}.")
        + "$",
    ):
        create_agent("gpt", TASK, {})


def test_wrong_params_name_the_kind() -> None:
    with pytest.raises(
        ConfigError, match=r"^Agent kind 'scripted' cannot take the parameters \{\}: "
    ):
        create_agent("scripted", TASK, {})
    with pytest.raises(
        ConfigError, match=r"^Agent kind 'baseline' cannot take the parameters \{'x': 1\}: "
    ):
        create_agent("baseline", TASK, {"x": 1})
