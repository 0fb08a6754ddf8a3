"""The episode's tool service on the bus, and the evaluator it scores artefacts with.

The tool service consumes its mailbox in order and answers every request; start it with
``task_group.start(service.serve)`` so that it listens before the agent acts. A ``validate``
or ``submit`` calls its ``Evaluator``, which scores the artefact and records the score.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Literal

import anyio

from researchgym.engine.messages import ToolReply, ToolRequest
from researchgym.engine.recorder import now_us
from researchgym.engine.status import exit_status
from researchgym.errors import SandboxError, UndeliverableError
from researchgym.tasks import EvaluationMode, EvaluationResult, evaluate
from researchgym.tools import ToolContext, ToolResult, Viewer, find_tool

if TYPE_CHECKING:
    from anyio.abc import TaskStatus

    from researchgym.engine.bus import Endpoint, Envelope
    from researchgym.engine.recorder import Recorder
    from researchgym.engine.status import ScoreKind
    from researchgym.sandboxes import Sandbox
    from researchgym.tasks import Task
    from researchgym.tools import Tool

__all__ = ["Evaluator", "ToolService", "request_timeout"]

INTERRUPTED = ToolResult(
    "The command was interrupted: the episode ran out of time.", timed_out=True
)
"""The result of a command that ``ToolService.interrupt`` stopped."""

_SLACK = 60.0
"""Seconds a service may take beyond the sandbox's own timeouts before a request fails."""


class ToolService:
    """Runs the agent's commands in the sandbox and records each as a tool call.

    It serves one episode, and keeps that episode's file viewer across its commands.
    ``interrupt()`` stops the command in flight, when the episode's time runs out: the
    requests behind it (the autosubmission) need not wait for it.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        sandbox: Sandbox,
        task: Task,
        recorder: Recorder,
        evaluator: Evaluator,
    ) -> None:
        self._endpoint = endpoint
        self._sandbox = sandbox
        self._task = task
        self._recorder = recorder
        self._evaluator = evaluator
        self._viewer = Viewer(cwd=str(sandbox.workdir))
        self._running: anyio.CancelScope | None = None
        self._interrupted = False

    def interrupt(self) -> None:
        """Stop the agent's command in flight, and any still queued, recorded as interrupted.

        Only an autosubmission runs after it.
        """
        self._interrupted = True
        if self._running is not None:
            self._running.cancel()

    async def serve(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Answer tool requests until the endpoint closes.

        Raises:
            SandboxError: If the sandbox fails.
        """
        task_status.started()
        async for envelope in self._endpoint:
            await self._handle(envelope)

    async def _handle(self, envelope: Envelope) -> None:
        request = envelope.payload_as(ToolRequest)
        tool = find_tool(request.command)
        context = ToolContext(
            self._sandbox,
            self._task.spec,
            lambda asked: self._evaluate(asked, request),
            viewer=self._viewer,
        )
        started_at, clock = now_us(), time.perf_counter()
        result = INTERRUPTED
        with anyio.CancelScope() as self._running:
            if self._interrupted and request.reason is None:
                self._running.cancel()
            try:
                result = await tool(request.command, context)
            except SandboxError as e:  # the command that killed the sandbox stays in the record
                failed = ToolResult(f"The sandbox failed: {e}")
                await self._record(envelope, request, tool, failed, started_at, clock)
                raise
        self._running = None
        await self._record(envelope, request, tool, result, started_at, clock)
        status = None
        if result.ends_episode and result.evaluation is not None:
            status = exit_status(request.reason or "submit", result.evaluation)
        metrics = result.evaluation.metrics if result.evaluation is not None else {}
        reply = ToolReply(
            result.observation,
            status is not None,
            status,
            metrics,
            open_file=self._viewer.path,
            cwd=self._viewer.cwd,
        )
        # If the agent stopped waiting, the bus has recorded the lost reply; serve on.
        with contextlib.suppress(UndeliverableError):
            await self._endpoint.reply(envelope, reply)

    async def _record(
        self,
        envelope: Envelope,
        request: ToolRequest,
        tool: Tool,
        result: ToolResult,
        started_at: int,
        clock: float,
    ) -> None:
        if request.reason is not None:
            return  # an autosubmission is not an agent's action
        await self._recorder.tool_call(
            envelope.episode_id,
            request=envelope,
            command=request.command,
            step=request.step,
            action_class=tool.classify(request.command),
            tool=tool.name,
            result=result,
            started_at=started_at,
            duration=time.perf_counter() - clock,
        )

    async def _evaluate(
        self, asked: Literal["validate", "submit"], request: ToolRequest
    ) -> EvaluationResult:
        kind: ScoreKind = "autosubmit" if request.reason not in (None, "submit") else asked
        return await self._evaluator.score(kind, request.step)


class Evaluator:
    """Scores the current artefact of one episode, and records every score."""

    def __init__(
        self, *, sandbox: Sandbox, task: Task, recorder: Recorder, episode_id: str
    ) -> None:
        self._sandbox = sandbox
        self._task = task
        self._recorder = recorder
        self._episode_id = episode_id

    async def score(self, kind: ScoreKind, step: int) -> EvaluationResult:
        """Evaluate the artefact (on the validate inputs, or the final ones) and record it.

        Raises:
            SandboxError: If the sandbox fails.
            TaskChangedError: If the task's eval/ changed since the run loaded it.
        """
        mode: EvaluationMode = "validate" if kind == "validate" else "submit"
        result = await evaluate(self._task, self._sandbox, mode=mode)
        await self._recorder.score(
            self._episode_id, task=self._task.spec, kind=kind, step=step, evaluation=result
        )
        return result


def request_timeout(task: Task) -> float:
    """Return how long an agent waits for the observation of one action."""
    spec = task.spec
    return max(spec.timeouts.command, spec.evaluation.timeout) + 2 * _SLACK
