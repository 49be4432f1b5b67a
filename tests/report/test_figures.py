"""Each figure draws what it is given: panels, marks and values checked on the artists."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from cluster_opt.report import aggregate, figures


def _visible(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def test_heatmap_panels_hold_rack_utilisation(full_data):
    c = full_data.cluster
    fig = figures.utilisation_heatmap(c, full_data.before, full_data.after)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 4  # (cpu, mem_gb) x (before, after); the fifth axes is the colour bar
    assert len(fig.axes) == 5
    row, col, n_cols = aggregate.rack_grid(c)
    for ax, (res, x) in zip(
        panels,
        [
            ("cpu", full_data.before),
            ("cpu", full_data.after),
            ("mem_gb", full_data.before),
            ("mem_gb", full_data.after),
        ],
        strict=True,
    ):
        util = aggregate.rack_utilisation(c, x, c.resource_index(res))
        expected = aggregate.to_grid(util * 100, row, col, len(c.topology.zones), n_cols)
        np.testing.assert_allclose(ax.images[0].get_array().filled(np.nan), expected)
        assert ax.get_title(loc="left").startswith(res)
    assert "before" in panels[0].get_title(loc="left") and "after" in panels[1].get_title(loc="left")
    assert [t.get_text() for t in panels[0].get_yticklabels()] == list(c.topology.zones)


def test_heatmap_with_only_the_before_placement(small_cluster):
    fig = figures.utilisation_heatmap(small_cluster, small_cluster.current_assignment())
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.images]
    assert len(titles) == 2 and all("before" in t for t in titles)


def test_heatmap_title_counts_empty_racks(small_cluster):
    x = np.full(small_cluster.n_vms, -1, dtype=np.int32)  # nothing placed: every rack empty
    fig = figures.utilisation_heatmap(small_cluster, x, resources=["cpu"])
    k = len(small_cluster.topology.racks)
    assert fig.axes[0].get_title(loc="left") == f"cpu, before: 0 % used, {k} of {k} racks empty"


def _offsets(collection):
    return np.asarray(collection.get_offsets())


def test_pareto_projections_and_chosen_point(full_data):
    front = full_data.pareto
    names = ["hourly_cost", "migrations", "energy_watts"]
    fig = figures.pareto_figure(
        front, names, chosen=7, units={"hourly_cost": "$/h"}, reference={"hourly_cost": 1, "migrations": 2}
    )
    axes = _visible(fig)
    assert len(axes) == 3  # 3 objectives -> 3 pairs
    first = axes[0]
    assert first.get_xlabel() == "hourly_cost ($/h)" and first.get_ylabel() == "migrations"
    dots, star, ref = first.collections
    np.testing.assert_allclose(_offsets(dots), front[["hourly_cost", "migrations"]].to_numpy())
    np.testing.assert_allclose(_offsets(star), [front[["hourly_cost", "migrations"]].iloc[7]])
    np.testing.assert_allclose(_offsets(ref), [[1, 2]])
    assert len(axes[1].collections) == 2  # the reference lacks energy_watts: not drawn there
    assert {t.get_text() for t in fig.legends[0].get_texts()} == {
        f"Pareto front ({len(front)} solutions)",
        "chosen",
        "before (current placement)",
    }


@pytest.mark.parametrize(("k", "panels"), [(1, 1), (2, 1), (4, 6), (6, 6)])
def test_pareto_panel_count(k, panels):
    front = pd.DataFrame(np.random.default_rng(k).uniform(size=(20, k)), columns=[f"f{i}" for i in range(k)])
    fig = figures.pareto_figure(front, list(front.columns))
    assert len(_visible(fig)) == panels


def test_large_front_is_rasterised():
    front = pd.DataFrame(
        np.random.default_rng(0).uniform(size=(figures.RASTER_POINTS + 1, 2)), columns=["a", "b"]
    )
    fig = figures.pareto_figure(front, ["a", "b"])
    assert fig.axes[0].collections[0].get_rasterized()


def test_waves_bars_heights_and_labels(full_data):
    moves = full_data.moves
    fig = figures.waves_figure(moves)
    bars_ax, flight_ax = fig.axes
    heights = [p.get_height() for p in bars_ax.patches]
    assert heights == moves.groupby("wave").size().tolist()
    assert sum(heights) == len(moves)
    labels = [t.get_text() for t in bars_ax.texts]
    assert labels[0] == f"w0: {heights[0]:,}"
    assert bars_ax.get_title(loc="left").startswith(f"{len(moves):,} migrations in {len(heights)} waves")
    assert flight_ax.get_xlabel().startswith("time since the plan starts (")


def test_many_waves_are_not_labelled():
    n = figures.MAX_LABELLED_WAVES + 1
    moves = pd.DataFrame(
        {"wave": np.arange(n), "start_s": np.arange(n) * 10.0, "seconds": 5.0, "vm": np.arange(n)}
    )
    bars_ax = figures.waves_figure(moves).axes[0]
    assert len(bars_ax.patches) == n and not bars_ax.texts


def test_islands_lines_and_best(full_data):
    progress = full_data.islands
    fig = figures.islands_figure(progress)
    ax = fig.axes[0]
    n_islands = progress["island"].nunique()
    assert len(ax.lines) == n_islands + 1
    best = ax.lines[-1]
    assert best.get_linestyle() == "--"
    assert best.get_ydata()[-1] == pytest.approx(progress["best_score"].min())
    assert ax.get_title(loc="left") == f"{n_islands} islands"


def test_islands_legend_names_each_series_once():
    """Numbered islands read "island N"; the engine's series are already named."""
    rows = [(0, 1.0, 5.0), (1, 1.0, 4.0), ("island 2 (anneal)", 2.0, 3.0)]
    progress = pd.DataFrame(rows, columns=["island", "elapsed_s", "best_score"])
    legend = figures.islands_figure(progress).axes[0].get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == ["island 0", "island 1", "island 2 (anneal)", "best of all islands"]


def test_plural():
    assert figures.plural(1, "wave") == "1 wave"
    assert figures.plural(0, "wave") == "0 waves" and figures.plural(1200, "wave") == "1,200 waves"


def test_islands_log_scale_for_wide_score_ranges():
    progress = pd.DataFrame({"island": [0, 0], "elapsed_s": [0.0, 10.0], "best_score": [1e7, 1e3]})
    assert figures.islands_figure(progress).axes[0].get_yscale() == "log"


def test_to_svg_is_inline_and_namespaced(full_data):
    fig = figures.islands_figure(full_data.islands)
    svg = figures.to_svg(fig, salt="islands")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<metadata" not in svg and "<?xml" not in svg
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and all(i.startswith("islands-") for i in ids)
    refs = re.findall(r'(?:href="#|url\(#)([^")]+)', svg)
    assert refs and set(refs) <= set(ids)
    assert svg == figures.to_svg(fig, salt="islands")  # deterministic
