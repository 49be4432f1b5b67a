"""The report's figures, one function each, returning a matplotlib ``Figure``.

Figures are drawn without pyplot (no global state, no GUI backend) in one house style and
turned into inline SVG by :func:`to_svg`. Every function takes already-small inputs or
reduces them with :mod:`cluster_opt.report.aggregate`, so drawing cost does not grow with
the number of VMs.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from itertools import combinations
from typing import ParamSpec

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from cluster_opt.model import Cluster
from cluster_opt.report import aggregate

#: One colour per role, used by every figure and by the page's CSS.
COLOURS: dict[str, str] = {
    "before": "#94a3b8",
    "after": "#2563eb",
    "chosen": "#dc2626",
    "ink": "#1f2937",
    "muted": "#6b7280",
    "grid": "#e5e7eb",
    "missing": "#f3f4f6",
}
#: Sequential colour map for utilisation (0-100 %), perceptually uniform.
UTILISATION_CMAP = "viridis"
#: Scatter plots with more points than this are embedded as an image, not as SVG paths.
RASTER_POINTS = 1500
#: At most this many objectives are paired in the Pareto projections (k (k - 1) / 2 panels).
MAX_PARETO_OBJECTIVES = 4
#: Islands named in the legend of the progress plot; more are drawn but not listed.
MAX_LEGEND_ISLANDS = 12
#: Waves are labelled with their number and move count up to this many waves.
MAX_LABELLED_WAVES = 40

STYLE: dict[str, object] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "axes.edgecolor": "#9ca3af",
    "axes.labelcolor": COLOURS["ink"],
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.formatter.use_locale": False,
    "grid.color": COLOURS["grid"],
    "grid.linewidth": 0.8,
    "xtick.color": COLOURS["muted"],
    "ytick.color": COLOURS["muted"],
    "xtick.labelcolor": COLOURS["ink"],
    "ytick.labelcolor": COLOURS["ink"],
    "legend.frameon": False,
    "legend.fontsize": 8,
    "text.color": COLOURS["ink"],
    "svg.fonttype": "none",  # text stays text: small, selectable, searchable
}

P = ParamSpec("P")


def styled(draw: Callable[P, Figure]) -> Callable[P, Figure]:
    """Draw a figure in the house style (rc settings are read when artists are created)."""

    @wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Figure:
        with mpl.rc_context(STYLE):
            return draw(*args, **kwargs)

    return wrapper


def to_svg(fig: Figure, salt: str) -> str:
    """The figure as an ``<svg>`` element to inline in HTML.

    Every id inside (and every ``#id`` reference to it) is prefixed with ``salt``, so that
    several figures on one page never share an id. The XML prolog and the metadata block
    are dropped; the output is deterministic.
    """
    buf = io.StringIO()
    with mpl.rc_context({**STYLE, "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", dpi=144, metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)
    return re.sub(r'(\bid="|href="#|url\(#)', rf"\g<1>{salt}-", text)


def _plain_number(value: float, _pos: int | None = None) -> str:
    """Tick label without offsets or exponents: 3,550,000 rather than 3.55 x 1e6."""
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:,.6g}"


def plural(n: int, word: str) -> str:
    """``1 wave``, ``2 waves``, ``1,000 waves``."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _label(name: str, units: Mapping[str, str]) -> str:
    unit = units.get(name)
    return f"{name} ({unit})" if unit else name


def utilisation_resources(cluster: Cluster) -> list[str]:
    """The resources of the heat map: cpu and mem_gb when the cluster has them, else the
    first two."""
    wanted = [r for r in ("cpu", "mem_gb") if r in cluster.resources]
    return wanted or list(cluster.resources[:2])


@styled
def utilisation_heatmap(
    cluster: Cluster,
    before: np.ndarray,
    after: np.ndarray | None = None,
    resources: Sequence[str] | None = None,
) -> Figure:
    """Per-rack utilisation (rack load / rack capacity) before and after, side by side.

    One row of panels per resource; in each panel a row per zone (zones of a region are
    adjacent, regions separated by a white line) and a column per rack position in the
    zone. O(V + H) to aggregate; the drawing is O(racks).
    """
    names = list(resources) if resources is not None else utilisation_resources(cluster)
    phases = [("before", before)] + ([("after", after)] if after is not None else [])
    zones = cluster.topology.zones
    row, col, n_cols = aggregate.rack_grid(cluster)
    panel_h = max(1.6, 0.45 + 0.17 * min(len(zones), 60))
    fig = Figure(figsize=(4.6 * len(phases) + 1.6, 0.4 + panel_h * len(names)), layout="constrained")
    axes = fig.subplots(len(names), len(phases), squeeze=False, sharex=True, sharey=True)
    cmap = mpl.colormaps[UTILISATION_CMAP].with_extremes(bad=COLOURS["missing"])
    region_change = np.flatnonzero(np.diff(cluster.topology.zone_region)) + 0.5
    tick_step = max(1, math.ceil(len(zones) / 30))
    image = None
    for i, name in enumerate(names):
        r = cluster.resource_index(name)
        for j, (phase, x) in enumerate(phases):
            ax = axes[i, j]
            util = aggregate.rack_utilisation(cluster, x, r)
            grid = aggregate.to_grid(util * 100, row, col, len(zones), n_cols)
            image = ax.imshow(grid, cmap=cmap, vmin=0, vmax=100, aspect="auto", interpolation="nearest")
            ax.grid(False)
            for y in region_change:
                ax.axhline(y, color="white", linewidth=3.5)
            placed = np.asarray(x) >= 0
            total = cluster.hosts.capacity[:, r].sum()
            fleet = cluster.vms.demand[placed, r].sum() / total * 100 if total > 0 else float("nan")
            empty = int(np.sum(util == 0))
            ax.set_title(
                f"{name}, {phase}: {fleet:.0f} % used, {empty} of {len(util)} racks empty",
                color=COLOURS["ink"] if phase == "after" else COLOURS["muted"],
            )
            ax.set_yticks(
                np.arange(0, len(zones), tick_step), [zones[z] for z in range(0, len(zones), tick_step)]
            )
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v + 1:.0f}"))  # 1-based
            if i == len(names) - 1:
                ax.set_xlabel("rack position in zone")
    fig.supylabel("zone (region/zone)", fontsize=9)
    cbar = fig.colorbar(image, ax=axes, shrink=0.9, aspect=30, pad=0.01)
    cbar.set_label("utilisation (% of rack capacity)")
    cbar.outline.set_visible(False)
    return fig


