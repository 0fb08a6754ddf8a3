"""The face of ``researchgym.engine``: the names it exports, and their modules.

Type checkers read it, and so does the lazy loader of ``__init__.py``, which imports each
name from its module when it is first used.
"""

from .admission import DESCRIPTORS_PER_EPISODE, RESERVED_DESCRIPTORS, Admission, admit
from .bus import Bus, BusStatistics, Endpoint, Envelope, EnvelopeHook, open_bus
from .env import Env, ResearchEnv, StepResult, Wrapper
from .episode import (
    Episode,
    EpisodeEnv,
    EpisodeOutcome,
    EpisodePlan,
    RunContext,
    run_episode,
)
from .limits import (
    BudgetLimit,
    FormatLimit,
    Limit,
    LimitReached,
    StepLimit,
    TimeLimit,
    limited,
)
from .messages import ToolReply, ToolRequest
from .recorder import Recorder
from .replay import Mismatch, ReplayReport, replay_episode
from .runner import Runner, RunStatistics, load_tasks, open_sink
from .services import Evaluator, ToolService
from .standalone import open_env
from .status import (
    CANCELLED,
    EARLY_EXIT,
    EXIT_ERROR,
    FAILED,
    ExitReason,
    exit_status,
)

__all__ = [
    "CANCELLED",
    "DESCRIPTORS_PER_EPISODE",
    "EARLY_EXIT",
    "EXIT_ERROR",
    "FAILED",
    "RESERVED_DESCRIPTORS",
    "Admission",
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
    "Evaluator",
    "ExitReason",
    "FormatLimit",
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
    "admit",
    "exit_status",
    "limited",
    "load_tasks",
    "open_bus",
    "open_env",
    "open_sink",
    "replay_episode",
    "run_episode",
]
