"""The engine: runs episodes. It uses agents, tools, sandboxes, tasks and storage.

- ``Runner`` expands a RunConfig into episodes and runs them in one task group.
- ``run_episode`` runs one: sandbox, services on the ``Bus``, the agent's loop.
- ``ResearchEnv`` is the Gym-style API of one episode; limits are ``Wrapper``s around it.
- ``Recorder`` turns everything that happens into rows for the storage writer.

Only anyio is used here, so the engine runs under asyncio and trio alike.
"""

from __future__ import annotations

from researchgym.engine.bus import Bus, BusStatistics, Endpoint, Envelope, EnvelopeHook, open_bus
from researchgym.engine.env import Env, ResearchEnv, StepResult, Wrapper
from researchgym.engine.episode import EpisodeOutcome, EpisodePlan, RunContext, run_episode
from researchgym.engine.limits import StepLimit
from researchgym.engine.messages import EvaluateRequest, ToolReply, ToolRequest
from researchgym.engine.recorder import Recorder
from researchgym.engine.replay import Mismatch, ReplayReport, replay_episode
from researchgym.engine.runner import Runner, RunStatistics, load_tasks, open_sink
from researchgym.engine.services import EvaluatorService, ToolService
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
    "Bus",
    "BusStatistics",
    "Endpoint",
    "Env",
    "Envelope",
    "EnvelopeHook",
    "EpisodeOutcome",
    "EpisodePlan",
    "EvaluateRequest",
    "EvaluatorService",
    "ExitReason",
    "Mismatch",
    "Recorder",
    "ReplayReport",
    "ResearchEnv",
    "RunContext",
    "RunStatistics",
    "Runner",
    "StepLimit",
    "StepResult",
    "ToolReply",
    "ToolRequest",
    "ToolService",
    "Wrapper",
    "exit_status",
    "load_tasks",
    "open_bus",
    "open_sink",
    "replay_episode",
    "run_episode",
]
