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

import lazy_loader

# Each name is imported from its module when first used (the names: __init__.pyi).
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
