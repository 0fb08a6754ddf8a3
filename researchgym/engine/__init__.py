"""The engine: runs episodes. It uses agents, tools, sandboxes, tasks and storage.

- ``Runner`` expands a RunConfig into episodes and runs them in one task group.
- ``Episode.open`` opens one episode as an environment (sandbox, services on the ``Bus``,
  limits); ``run_episode`` drives its agent through it.
- ``open_env`` is that environment for anyone: a run of one episode, the caller acting.
- ``ResearchEnv`` is the Gym-style API of one episode; every limit is a ``Wrapper`` around
  it (``limited``).
- ``Recorder`` turns everything that happens into rows for the storage writer.

Only anyio is used here, so the engine runs under asyncio and trio alike.
"""

from __future__ import annotations

from researchgym.engine.bus import Bus, BusStatistics, Endpoint, Envelope, EnvelopeHook, open_bus
from researchgym.engine.env import Env, ResearchEnv, StepResult, Wrapper
from researchgym.engine.episode import (
    Episode,
    EpisodeEnv,
    EpisodeOutcome,
    EpisodePlan,
    RunContext,
    run_episode,
)
from researchgym.engine.limits import (
    BudgetLimit,
    Limit,
    LimitReached,
    StepLimit,
    TimeLimit,
    limited,
)
from researchgym.engine.messages import EvaluateRequest, ToolReply, ToolRequest
from researchgym.engine.recorder import Recorder
from researchgym.engine.replay import Mismatch, ReplayReport, replay_episode
from researchgym.engine.runner import Runner, RunStatistics, load_tasks, open_sink
from researchgym.engine.services import EvaluatorService, ToolService
from researchgym.engine.standalone import open_env
from researchgym.engine.status import (
    CANCELLED,
    EARLY_EXIT,
    EXIT_ERROR,
    FAILED,
    ExitReason,
    exit_status,
)

__all__ = [
    "CANCELLED",
    "EARLY_EXIT",
    "EXIT_ERROR",
    "FAILED",
    "BudgetLimit",
    "Bus",
    "BusStatistics",
    "Endpoint",
    "Env",
    "Envelope",
    "EnvelopeHook",
    "Episode",
    "EpisodeEnv",
    "EpisodeOutcome",
    "EpisodePlan",
    "EvaluateRequest",
    "EvaluatorService",
    "ExitReason",
    "Limit",
    "LimitReached",
    "Mismatch",
    "Recorder",
    "ReplayReport",
    "ResearchEnv",
    "RunContext",
    "RunStatistics",
    "Runner",
    "StepLimit",
    "StepResult",
    "TimeLimit",
    "ToolReply",
    "ToolRequest",
    "ToolService",
    "Wrapper",
    "exit_status",
    "limited",
    "load_tasks",
    "open_bus",
    "open_env",
    "open_sink",
    "replay_episode",
    "run_episode",
]
