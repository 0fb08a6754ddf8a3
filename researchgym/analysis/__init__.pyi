"""The face of ``researchgym.analysis``: the names it exports, and their modules.

Type checkers read it, and so does the lazy loader of ``__init__.py``, which imports each
name from its module when it is first used.
"""

from .metrics import (
    ActionDimension,
    actions,
    best_at_k,
    costs,
    exit_statuses,
    failures,
    profile_scores,
    solver_name,
)
from .plots import PLOTS, write_plots
from .profiles import (
    BASELINE,
    VARIANTS,
    Profiles,
    SolverScore,
    Variant,
    performance_profiles,
    read_scores_csv,
)
from .report import Report, latest_run_id, report

__all__ = [
    "BASELINE",
    "PLOTS",
    "VARIANTS",
    "ActionDimension",
    "Profiles",
    "Report",
    "SolverScore",
    "Variant",
    "actions",
    "best_at_k",
    "costs",
    "exit_statuses",
    "failures",
    "latest_run_id",
    "performance_profiles",
    "profile_scores",
    "read_scores_csv",
    "report",
    "solver_name",
    "write_plots",
]
