"""The LLM agent: a model that reads observations and answers with commands.

Each turn the model sees the system prompt (commands, reply format), the task, and the
conversation so far, with old observations folded away (``history.shown``). A reply must
hold a discussion and exactly one fenced command; a malformed reply (empty, over
``MAX_REPLY_CHARS``, without a command) is answered with what was wrong and asked again, up
to ``format_retries`` times in a row, before the episode ends with ``exit_format``; every
malformed reply also counts against the episode's limit on format errors (``Limits``). A
full context window ends it with ``exit_context``, a model API that keeps failing with
``exit_api``; so does an API that keeps answering with something that is not a completion
at all (not JSON, no choices): that is the server's fault, not the model's, and the model
layer has retried it already (``ModelSettings.max_retries``), so asking again would only
multiply the requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from researchgym.agents.base import AgentStop
from researchgym.agents.history import shown
from researchgym.agents.models import ContextWindowError, ModelApiError
from researchgym.agents.prompt import FORMAT_ERROR, footer, system_prompt, task_prompt
from researchgym.agents.registry import agent
from researchgym.agents.reply import MAX_REPLY_CHARS, FormatError, Reply, parse_reply

if TYPE_CHECKING:
    from collections.abc import Callable

    from researchgym.agents.base import AgentContext, Observation
    from researchgym.agents.models import Model

__all__ = ["LLMAgent"]


class LLMAgent:
    """An agent whose actions a language model writes.

    Args:
        model: The model (its calls are recorded and budgeted by whoever opened it).
        system: The system message.
        task: The task's description, the first user message.
        history: Observations shown in full; older ones are folded to a one-line note.
        format_retries: Times a malformed reply is asked again before giving up.
        format_error: Counts each malformed reply against the episode's limit (it raises
            ``AgentStop`` once the episode has had too many).
    """

    def __init__(
        self,
        model: Model,
        *,
        system: str,
        task: str,
        history: int = 5,
        format_retries: int = 3,
        format_error: Callable[[str], None] = lambda problem: None,
    ) -> None:
        self.model = model
        self._format_error = format_error
        self._system = system
        self._task = task
        self._history = history
        self._format_retries = format_retries
        self._messages: list[dict[str, str]] = []
        self.spent_usd = 0.0
        """What this agent's model calls cost so far."""

    async def act(self, observation: Observation) -> str:
        """Show the model the observation and return the command of its reply.

        Raises:
            AgentStop: ``exit_format``, ``exit_context`` or ``exit_api``, as above.
        """
        if not self._messages:
            self._messages = [
                {"role": "system", "content": self._system},
                {"role": "user", "content": task_prompt(self._task, observation)},
            ]
        else:
            text = f"{observation.text}\n{footer(observation)}"
            self._messages.append({"role": "user", "content": text})
        reply, text = await self._ask()
        self._messages.append({"role": "assistant", "content": text})
        return reply.command

    async def _ask(self) -> tuple[Reply, str]:
        retry: list[dict[str, str]] = []  # a bad reply and what was wrong with it
        problem = ""
        for _ in range(self._format_retries + 1):
            text = await self._complete(shown(self._messages, keep=self._history) + retry)
            try:
                return parse_reply(text), text
            except FormatError as e:
                problem = str(e)
                self._format_error(problem)
                said = [{"role": "assistant", "content": _shown(text)}]
                retry = [*said, {"role": "user", "content": FORMAT_ERROR.format(problem=problem)}]
        raise AgentStop(
            "exit_format",
            f"{self._format_retries + 1} replies in a row were not in the format; the last: "
            f"{problem}",
        )

    async def _complete(self, messages: list[dict[str, str]]) -> str:
        try:
            reply = await self.model.complete(messages)
        except ContextWindowError as e:
            raise AgentStop("exit_context", str(e)) from e
        except ModelApiError as e:
            raise AgentStop("exit_api", str(e)) from e
        self.spent_usd += reply.call.cost_usd
        return reply.text


_SHOWN_CHARS = 2_000
"""Characters of an over-long reply shown back to the model with its format error: the
whole of it would be sent again, and again at each retry."""


def _shown(text: str) -> str:
    """A bad reply as the model is shown it again: whole, or the head of an over-long one."""
    if len(text) <= MAX_REPLY_CHARS:
        return text
    return f"{text[:_SHOWN_CHARS]}\n[... {len(text) - _SHOWN_CHARS:,} more characters]"


@agent("llm")
def _llm(
    context: AgentContext,
    *,
    model: str = "mock",
    api_base: str | None = None,
    history: int = 5,
    format_retries: int = 3,
) -> LLMAgent:
    return LLMAgent(
        context.open_model(model, member="agent", api_base=api_base),
        system=system_prompt(context.command_docs),
        task=context.task.description,
        history=history,
        format_retries=format_retries,
        format_error=context.format_error,
    )
