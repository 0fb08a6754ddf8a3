"""The recorder: everything that happens in a run becomes rows for the storage writer.

Each episode has one timeline, ``events``, numbered by ``seq``. Messages, tool calls and
scores get a row in their own table too, carrying the ``seq`` of their event, so that a
trajectory is ``SELECT * FROM events WHERE episode_id = ? ORDER BY seq`` and the details
are one join away. A reply's event points at its request's event (``cause_seq``) and shares
its span (the request's id); so does the tool call the request caused.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from researchgym.agents import ModelCall
    from researchgym.engine.bus import Envelope
    from researchgym.engine.status import ScoreKind
    from researchgym.storage import TableName, Writer
    from researchgym.tasks import EvaluationResult, TaskSpec
    from researchgym.tools import ActionClass, ToolResult

__all__ = ["Recorder", "now_us", "to_json"]


def now_us() -> int:
    """Return the wall-clock time in microseconds since the epoch (the stored timestamps)."""
    return time.time_ns() // 1000


def to_json(value: Any) -> str:
    """Serialize a payload: dataclasses and named tuples become objects."""
    return json.dumps(_plain(value), default=_plain, ensure_ascii=False)


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}
"""Per payload class, its dataclass fields (None if it is not a dataclass)."""


def _field_names(cls: type) -> tuple[str, ...] | None:
    try:
        return _FIELD_NAMES[cls]
    except KeyError:
        names = (
            tuple(f.name for f in dataclasses.fields(cls))
            if dataclasses.is_dataclass(cls)
            else None
        )
        return _FIELD_NAMES.setdefault(cls, names)


def _plain(value: Any) -> Any:
    names = _field_names(type(value))
    if names is not None:
        return {name: getattr(value, name) for name in names}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return value._asdict()
    if isinstance(value, str | int | float | bool | list | dict | None):
        return value
    return str(value)


@dataclass
class _Timeline:
    seq: int = 0
    steps: int = 0
    open_requests: dict[str, int] = field(default_factory=dict)
    """Request envelope id -> seq of its event, until the reply is recorded."""


class Recorder:
    """Turns what happens in one run into rows. One per run; episodes are opened on it.

    Every record waits for room in the writer once, before it takes its ``seq``, and then
    writes all its rows without a checkpoint: cancellation can stop a record, but never
    leave half of one or a gap in a timeline.
    """

    def __init__(self, writer: Writer, *, run_id: str) -> None:
        self.run_id = run_id
        self.tool_calls = 0
        """Tool calls recorded so far (the run's steps)."""
        self._writer = writer
        self._timelines: dict[str, _Timeline] = {}

    def open_episode(self, episode_id: str) -> None:
        """Start the timeline of an episode."""
        self._timelines[episode_id] = _Timeline()

    def steps(self, episode_id: str) -> int:
        """Return the tool calls recorded so far in an episode."""
        return self._timelines[episode_id].steps

    def close_episode(self, episode_id: str) -> None:
        """Forget an episode's timeline (its rows are with the writer)."""
        del self._timelines[episode_id]

    async def event(
        self,
        episode_id: str,
        kind: str,
        *,
        agent: str | None = None,
        payload: Any = None,
    ) -> None:
        """Record one event on an episode's timeline."""
        await self._writer.room(1)
        self._event(episode_id, kind, agent=agent, payload=payload)

    async def message(self, envelope: Envelope, error: str | None) -> None:
        """Record a bus envelope (the bus's hook)."""
        body = to_json(envelope.payload)
        await self._writer.room(2)
        timeline = self._timelines[envelope.episode_id]
        seq = self._event(
            envelope.episode_id,
            "message" if error is None else "undeliverable",
            agent=envelope.sender,
            span_id=envelope.correlation_id or envelope.id,
            cause_seq=timeline.open_requests.pop(envelope.correlation_id or "", None),
        )
        if envelope.recipient is not None and envelope.correlation_id is None:
            timeline.open_requests[envelope.id] = seq
        self._put(
            "messages",
            episode_id=envelope.episode_id,
            seq=seq,
            message_id=envelope.id,
            correlation_id=envelope.correlation_id,
            sender=envelope.sender,
            recipient=envelope.recipient,
            topic=envelope.topic,
            type=envelope.type,
            sent_at=int(envelope.sent_at * 1_000_000),
            size_bytes=len(body.encode(errors="backslashreplace")),  # as stored: see Writer
            delivered=error is None,
            error=error,
            payload=body,
        )

    async def tool_call(
        self,
        episode_id: str,
        *,
        request: Envelope,
        command: str,
        step: int,
        action_class: ActionClass,
        tool: str,
        result: ToolResult,
        started_at: int,
        duration: float,
    ) -> None:
        """Record an agent's command and what it did."""
        await self._writer.room(2)
        timeline = self._timelines[episode_id]
        self.tool_calls += 1
        timeline.steps += 1
        seq = self._event(
            episode_id,
            "tool_call",
            agent=request.sender,
            span_id=request.id,
            cause_seq=timeline.open_requests.get(request.id),
        )
        self._put(
            "tool_calls",
            episode_id=episode_id,
            seq=seq,
            step=step,
            agent=request.sender,
            command=command,
            tool=tool,
            action_class=str(action_class),
            exit_code=result.exit_code,
            duration_s=duration,
            timed_out=result.timed_out,
            truncated=result.truncated,
            output=result.observation,
            started_at=started_at,
        )

    async def score(
        self,
        episode_id: str,
        *,
        task: TaskSpec,
        kind: ScoreKind,
        step: int,
        evaluation: EvaluationResult,
    ) -> None:
        """Record an evaluation: always an event, and a scores row if it gave a score."""
        await self._writer.room(2)
        seq = self._event(
            episode_id,
            "score" if evaluation.score is not None else "evaluation_failed",
            agent="evaluator",
            payload={"kind": kind, "status": evaluation.status, "error": evaluation.error},
        )
        if evaluation.score is None:
            return
        self._put(
            "scores",
            episode_id=episode_id,
            seq=seq,
            step=step,
            kind=kind,
            metric=task.metric.name,
            score=evaluation.score,
            direction=task.metric.direction,
            baseline=task.baseline.score,
            metrics=to_json(evaluation.metrics),
        )

    async def llm_call(self, episode_id: str, *, member: str, call: ModelCall) -> None:
        """Record a model call: an event, and an ``llm_calls`` row."""
        await self._writer.room(2)
        seq = self._event(
            episode_id,
            "llm_call" if call.error is None else "llm_call_failed",
            agent=member,
        )
        self._put(
            "llm_calls",
            episode_id=episode_id,
            seq=seq,
            agent=member,
            **call._asdict(),
        )

    async def row(self, table: TableName, **row: Any) -> None:
        """Record a row of a table without a timeline (runs, episodes, agents)."""
        await self._writer.room(1)
        self._put(table, **row)

    def _event(
        self,
        episode_id: str,
        kind: str,
        *,
        agent: str | None = None,
        span_id: str | None = None,
        cause_seq: int | None = None,
        payload: Any = None,
    ) -> int:
        timeline = self._timelines[episode_id]
        timeline.seq += 1
        self._put(
            "events",
            episode_id=episode_id,
            seq=timeline.seq,
            ts=now_us(),
            kind=kind,
            agent=agent,
            span_id=span_id,
            cause_seq=cause_seq,
            payload=None if payload is None else to_json(payload),
        )
        return timeline.seq

    def _put(self, table: TableName, **row: Any) -> None:
        row["run_id"] = self.run_id
        self._writer.write_nowait(table, row)
