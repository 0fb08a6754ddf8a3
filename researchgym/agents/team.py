"""Teams on the bus: a planner that sets sub-goals, an executor that carries them out.

The executor acts in the sandbox (the episode drives it like any agent); the planner never
does. They talk over the episode's bus, so that every message between them is stored:

1. The executor asks the planner for a sub-goal, with a ``Report`` of what it did (at first:
   nothing yet). The planner, a background member, answers with a ``Plan``: a sub-goal, or
   the decision to submit.
2. The executor works on the sub-goal for up to ``steps_per_goal`` actions, or until it says
   ``done <summary>``, then reports again. (A team that asked for more sub-goals than the
   episode has steps, its executor saying ``done`` without acting, submits.)

Each member has its own model, history and budget; the episode's budget (the engine's)
covers the team as a whole. The team pattern and each member's model are parameters, so
that composition is one line of the run configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
from pydantic import BaseModel, ConfigDict

from researchgym.agents.base import AgentStop, Observation
from researchgym.agents.llm import LLMAgent
from researchgym.agents.prompt import system_prompt
from researchgym.agents.registry import agent

if TYPE_CHECKING:
    from researchgym.agents.base import AgentContext, Channel, StopReason

__all__ = ["Member", "Plan", "PlannerExecutorTeam", "Report"]

_PLANNER_TIMEOUT = 900.0
"""Seconds the executor waits for the planner (several model calls, with retries)."""

PLANNER = """\
You lead a small research team working on the task below. An executor works in a sandbox \
(a Linux machine with a shell and no internet) on one sub-goal at a time and reports back; \
you never act in the sandbox yourself. After each report, decide the next sub-goal: one \
concrete, checkable step towards a better score (read the baseline, change a file, run \
validate, ...). When the work is as good as you expect to get it, decide to submit.

The executor's commands:
{commands}

RESPONSE FORMAT: a discussion of the report and your reasoning, then exactly one fenced code \
block holding either the next sub-goal, in a few sentences, or the single word submit.
"""

EXECUTOR = """\
{system}
You are the executor of a team: a planner gives you one sub-goal at a time. Work on it; when \
it is done (or cannot be done), say so with the command `done <summary of what you did and \
found>` and the planner will give you the next one.

CURRENT SUB-GOAL:
{goal}
"""


class Member(BaseModel):
    """A team member's configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = "mock"
    """The member's model (a litellm model string, or mock)."""
    api_base: str | None = None
    """An OpenAI-compatible server for the model."""
    history: int = 5
    """Observations (or reports) shown in full."""
    max_cost_usd: float | None = None
    """This member's own budget; the episode's budget covers the team as a whole."""


@dataclass(frozen=True)
class Report:
    """From executor to planner: what became of the last sub-goal."""

    goal: str | None
    summary: str
    steps: int


@dataclass(frozen=True)
class Plan:
    """From planner to executor: the next sub-goal, or submit, or why the planner stopped."""

    goal: str | None
    submit: bool = False
    stop: StopReason | None = None
    """The planner's own ``AgentStop`` reason (its budget, model or format gave out)."""
    detail: str = ""


