"""spot_mixing: values on hand-built clusters (arithmetic in the comments) and its lower bound.

Host ``hN`` is host index N, VM ``vN`` VM index N; unlisted columns as in builders.py
(hosts cpu 16, mem_gb 64, active; VMs cpu 1, mem_gb 1, on-demand, pending).
"""

from __future__ import annotations

import numpy as np
import pytest

from cluster_opt.evaluate import EvaluationConfig, Evaluator, Problem, evaluate
from cluster_opt.evaluate.terms.spot import spot_mixing_bound

from .builders import tiny_cluster
from .test_term_tables import check

SPOT = {"pricing": "spot"}
# v0, v1 spot; v2 on-demand; v3 reserved; v4 spot
MIX = tiny_cluster([{}, {}, {}, {"state": "maintenance"}], [SPOT, SPOT, {}, {"pricing": "reserved"}, SPOT])


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ([0, 0, 1, 1, 2], 0.0),  # h0 spot+spot, h1 on-demand+reserved, h2 spot: none mixed
        ([0, 1, 1, 2, 0], 1.0),  # h1 spot v1 + on-demand v2 -> 1; h0 spot only, h2 reserved only
        ([0, 1, 0, 1, 2], 2.0),  # h0 v0 spot + v2; h1 v1 spot + v3 reserved -> 2
        ([0, 0, 0, 0, 0], 1.0),  # everything on h0: one mixed host
        ([0, -1, 0, -1, -1], 1.0),  # unplaced VMs count nowhere: h0 v0 spot + v2 -> 1
        ([0, -1, -1, -1, 0], 0.0),  # h0 two spot VMs, the others unplaced
        ([3, 2, 3, 2, 1], 2.0),  # a host in maintenance counts like any other: h3 (v0, v2), h2 (v1, v3)
        ([-1, -1, -1, -1, -1], 0.0),
    ],
)
def test_spot_mixing(x, expected):
    check(MIX, x, "spot_mixing", expected)


def test_spot_mixing_details_and_batch():
    problem = Problem(MIX)
    e = evaluate(problem, [0, 1, 0, 1, 2])
    assert e.details["spot_mixing"] == {"hosts": ["h0", "h1"]}
    assert "spot_mixing" not in evaluate(problem, [0, 0, 1, 1, 2]).details  # empty details are left out
    pop = np.array([[0, 0, 1, 1, 2], [0, 1, 1, 2, 0], [0, 1, 0, 1, 2]], dtype=np.int32)
    assert Evaluator(problem).batch(pop).values["spot_mixing"].tolist() == [0.0, 1.0, 2.0]


def test_spot_mixing_is_off_by_default_and_weighted_per_host():
    # default weight 0: the score does not see it; weight 0.05 adds 0.05 per mixed host
    x = np.array([0, 1, 0, 1, 2])
    off = evaluate(Problem(MIX), x)
    on = evaluate(Problem(MIX, EvaluationConfig(terms={"spot_mixing": {"weight": 0.05}})), x)
    assert off.weights["spot_mixing"] == 0.0
    assert on.score == pytest.approx(off.score + 2 * 0.05, rel=1e-12)


# --- lower bound -----------------------------------------------------------------------------
def test_bound_zero_without_both_kinds():
    assert spot_mixing_bound(tiny_cluster([{}], [SPOT, SPOT])) == 0  # spot only
    assert spot_mixing_bound(tiny_cluster([{}], [{}, {"pricing": "reserved"}])) == 0  # no spot


def test_bound_from_capacity():
    # 3 usable hosts of cpu 16 (the big one in maintenance is ignored). Spot cpu 10 + 10 = 20
    # > 16 -> a = 2 hosts; on-demand cpu 12 + 6 = 18 > 16 -> b = 2. A host that is not mixed
    # serves one side only, so at least a + b - 3 = 1 host is mixed.
    c = tiny_cluster(
        [{}, {}, {}, {"cpu": 100, "state": "maintenance"}],
        [{"cpu": 10, **SPOT}, {"cpu": 10, **SPOT}, {"cpu": 12}, {"cpu": 6}],
    )
    assert spot_mixing_bound(c) == 1
    assert Evaluator(Problem(c)).lower_bounds["spot_mixing"] == 1.0
    # reached: h0 v0 spot 10 + v3 6 = 16 (mixed), h1 v2 12, h2 v1 spot 10
    e = evaluate(Problem(c), [0, 2, 1, 0])
    assert e.feasible and e.values["spot_mixing"] == 1.0


def test_bound_partial_hosts_force_nothing():
    # spot cpu 4 fills a quarter of a host, but it may have h1 to itself: bound 0 (a + b - U
    # = 1 + 1 - 2 = 0), and that placement has no mixed host.
    c = tiny_cluster([{}, {}], [{"cpu": 4, **SPOT}, {"cpu": 10}])
    assert spot_mixing_bound(c) == 0
    assert evaluate(Problem(c), [1, 0]).values["spot_mixing"] == 0.0


def test_bound_from_mixed_affinity_groups():
    # two groups holding a spot and an on-demand VM each, cpu 6 + 6 = 12 per group -> 24 in
    # all; hosts of cpu 16 -> the mixed hosts cover 24: at least 2. Capacity alone: spot 12
    # -> 1 host, others 12 -> 1 host, 1 + 1 - 4 < 0. The pure-spot group "s" forces nothing.
    pair = [{"cpu": 6, "affinity_group": "a", **SPOT}, {"cpu": 6, "affinity_group": "a"}]
    pair2 = [{"cpu": 6, "affinity_group": "b", **SPOT}, {"cpu": 6, "affinity_group": "b"}]
    only = [{"cpu": 1, "affinity_group": "s", **SPOT}] * 2
    c = tiny_cluster([{}] * 4, [*pair, *pair2, *only])
    assert spot_mixing_bound(c) == 2
    e = evaluate(Problem(c), [0, 0, 1, 1, 2, 2])
    assert e.feasible and e.values["spot_mixing"] == 2.0
    # one small mixed group: at least 1 even though its demand fits anywhere
    small = tiny_cluster([{}] * 3, [{"affinity_group": "a", **SPOT}, {"affinity_group": "a"}])
    assert spot_mixing_bound(small) == 1


def test_bound_without_usable_hosts():
    # only a host in maintenance: no assignment places every VM feasibly, the bound stays 0
    assert spot_mixing_bound(tiny_cluster([{"state": "maintenance"}], [SPOT, {}])) == 0
