"""The chart kinds of the plots (``plots.py``), drawn with matplotlib and saved as PNG.

matplotlib is imported inside the functions, so that ``import researchgym.analysis`` stays
fast. Figures are ``matplotlib.figure.Figure`` objects on an Agg canvas, never made through
pyplot: no interactive backend is ever chosen, and there is no global registry of open
figures to fill, so nothing is left open to close (a figure goes with its last reference).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "AupPoint",
    "Counts",
    "aup_against_cost",
    "count_bars",
    "grouped_counts",
    "no_data",
    "palette",
    "profiles",
    "shares_by_step",
    "stacked_shares",
]

DPI = 120
"""Pixels per inch of the PNG files."""

_MIN_LABELLED_SHARE = 0.06
"""Segments of stacked bars narrower than this share get no percentage written on them."""


@dataclass(frozen=True)
class Counts:
    """Counts in a grid: one row per label (a model, a task, a step), one column per category."""

    rows: list[str]
    """The row labels, top to bottom (left to right for steps)."""
    columns: list[str]
    """The categories (exit statuses, action classes), in the order they are stacked."""
    values: list[list[float]]
    """values[i][j]: the count of row i and column j."""

    def totals(self) -> list[float]:
        """Each row's total."""
        return [sum(row) for row in self.values]

    def shares(self) -> list[list[float]]:
        """Each count as a share of its row's total (0 in a row with no counts)."""
        return [
            [v / t if t else 0.0 for v in row]
            for row, t in zip(self.values, self.totals(), strict=True)
        ]


@dataclass(frozen=True)
class AupPoint:
    """One solver in the AUP-against-cost chart."""

    solver: str
    """Its name, written beside it."""
    cost_usd: float
    """Its total cost (0 when unknown or none)."""
    note: str | None
    """Why the cost is 0 or not all of it (no model calls, unpriced model); None if priced."""
    aup: Mapping[str, float | None]
    """Variant name as shown (Best Attempt, ...) -> its AUP; None where it has no profile."""


def palette(names: Sequence[str]) -> dict[str, Any]:
    """Give each name a colour of a qualitative colour map, in order (tab10, or tab20 beyond)."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {name: cmap(i % cmap.N) for i, name in enumerate(names)}


def no_data(path: Path, *, title: str, note: str) -> None:
    """Write a figure that says there is nothing to plot, and why."""
    fig, ax = _figure(8, 3)
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, note, ha="center", va="center", fontsize=12, color="dimgray", wrap=True)
    _save(fig, path)


def profiles(
    path: Path,
    *,
    title: str,
    taus: Sequence[float],
    curves: Mapping[str, Sequence[float]],
    aup: Mapping[str, float],
    colours: Mapping[str, Any],
    dashed: str,
) -> None:
    """Performance profiles as step lines: rho against tau, one per solver, legend by AUP."""
    fig, ax = _figure(9, 5.5)
    for solver in sorted(curves, key=lambda s: (-aup.get(s, 0.0), s)):
        ax.step(
            taus,
            curves[solver],
            where="post",
            label=f"{solver} ({aup.get(solver, 0.0):.3f})",
            color="black" if solver == dashed else colours[solver],
            linestyle="--" if solver == dashed else "-",
            linewidth=1.8,
        )
    ax.set_xlim(0, taus[-1])
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(r"$\tau$: log10 of the ratio of the task's best score to the solver's")
    ax.set_ylabel(r"$\rho(\tau)$: share of tasks within $\tau$ of the best")
    ax.grid(alpha=0.3)
    ax.legend(title="solver (AUP)", loc="lower right")
    ax.set_title(title)
    _save(fig, path)


def aup_against_cost(
    path: Path, *, title: str, points: Sequence[AupPoint], colours: Mapping[str, Any]
) -> None:
    """Each solver's AUPs (one marker per variant) against its cost, named beside them."""
    from matplotlib.lines import Line2D

    fig, ax = _figure(9, 6)
    markers = dict(zip(points[0].aup, "os^v", strict=False))
    for p in points:
        values = [v for v in p.aup.values() if v is not None]
        if len(values) > 1:
            ax.plot([p.cost_usd] * 2, [min(values), max(values)], color=colours[p.solver], lw=1)
        for variant, value in p.aup.items():
            if value is not None:
                ax.scatter(
                    p.cost_usd, value, s=60, marker=markers[variant], color=colours[p.solver]
                )
        label = p.solver if p.note is None else f"{p.solver} ({p.note})"
        ax.annotate(label, (p.cost_usd, max(values, default=0.0)), xytext=(7, 4),
                    textcoords="offset points", fontsize=9)  # fmt: skip
    # Room on the right for the names, and a little on the left so markers at $0 show whole.
    right = 1.25 * max((p.cost_usd for p in points), default=0.0) or 1.0
    ax.set_xlim(-0.03 * right, right)
    ax.margins(y=0.15)
    ax.set_xlabel("total cost of the solver's model calls (USD)")
    ax.set_ylabel("AUP (area under the performance profile)")
    handles = [
        Line2D([], [], marker=m, linestyle="", color="gray", label=v) for v, m in markers.items()
    ]
    ax.legend(handles=handles, title="profile", loc="lower right")
    ax.grid(alpha=0.3)
    ax.set_title(title)
    _save(fig, path)


