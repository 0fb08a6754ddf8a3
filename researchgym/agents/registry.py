"""The registry of agent kinds: run configurations name an agent by its kind.

A kind is a factory ``(context, **params) -> Agent``, registered with ``@agent("name")``
(built in), by an entry point of the group ``researchgym.agents`` (a plug-in), or named as
``module:attribute``; the context is the episode's ``AgentContext``. Its parameters (all but
the first) are validated from the factory's signature before anything is built, and
``create_agent`` keeps them with the agent, so that a stored run says exactly how each agent
was built.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from researchgym.errors import ConfigError, ResearchGymError
from researchgym.plugins import Registry

if TYPE_CHECKING:
    from researchgym.agents.base import Agent, AgentContext

__all__ = ["AGENTS", "BuiltAgent", "agent", "agent_kinds", "check_agent", "create_agent"]

AgentFactory = Callable[..., "Agent"]
T_Factory = TypeVar("T_Factory", bound=AgentFactory)

AGENTS = Registry[AgentFactory](
    "agent kind",
    "researchgym.agents",
    accepts=callable,
    expected="a callable (context, **params) -> Agent",
)
"""Every agent kind: built in, and from plug-ins."""


class BuiltAgent(NamedTuple):
    """An agent and how it was made."""

    agent: Agent
    kind: str
    params: dict[str, Any]


def agent(kind: str) -> Callable[[T_Factory], T_Factory]:
    """Register a factory ``(context, **params) -> Agent`` under ``kind``."""
    return AGENTS.register(kind)


@functools.cache
def _params_model(kind: str, factory: AgentFactory) -> type[BaseModel]:
    """A model of the factory's parameters after the first (the context)."""
    parameters = list(inspect.signature(factory).parameters.values())[1:]
    fields: dict[str, Any] = {
        p.name: (p.annotation, ... if p.default is p.empty else p.default) for p in parameters
    }
    config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    # Annotations may be strings (postponed evaluation): resolved in the factory's module.
    return create_model(
        f"{kind}_params", __config__=config, __module__=factory.__module__, **fields
    )


def agent_kinds() -> list[str]:
    """Return the registered agent kinds, built in and from plug-ins, sorted."""
    return AGENTS.names()


def check_agent(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Validate the parameters of an agent kind, without building an agent.

    Returns:
        The parameters, validated.

    Raises:
        UnknownComponentError: If no agent kind has that name.
        PluginError: If the kind is a plug-in that cannot be used.
        ConfigError: If ``params`` do not fit the kind.
    """
    model = _params_model(kind, AGENTS.get(kind))
    try:
        return model.model_validate(params).model_dump()
    except ValidationError as e:
        error = e.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise ConfigError(
            f"Agent kind '{kind}' cannot take the parameters {params}: '{where}': {error['msg']}."
        ) from e


def create_agent(kind: str, context: AgentContext, params: dict[str, Any]) -> BuiltAgent:
    """Build an agent of ``kind`` for an episode.

    Raises:
        UnknownComponentError: If no agent kind has that name.
        ConfigError: If ``params`` do not fit the kind, or its factory fails.
    """
    checked = check_agent(kind, params)
    try:
        built = AGENTS.get(kind)(context, **checked)
    except ResearchGymError:
        raise
    except Exception as e:
        raise ConfigError(f"Agent kind '{kind}' could not be built: {e}") from e
    return BuiltAgent(built, kind, checked)
