from __future__ import annotations

import re
from typing import Any

import pytest

from researchgym.agents import (
    AgentContext,
    BaselineAgent,
    LLMAgent,
    ScriptedAgent,
    agent,
    agent_kinds,
    check_agent,
    create_agent,
)
from researchgym.errors import ConfigError, UnknownComponentError


def test_builtin_kinds_are_registered() -> None:
    assert {"baseline", "scripted", "replay", "llm", "planner-executor"} <= set(agent_kinds())


def test_create_keeps_the_construction_arguments(context: AgentContext) -> None:
    built = create_agent("scripted", context, {"commands": ["ls"]})
    assert isinstance(built.agent, ScriptedAgent)
    assert (built.kind, built.params) == ("scripted", {"commands": ["ls"]})
    assert isinstance(create_agent("baseline", context, {}).agent, BaselineAgent)
    llm = create_agent("llm", context, {"model": "mock:submit", "history": 2})
    assert isinstance(llm.agent, LLMAgent)
    assert llm.agent.model.name == "mock:submit"
    assert llm.params == {
        "model": "mock:submit",
        "api_base": None,
        "history": 2,
        "format_retries": 3,
    }


def test_unknown_kind_lists_the_known_ones(context: AgentContext) -> None:
    with pytest.raises(
        UnknownComponentError,
        match="^"
        + re.escape(f"Unknown agent kind 'gpt'. Choose one of: {', '.join(agent_kinds())}.")
        + "$",
    ):
        create_agent("gpt", context, {})


def test_wrong_params_name_the_kind_and_the_parameter(context: AgentContext) -> None:
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("scripted", {}, r"\{\}: 'commands': Field required\."),
        ("baseline", {"x": 1}, r"\{'x': 1\}: 'x': Extra inputs are not permitted\."),
        ("scripted", {"commands": "ls"}, r"\{'commands': 'ls'\}: 'commands': Input should be"),
        ("scripted", {"commands": [1]}, r"\{'commands': \[1\]\}: 'commands\.0': Input should"),
        ("planner-executor", {"planner": {"modle": "x"}}, r".*'planner\.modle': Extra inputs"),
    ]
    for kind, params, message in cases:
        pattern = f"^Agent kind '{kind}' cannot take the parameters {message}"
        with pytest.raises(ConfigError, match=pattern):
            check_agent(kind, params)
        with pytest.raises(ConfigError, match=pattern):
            create_agent(kind, context, params)


def test_a_failing_factory_is_a_config_error(context: AgentContext) -> None:
    @agent("test-broken-factory")
    def _broken(context: AgentContext) -> ScriptedAgent:
        raise OSError("no such model file")

    with pytest.raises(
        ConfigError, match=r"^Agent kind 'test-broken-factory' could not be built: no such"
    ):
        create_agent("test-broken-factory", context, {})
