"""The reductions behind the figures, on hand-computed tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evaluate.builders import tiny_cluster

from cluster_opt.report import aggregate


@pytest.fixture
def racks():
    # zone z1: racks k1 (h0, h1) and k2 (h2); zone z2: rack k3 (h3); 16 vCPU each
    hosts = [{"rack": "k1"}, {"rack": "k1"}, {"rack": "k2"}, {"zone": "z2", "rack": "k3"}]
    vms = [{"cpu": 8, "host": 0}, {"cpu": 4, "host": 1}, {"cpu": 2, "host": 2}, {"cpu": 6}]  # v3 pending
    return tiny_cluster(hosts, vms)


def test_rack_utilisation_is_rack_load_over_rack_capacity(racks):
    x = racks.current_assignment()
    cpu = aggregate.rack_utilisation(racks, x, racks.resource_index("cpu"))
    # k1: (8 + 4) / 32; k2: 2 / 16; k3: nothing placed; the pending VM counts nowhere
    np.testing.assert_allclose(cpu, [12 / 32, 2 / 16, 0.0])
    moved = x.copy()
    moved[2] = 3  # v2 to h3 in rack k3
    np.testing.assert_allclose(aggregate.rack_utilisation(racks, moved, 0), [12 / 32, 0.0, 2 / 16])


def test_rack_without_capacity_is_nan(racks):
    gpus = aggregate.rack_utilisation(racks, racks.current_assignment(), racks.resource_index("gpus"))
    assert np.isnan(gpus).all()


def test_rack_grid_puts_racks_in_their_zone_row(racks):
    assert racks.topology.racks == ("r1/z1/k1", "r1/z1/k2", "r1/z2/k3")
    row, col, n_cols = aggregate.rack_grid(racks)
    assert row.tolist() == [0, 0, 1] and col.tolist() == [0, 1, 0] and n_cols == 2
    grid = aggregate.to_grid(np.array([0.5, 0.25, 1.0]), row, col, 2, n_cols)
    np.testing.assert_array_equal(grid, [[0.5, 0.25], [1.0, np.nan]])


MOVES = pd.DataFrame(
    {
        "wave": [0, 0, 0, 1, 1],
        "start_s": [0.0, 5.0, 10.0, 30.0, 30.0],
        "seconds": [10.0, 10.0, 10.0, 5.0, 8.0],
        "vm": ["a", "b", "c", "d", "e"],
    }
)


def test_wave_spans():
    spans = aggregate.wave_spans(MOVES)
    assert spans.to_dict("list") == {
        "wave": [0, 1],
        "start_s": [0.0, 30.0],
        "end_s": [20.0, 38.0],  # wave 0 ends with c (10 + 10); wave 1 with e (30 + 8)
        "moves": [3, 2],
    }


def test_concurrency_counts_moves_in_flight():
    t, n = aggregate.concurrency(MOVES)
    # a [0,10) b [5,15) c [10,20): at 10 a ends as c starts -> still 2; d, e both start at 30
    assert t.tolist() == [0, 5, 10, 15, 20, 30, 35, 38]
    assert n.tolist() == [1, 2, 2, 1, 0, 2, 1, 0]


def test_concurrency_reduction_keeps_the_peak():
    rng = np.random.default_rng(1)
    start = rng.uniform(0, 1000, 5000)
    moves = pd.DataFrame({"wave": 0, "start_s": start, "seconds": rng.uniform(1, 20, 5000), "vm": 0})
    t_full, n_full = aggregate.concurrency(moves, max_points=10**6)
    t, n = aggregate.concurrency(moves, max_points=100)
    assert len(t) <= 101 and np.all(np.diff(t) > 0)
    assert n.max() == n_full.max() and n[-1] == 0 and t[-1] == t_full[-1]


def test_improvements_keep_change_points_and_the_end():
    progress = pd.DataFrame(
        {
            "island": [0, 0, 0, 0, 0, 1, 1],
            "elapsed_s": [0, 1, 2, 3, 4, 0, 2],
            "best_score": [10, 10, 8, 8, 9, 12, 7],  # 9 is noise: the best so far stays 8
        }
    )
    steps = aggregate.improvements(progress)
    assert steps.to_dict("list") == {
        "island": [0, 0, 0, 1, 1],
        "elapsed_s": [0, 2, 4, 0, 2],
        "best_score": [10, 8, 8, 12, 7],
    }
    best = aggregate.overall_best(progress)
    # time-ordered: 10 (t0, island 0; island 1's 12 is worse), 8 (t2), 7 (t2, island 1), end t4
    assert best["best_score"].tolist() == [10, 8, 7, 7]
    assert best["elapsed_s"].tolist() == [0, 2, 2, 4]


@pytest.mark.parametrize(("seconds", "unit"), [(30, "s"), (119, "s"), (600, "min"), (7200, "h")])
def test_time_unit(seconds, unit):
    assert aggregate.time_unit(seconds)[1] == unit