class PlannerExecutorTeam:
    """A planner and an executor, as one agent of the episode.

    Args:
        context: The episode's context.
        planner: The planner's configuration.
        executor: The executor's configuration.
        steps_per_goal: Actions the executor may take on one sub-goal.
    """

    def __init__(
        self, context: AgentContext, *, planner: Member, executor: Member, steps_per_goal: int
    ) -> None:
        self._context = context
        self._members = {"planner": planner, "executor": executor}
        self._steps_per_goal = steps_per_goal
        self._planner = LLMAgent(
            context.open_model(planner.model, member="planner", api_base=planner.api_base),
            system=PLANNER.format(commands=context.command_docs.strip()),
            task=context.task.description,
            history=planner.history,
        )
        self._executor_model = context.open_model(
            executor.model, member="executor", api_base=executor.api_base
        )
        self._executor: LLMAgent | None = None
        self._to_planner: Channel = context.open_channel("executor")
        self._inbox: Channel = context.open_channel("planner")
        self._goal: str | None = None
        self._goal_steps = 0
        self._rounds = 0  # sub-goals asked for
        self._spent_before = 0.0  # by executors of earlier sub-goals
        context.start_soon(self._serve_planner)

    async def act(self, observation: Observation) -> str:
        """Return the executor's next action, asking the planner for a sub-goal as needed.

        Raises:
            AgentStop: When a member's budget or model gives out (see ``LLMAgent``).
        """
        summary: str | None = None  # a report for the planner, when a sub-goal is over
        if self._executor is None:
            summary = f"Nothing yet. The task starts with:\n{observation.text[:2000]}"
        elif self._goal_steps >= self._steps_per_goal:
            last = observation.text[-2000:]
            summary = f"The sub-goal's step limit was reached. Last output:\n{last}"
        while True:
            if summary is not None:
                self._rounds += 1
                if self._rounds > self._context.max_steps:  # sub-goals that took no step
                    return "submit"
                plan = await self._ask_planner(summary)
                if plan.stop is not None:
                    raise AgentStop(plan.stop, f"the planner stopped: {plan.detail}")
                if plan.submit:
                    return "submit"
                self._start_goal(plan.goal or "")
            action = await self._executor_act(observation)
            if action.split(maxsplit=1)[:1] != ["done"]:
                self._goal_steps += 1
                return action
            summary = action.removeprefix("done").strip() or "(no summary)"

    async def _ask_planner(self, summary: str) -> Plan:
        report = Report(self._goal, summary, self._goal_steps)
        return await self._to_planner.ask("planner", report, Plan, timeout=_PLANNER_TIMEOUT)

    def _start_goal(self, goal: str) -> None:
        if self._executor is not None:
            self._spent_before += self._executor.spent_usd
        self._goal, self._goal_steps = goal, 0
        member = self._members["executor"]
        system = system_prompt(self._context.command_docs)
        self._executor = LLMAgent(
            self._executor_model,
            system=EXECUTOR.format(system=system, goal=goal),
            task=self._context.task.description,
            history=member.history,
            format_error=self._context.format_error,
        )

    async def _executor_act(self, observation: Observation) -> str:
        assert self._executor is not None
        action = await self._executor.act(observation)
        spent = self._spent_before + self._executor.spent_usd
        self._check_budget("executor", spent)
        return action

    async def _serve_planner(self) -> None:
        while True:
            try:
                envelope = await self._inbox.receive()
            except anyio.EndOfStream:
                return
            report = envelope.payload_as(Report)
            try:
                plan = await self._plan(report)
            except AgentStop as stop:
                plan = Plan(None, stop=stop.reason, detail=stop.detail)
            await self._inbox.reply(envelope, plan)

    async def _plan(self, report: Report) -> Plan:
        text = (
            f"REPORT on the sub-goal {report.goal!r} after {report.steps} steps:\n{report.summary}"
            if report.goal is not None
            else f"The team starts. {report.summary}"
        )
        context = self._context
        decision = await self._planner.act(Observation(text, 0, context.max_steps))
        self._check_budget("planner", self._planner.spent_usd)
        if decision.strip().lower() == "submit":
            return Plan(None, submit=True)
        return Plan(decision.strip())

    def _check_budget(self, name: str, spent: float) -> None:
        limit = self._members[name].max_cost_usd
        if limit is not None and spent > limit:
            raise AgentStop("exit_cost", f"the {name} spent ${spent:.4f}, over its ${limit:g}")


@agent("planner-executor")
def _team(
    context: AgentContext,
    *,
    planner: Member = Member(),  # noqa: B008  (immutable)
    executor: Member = Member(),  # noqa: B008
    steps_per_goal: int = 5,
) -> PlannerExecutorTeam:
    return PlannerExecutorTeam(
        context,
        planner=Member.model_validate(planner),
        executor=Member.model_validate(executor),
        steps_per_goal=steps_per_goal,
    )
