"""The face of ``researchgym.testing``: the names it exports, and their modules.

Type checkers read it, and so does the lazy loader of ``__init__.py``, which imports each
name from its module when it is first used.
"""

from .agent import check_agent
from .base import ConformanceError
from .env import check_env
from .model import check_model
from .sandbox import check_sandbox
from .sink import check_sink, sample_batch

__all__ = [
    "ConformanceError",
    "check_agent",
    "check_env",
    "check_model",
    "check_sandbox",
    "check_sink",
    "sample_batch",
]