@styled
def pareto_figure(
    front: pd.DataFrame,
    objectives: Sequence[str],
    chosen: int | None = None,
    units: Mapping[str, str] | None = None,
    reference: Mapping[str, float] | None = None,
) -> Figure:
    """2-D projections of a Pareto front, one panel per pair of objectives (at most
    :data:`MAX_PARETO_OBJECTIVES` objectives), the chosen solution starred and the
    ``reference`` point (the placement before the run) as a grey diamond. O(N) per panel;
    above :data:`RASTER_POINTS` solutions the dots are embedded as an image."""
    units = units or {}
    names = list(objectives)[:MAX_PARETO_OBJECTIVES]
    pairs = list(combinations(names, 2)) or [("solution", names[0])]
    n_cols = min(len(pairs), 3)
    n_rows = math.ceil(len(pairs) / n_cols)
    fig = Figure(figsize=(3.5 * n_cols + 0.4, 3.0 * n_rows + 0.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False).ravel())
    data = front.assign(solution=np.arange(len(front)))
    raster = len(front) > RASTER_POINTS
    for ax, (a, b) in zip(axes, pairs, strict=False):
        ax.scatter(
            data[a], data[b], s=16, color=COLOURS["after"], alpha=0.75, linewidths=0,
            rasterized=raster, label=f"Pareto front ({len(front):,} solutions)",
        )  # fmt: skip
        if chosen is not None:
            ax.scatter(
                data[a].iloc[chosen], data[b].iloc[chosen], s=170, marker="*", color=COLOURS["chosen"],
                edgecolors="white", linewidths=0.8, zorder=3, label="chosen",
            )  # fmt: skip
        if reference is not None and a in reference and b in reference:
            ax.scatter(
                reference[a], reference[b], s=60, marker="D", color=COLOURS["before"],
                edgecolors=COLOURS["ink"], linewidths=0.6, zorder=3, label="before (current placement)",
            )  # fmt: skip
        ax.set_xlabel(_label(a, units))
        ax.set_ylabel(_label(b, units))
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(MaxNLocator(nbins=5))
            axis.set_major_formatter(FuncFormatter(_plain_number))
    for ax in axes[len(pairs) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    return fig


@styled
def waves_figure(moves: pd.DataFrame) -> Figure:
    """Migration waves over time: each wave a bar from its first start to its last end, as
    high as its number of moves (labelled when there are few waves), and below it the
    number of moves in flight. O(M log M); the drawing is O(waves + 2,000)."""
    spans = aggregate.wave_spans(moves)
    t, in_flight = aggregate.concurrency(moves)
    origin = float(spans["start_s"].min())
    scale, unit = aggregate.time_unit(float(spans["end_s"].max()) - origin)
    n_waves = len(spans)
    fig = Figure(figsize=(10, 4.6), layout="constrained")
    bars_ax, flight_ax = fig.subplots(2, 1, sharex=True, height_ratios=[1.5, 1])
    left = (spans["start_s"].to_numpy() - origin) / scale
    width = (spans["end_s"].to_numpy() - spans["start_s"].to_numpy()) / scale
    shades = [COLOURS["after"], "#60a5fa"]  # alternate so that adjacent waves stay apart
    bars = bars_ax.bar(
        left, spans["moves"], width=width, align="edge", color=[shades[i % 2] for i in range(n_waves)],
        edgecolor="white", linewidth=0.5 if n_waves > MAX_LABELLED_WAVES else 1.0,
    )  # fmt: skip
    if n_waves <= MAX_LABELLED_WAVES:
        labels = [f"w{w}: {m:,}" for w, m in zip(spans["wave"], spans["moves"], strict=True)]
        bars_ax.bar_label(bars, labels, padding=2, fontsize=7.5, color=COLOURS["muted"])
    bars_ax.set_ylabel("moves in the wave")
    bars_ax.set_ylim(0, float(spans["moves"].max()) * 1.18)
    bars_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    span = format(float(spans["end_s"].max() - origin) / scale, ".1f")
    bars_ax.set_title(f"{plural(len(moves), 'migration')} in {plural(n_waves, 'wave')} over {span} {unit}")
    flight_ax.step((t - origin) / scale, in_flight, where="post", color=COLOURS["after"], linewidth=0.9)
    flight_ax.fill_between((t - origin) / scale, in_flight, step="post", color=COLOURS["after"], alpha=0.15)
    flight_ax.set_ylim(bottom=0)
    flight_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    flight_ax.set_ylabel("moves in flight")
    flight_ax.set_xlabel(f"time since the plan starts ({unit})")
    return fig


@styled
def islands_figure(progress: pd.DataFrame) -> Figure:
    """Best score so far of every island over time (steps at each improvement) and the
    best over all islands (dashed). Log scale when the scores span more than 50x.
    O(N log N) for N progress rows."""
    steps = aggregate.improvements(progress)
    best = aggregate.overall_best(progress)
    scale, unit = aggregate.time_unit(float(progress["elapsed_s"].max()))
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax = fig.add_subplot()
    islands = list(pd.unique(steps["island"]))
    colours = mpl.colormaps["tab10" if len(islands) <= 10 else "tab20"]
    for k, island in enumerate(islands):
        own = steps[steps["island"] == island]
        name = island if isinstance(island, str) else f"island {island}"  # engine series are named
        ax.step(
            own["elapsed_s"] / scale, own["best_score"], where="post", linewidth=1.2, alpha=0.85,
            color=colours(k % colours.N), label=name if k < MAX_LEGEND_ISLANDS else None,
        )  # fmt: skip
    ax.step(
        best["elapsed_s"] / scale, best["best_score"], where="post", linewidth=2.2, linestyle="--",
        color=COLOURS["ink"], label="best of all islands",
    )  # fmt: skip
    low, high = float(steps["best_score"].min()), float(steps["best_score"].max())
    if low > 0 and high / low > 50:
        ax.set_yscale("log")
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(_plain_number))
    ax.set_xlabel(f"elapsed ({unit})")
    ax.set_ylabel("best score (weighted sum, lower is better)")
    more = len(islands) - MAX_LEGEND_ISLANDS
    ax.set_title(plural(len(islands), "island") + (f" ({more} not in the legend)" if more > 0 else ""))
    ax.legend(loc="upper right", ncols=2 if len(islands) > 6 else 1)
    return fig
