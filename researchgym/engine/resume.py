"""Resuming a run: which of its episodes to keep, which to try again, which to run at last.

``researchgym run --resume RUN_ID`` (or a run configuration with ``resume: true``) plans
the run as usual, then matches each planned attempt (a task, an agent, an attempt number)
with what the store holds of it:

- an attempt never started runs;
- one whose last try ended is kept as it is, unless the try ended by an infrastructure
  failure and ``retry_errors`` allows another try;
- one whose last try was cancelled or interrupted runs again, as its next try; a try still
  ``running`` in the store (its process was killed) is first recorded as ``interrupted``.

An attempt is recognised by its ``attempt_key``: a hash of the task's content, the agent's
configuration and the attempt number, so a new researchgym version changes nothing. If a
stored attempt's key differs from the planned one, the task or the agent changed since:
the resume is refused, naming the difference, unless forced (then the stored tries count
for the attempt, and its new tries use the task and agent as they are now). Attempts and
agents added to the configuration are new attempts: they run, and nothing else does.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple

from researchgym._host import hostname
from researchgym.engine.recorder import now_us
from researchgym.engine.status import CANCELLED, INTERRUPTED, RUNNING
from researchgym.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from researchgym.engine.episode import EpisodePlan
    from researchgym.storage import StoredRun

__all__ = ["Resumption", "resume"]


class Resumption(NamedTuple):
    """What resuming a run does."""

    to_run: list[EpisodePlan]
    """The tries to run, in the plan's order."""
    interrupted: list[dict[str, Any]]
    """Episode rows to store again as ``interrupted``: tries the killed run left running."""
    kept: int
    """Attempts whose last try ended, kept as they are."""


def resume(
    plans: list[EpisodePlan],
    stored: StoredRun,
    *,
    path: Path,
    retry_errors: int,
    force: bool,
) -> Resumption:
    """Match a run's plan with what ``stored`` holds of it.

    Raises:
        ConfigError: If the run is still going on, or a task or an agent changed since the
            run began (unless ``force``).
    """
    _check_gone(stored, path, force=force)
    last_tries: dict[tuple[str, str, int], dict[str, Any]] = {}
    for row in stored.episodes:
        slot = (row["task_id"], row["agent"], row["attempt"])
        if slot not in last_tries or _try(row) >= _try(last_tries[slot]):
            last_tries[slot] = row
    to_run: list[EpisodePlan] = []
    interrupted: list[dict[str, Any]] = []
    changes: list[str] = []
    kept = 0
    for plan in plans:
        last = last_tries.get((plan.task.spec.id, plan.agent.label, plan.attempt))
        if last is None:
            to_run.append(plan)
            continue
        if last["attempt_key"] not in (None, plan.attempt_key):
            changes.append(_change(plan, last, stored))
        status = last["exit_status"]
        if status == RUNNING:
            now = now_us()
            interrupted.append(
                {**last, "exit_status": INTERRUPTED, "ended_at": now, "recorded_at": now}
            )
        again = status in (RUNNING, INTERRUPTED, CANCELLED)
        if again or (last["retryable"] and _try(last) <= retry_errors):
            to_run.append(replace(plan, try_number=_try(last) + 1))
        else:
            kept += 1
    if changes and not force:
        raise ConfigError(
            f"The run '{plans[0].run_id if plans else ''}' cannot be resumed as configured: "
            + "; ".join(sorted(set(changes)))
            + ". Its episodes that ended were made with the old ones; pass --force to resume "
            "it anyway (they are kept, and new tries use the task and agent as they are now)."
        )
    return Resumption(to_run, interrupted, kept)


def _check_gone(stored: StoredRun, path: Path, *, force: bool) -> None:
    """Refuse to resume a run whose process may still be writing it."""
    state, run = stored.state, stored.run or {}
    if state != "running" or force:
        return
    where = "this host" if run.get("host") == hostname() else f"host {run.get('host')}"
    raise ConfigError(
        f"The run '{run.get('run_id')}' in {path} is still going on (process {run.get('pid')} "
        f"on {where}): wait for it to end or stop it, then resume it. If it ran on another "
        "host that is gone, pass --force."
    )


def _try(row: dict[str, Any]) -> int:
    return int(row.get("try_number") or 1)


def _change(plan: EpisodePlan, last: dict[str, Any], stored: StoredRun) -> str:
    """What changed in a planned attempt since it was stored, in words."""
    task = plan.task.spec.id
    if last.get("task_hash") != plan.task.content_hash:
        was = str(last.get("task_hash") or "unknown")[:12]
        return (
            f"the task {task} changed (its content hash was {was}, it is now "
            f"{plan.task.content_hash[:12]})"
        )
    now = json.dumps(plan.agent.model_dump(mode="json"), sort_keys=True)
    configs = json.loads(str((stored.run or {}).get("config") or "{}")).get("agents", [])
    found = [a for a in configs if (a.get("label") or a.get("kind")) == plan.agent.label]
    before = json.dumps(found[0], sort_keys=True) if found else "unknown"
    return f"the agent {plan.agent.label} changed (it was {before}, it is now {now})"
