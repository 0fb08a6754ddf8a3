"""Analysis: what the stored runs mean, computed over ``researchgym.storage``.

```
metrics.py   best_at_k, failures, ...         the metrics as Arrow tables, from storage's views
profiles.py  performance_profiles, ...        performance profiles and AUP, from any scores
report.py    report, Report, latest_run_id    the run report: scores at k, AUP, cost, failures
plots.py     write_plots, PLOTS               the plots of some runs, as PNG files
charts.py                                     ... drawn by matplotlib (imported when plotting)
```

Every number comes from the views of ``researchgym.storage`` (one connection from
``open_database``), so that it is the same one SQL gives. Storage never imports analysis.

Example::

    with open_database(path) as con:
        result = report(con, [latest_run_id(con)], k=4)
"""

from __future__ import annotations

from researchgym.analysis.metrics import (
    ActionDimension,
    actions,
    best_at_k,
    costs,
    exit_statuses,
    failures,
    profile_scores,
    solver_name,
)
from researchgym.analysis.plots import PLOTS, write_plots
from researchgym.analysis.profiles import (
    BASELINE,
    VARIANTS,
    Profiles,
    SolverScore,
    Variant,
    performance_profiles,
    read_scores_csv,
)
from researchgym.analysis.report import Report, latest_run_id, report

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
