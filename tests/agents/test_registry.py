from __future__ import annotations

import re
from typing import Any

import pytest

from researchgym.agents import (
    BaselineAgent,
    ScriptedAgent,
    agent,
    agent_kinds,
    check_agent,
    create_agent,
)
from researchgym.errors import ConfigError, UnknownComponentError
from researchgym.tasks import TaskSpec, resolve_task

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


def test_wrong_params_name_the_kind_and_the_parameter() -> None:
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("scripted", {}, r"\{\}: 'commands': Field required\."),
        ("baseline", {"x": 1}, r"\{'x': 1\}: 'x': Extra inputs are not permitted\."),
        ("scripted", {"commands": "ls"}, r"\{'commands': 'ls'\}: 'commands': Input should be"),
        ("scripted", {"commands": [1]}, r"\{'commands': \[1\]\}: 'commands\.0': Input should"),
    ]
    for kind, params, message in cases:
        pattern = f"^Agent kind '{kind}' cannot take the parameters {message}"
        with pytest.raises(ConfigError, match=pattern):
            check_agent(kind, params)
        with pytest.raises(ConfigError, match=pattern):
            create_agent(kind, TASK, params)


def test_a_failing_factory_is_a_config_error() -> None:
    @agent("test-broken-factory")
    def _broken(task: TaskSpec) -> ScriptedAgent:
        raise OSError("no such model file")

    with pytest.raises(
        ConfigError, match=r"^Agent kind 'test-broken-factory' could not be built: no such"
    ):
        create_agent("test-broken-factory", TASK, {})
