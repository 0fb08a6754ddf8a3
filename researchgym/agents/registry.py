"""The registry of agent kinds: run configurations name an agent by its kind.

A kind is a factory ``(task, **params) -> Agent``, registered with ``@agent("name")``.
``create_agent`` keeps the construction arguments with the agent, so that a stored run says
exactly how each agent was built.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from researchgym.errors import ConfigError, UnknownComponentError

if TYPE_CHECKING:
    from researchgym.agents.base import Agent
    from researchgym.tasks import TaskSpec

__all__ = ["BuiltAgent", "agent", "agent_kinds", "create_agent"]

AgentFactory = Callable[..., "Agent"]
T_Factory = TypeVar("T_Factory", bound=AgentFactory)

_FACTORIES: dict[str, AgentFactory] = {}


class BuiltAgent(NamedTuple):
    """An agent and how it was made."""

    agent: Agent
    kind: str
    params: dict[str, Any]


def agent(kind: str) -> Callable[[T_Factory], T_Factory]:
    """Register a factory ``(task, **params) -> Agent`` under ``kind``."""

    def register(factory: T_Factory) -> T_Factory:
        _FACTORIES[kind] = factory
        return factory

    return register


def agent_kinds() -> list[str]:
    """Return the registered agent kinds, sorted."""
    return sorted(_FACTORIES)


def create_agent(kind: str, task: TaskSpec, params: dict[str, Any]) -> BuiltAgent:
    """Build an agent of ``kind`` for ``task``.

    Raises:
        UnknownComponentError: If no agent kind has that name.
        ConfigError: If ``params`` do not fit the kind's factory.
    """
    try:
        factory = _FACTORIES[kind]
    except KeyError:
        raise UnknownComponentError("agent kind", kind, agent_kinds()) from None
    try:
        inspect.signature(factory).bind(task, **params)
    except TypeError as e:
        raise ConfigError(f"Agent kind '{kind}' cannot take the parameters {params}: {e}.") from e
    return BuiltAgent(factory(task, **params), kind, dict(params))