def stacked_shares(
    path: Path, *, title: str, counts: Counts, colours: Mapping[str, Any], unit: str, legend: str
) -> None:
    """Horizontal bars, one per row, split into each column's share of the row's total."""
    from matplotlib.ticker import PercentFormatter

    fig, ax = _figure(10, max(3.5, 1.4 + 0.45 * len(counts.rows)))
    labels = [f"{r} ({t:,.0f})" for r, t in zip(counts.rows, counts.totals(), strict=True)]
    shares = counts.shares()
    left = [0.0] * len(labels)
    for j, column in enumerate(counts.columns):
        widths = [row[j] for row in shares]
        bars = ax.barh(labels, widths, left=left, color=colours[column], label=column,
                       edgecolor="white", linewidth=0.5)  # fmt: skip
        texts = [f"{w:.0%}" if w >= _MIN_LABELLED_SHARE else "" for w in widths]
        ax.bar_label(bars, labels=texts, label_type="center", fontsize=8)
        left = [a + w for a, w in zip(left, widths, strict=True)]
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(f"share of the {unit} (the row's total in brackets)")
    ax.legend(title=legend, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(title)
    _save(fig, path)


def grouped_counts(
    path: Path, *, title: str, counts: Counts, colours: Mapping[str, Any], xlabel: str
) -> None:
    """Horizontal bars, one group per row and one bar per column, each with its count."""
    n = len(counts.columns)
    fig, ax = _figure(10, max(3.5, 1.4 + 0.22 * n * len(counts.rows)))
    height = 0.8 / n
    for j, column in enumerate(counts.columns):
        ys = [i - 0.4 + height * (j + 0.5) for i in range(len(counts.rows))]
        widths = [row[j] for row in counts.values]
        bars = ax.barh(ys, widths, height=height, color=colours[column], label=column)
        ax.bar_label(bars, labels=[f"{w:,.0f}" for w in widths], padding=3, fontsize=8)
    ax.set_yticks(range(len(counts.rows)), counts.rows)
    ax.invert_yaxis()
    ax.margins(x=0.1)
    ax.set_xlabel(xlabel)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title)
    _save(fig, path)


def count_bars(
    path: Path,
    *,
    title: str,
    labels: Sequence[str],
    counts: Sequence[float],
    colours: Mapping[str, Any],
    ylabel: str,
) -> None:
    """Vertical bars, one per label, each with its count and share of the total."""
    fig, ax = _figure(max(6, 1.2 + 0.9 * len(labels)), 5)
    total = sum(counts)
    bars = ax.bar(labels, counts, color=[colours[label] for label in labels])
    texts = [f"{c:,.0f}\n{c / total:.0%}" if total else "0" for c in counts]
    ax.bar_label(bars, labels=texts, padding=3, fontsize=9)
    ax.margins(y=0.15)
    if len(labels) > 8 or max(map(len, labels), default=0) > 10:
        ax.tick_params(axis="x", labelrotation=30)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title)
    _save(fig, path)


def shares_by_step(
    path: Path,
    *,
    title: str,
    starts: Sequence[int],
    width: int,
    counts: Counts,
    colours: Mapping[str, Any],
) -> None:
    """Stacked bars of each column's share per step (or bin of ``width`` steps).

    Below them, how many actions each step had: few actions make a noisy share.
    """
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    fig = _new_figure(11, 6.5)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    xs = [s + (width - 1) / 2 for s in starts]
    base = [0.0] * len(xs)
    for j, column in enumerate(counts.columns):
        heights = [row[j] for row in counts.shares()]
        top.bar(xs, heights, width=width * 0.9, bottom=base, color=colours[column], label=column)
        base = [b + h for b, h in zip(base, heights, strict=True)]
    top.set_ylim(0, 1)
    top.yaxis.set_major_formatter(PercentFormatter(1.0))
    top.set_ylabel("share of the step's actions")
    top.legend(title="action class", loc="upper left", bbox_to_anchor=(1.01, 1))
    top.set_title(title)
    bottom.bar(xs, counts.totals(), width=width * 0.9, color="gray")
    bottom.set_ylabel("actions")
    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    per = "step index" if width == 1 else f"step index (bins of {width} steps)"
    bottom.set_xlabel(per)
    _save(fig, path)


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    fig = _new_figure(width, height)
    return fig, fig.add_subplot()


def _save(fig: Figure, path: Path) -> None:
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
