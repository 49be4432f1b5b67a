"""Lower bounds: hand-computed cases, and bound <= optimum on random tiny instances."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from cluster_opt.evaluate import Evaluator, Problem
from cluster_opt.evaluate.bounds import (
    active_hosts_bound,
    dynamic_watts_per_unit,
    energy_bound,
    forced_moves,
    fractional_cover_cost,
    min_hosts_to_cover,
    pinned_hosts,
)

from .builders import tiny_cluster
from .reference import hard_feasible, reference_values
from .strategies import build_cluster, specs

# --- min_hosts_to_cover -------------------------------------------------------------------
CAP = np.array([[10.0, 4.0], [6.0, 8.0], [4.0, 8.0]])


@pytest.mark.parametrize(
    ("demand", "expected"),
    [
        ([12, 9], 2),  # cpu 10+6 = 16 >= 12 -> 2; mem 8+8 = 16 >= 9 -> 2
        ([20, 4], 3),  # cpu 10+6+4 = 20 -> 3; mem 8 >= 4 -> 1
        ([16, 0], 2),  # exactly 10+6 -> 2 (no float slack needed to reach it)
        ([10, 16], 2),  # cpu 1, mem 8+8 -> 2
        ([21, 0], 3),  # cannot be covered: all 3 candidates
        ([0, 0], 0),
    ],
)
def test_min_hosts_to_cover(demand, expected):
    assert min_hosts_to_cover(CAP, np.array(demand, dtype=float)) == expected


def test_min_hosts_to_cover_float_noise():
    # 0.1 * 3 = 0.30000000000000004 > 0.3 by 1 ulp: still one host of capacity 0.3
    assert min_hosts_to_cover(np.array([[0.3], [0.3]]), np.array([0.1 + 0.1 + 0.1])) == 1


def test_min_hosts_to_cover_no_candidates():
    assert min_hosts_to_cover(np.zeros((0, 2)), np.array([1.0, 1.0])) == 0


# --- fractional_cover_cost ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("cost", "cap", "demand", "expected"),
    [
        # $/unit: 4/8 = .5, 3/4 = .75, 10/10 = 1 -> all of h0 (8 units, 4) + 2/4 of h1 (1.5)
        ([4, 3, 10], [8, 4, 10], 10, 5.5),
        ([4, 3, 10], [8, 4, 10], 6, 3.0),  # 6/8 of h0
        ([4, 3, 10], [8, 4, 10], 22, 17.0),  # everything
        ([4, 3, 10], [8, 4, 10], 23, math.inf),  # cannot be covered
        ([4, 3, 10], [8, 4, 10], 0, 0.0),
        ([0, 5], [0, 10], 5, 2.5),  # a host without capacity is skipped even if free
        ([0, 5], [4, 10], 5, 0.5),  # free host first (4 units, $0), then 1/10 of h1
    ],
)
def test_fractional_cover_cost(cost, cap, demand, expected):
    got = fractional_cover_cost(np.array(cost, float), np.array(cap, float), float(demand))
    assert got == pytest.approx(expected, rel=1e-12)


# --- dynamic_watts_per_unit, energy_bound --------------------------------------------------
LINEAR = np.linspace(100, 200, 11)  # 100 W idle, 200 W at full load
CONCAVE = np.array([100, 200, 210, 220, 230, 240, 250, 260, 270, 280, 290], dtype=float)


def test_dynamic_watts_per_unit():
    # linear: (P(k/10) - P(0)) / (k/10) = 100 W per unit of utilisation / 10 cpu = 10 W/cpu.
    # concave: (90 + 10k) / (k/10) = 100 + 900/k is least at k = 10: 190 W / 10 cpu = 19.
    # no capacity: 0
    got = dynamic_watts_per_unit(np.vstack([LINEAR, CONCAVE, LINEAR]), np.array([10.0, 10.0, 0.0]))
    assert got == pytest.approx([10.0, 19.0, 0.0], rel=1e-12)


def _power_cluster(hosts, vms, curves=None):
    return tiny_cluster(hosts, vms, curves=curves)


def test_energy_bound_one_host():
    # h0: linear 100 -> 200 W, cpu 10, mem 100; v0 cpu 5, mem 10. 10 W/cpu.
    # (a) cover cpu at (100 + 10*10) = 200 W per host of 10 cpu: 200 * 5/10 = 100
    # (b) idle cover: cpu 100 * 5/10 = 50, mem 100 * 10/100 = 10 -> 50; + 10 W/cpu * 5 = 100
    # -> 100. Actual at u = 0.5: 150 W.
    c = _power_cluster([{"cpu": 10, "mem_gb": 100}], [{"cpu": 5, "mem_gb": 10}])
    assert energy_bound(c, 0) == pytest.approx(100.0, rel=1e-12)


def test_energy_bound_memory_bound_is_tight():
    # h0 cpu 10, mem 10; v0 cpu 1, mem 10: (a) 200 * 1/10 = 20; (b) idle cover by mem
    # 100 * 10/10 = 100 + 10 W/cpu * 1 = 110 -> 110 = the actual 100 + 0.1*100.
    c = _power_cluster([{"cpu": 10, "mem_gb": 10}], [{"cpu": 1, "mem_gb": 10}])
    assert energy_bound(c, 0) == pytest.approx(110.0, rel=1e-12)
    assert Evaluator(Problem(c)).lower_bounds["energy_watts"] == pytest.approx(110.0, rel=1e-12)


def test_energy_bound_concave_curve():
    # 19 W/cpu (see above); v0 cpu 5: (a) (100 + 190) * 5/10 = 145; (b) 50 + 19*5 = 145.
    # Actual at u = 0.5: p50 = 240 W.
    c = _power_cluster(
        [{"cpu": 10, "mem_gb": 100, "power_curve": "concave"}],
        [{"cpu": 5, "mem_gb": 1}],
        {"concave": CONCAVE},
    )
    assert energy_bound(c, 0) == pytest.approx(145.0, rel=1e-12)


def test_energy_bound_two_hosts():
    # h0 linear 100 -> 200 (10 W/cpu), h1 linear 50 -> 250 (20 W/cpu), cpu 10 each; two VMs
    # of cpu 6 (12 in all). (a) $/cpu: h0 (100+100)/10 = 20, h1 (50+200)/10 = 25 -> all of h0
    # (200) + 2/10 of h1 (50) = 250. (b) idle cover cpu: h1 (5/cpu) all 50 + h0 2/10 * 100 =
    # 70; + min 10 W/cpu * 12 = 120 -> 190. Bound 250; actual (one VM per host) 160 + 170 = 330.
    c = _power_cluster(
        [{"cpu": 10}, {"cpu": 10, "idle_watts": 50, "peak_watts": 250}], [{"cpu": 6}, {"cpu": 6}]
    )
    assert energy_bound(c, 0) == pytest.approx(250.0, rel=1e-12)


def test_energy_bound_ignores_unusable_hosts_and_survives_no_cpu():
    # the only active host has no cpu (the VM fits the host in maintenance): no bound (0),
    # and no crash when taking the least W/cpu over an empty set
    c = _power_cluster([{"cpu": 0}, {"cpu": 4, "state": "maintenance"}], [{"cpu": 1}])
    assert energy_bound(c, 0) == 0.0
    assert Evaluator(Problem(c)).lower_bounds["energy_watts"] == 0.0


# --- active_hosts_bound -------------------------------------------------------------------
def test_active_hosts_bound_gpu_refinement():
    # usable: h0, h1 model A (cpu 16, 4 GPUs); h2 no GPU (cpu 64); h3 model B (cpu 16, 2 GPUs);
    # h4 model A in maintenance (huge, ignored). v0, v1 need A (cpu 12, 1 GPU each), v2 needs
    # B (cpu 4), v3 anything (cpu 2).
    # All VMs: cpu 30 <= 64 -> 1; gpus 3 <= 4 -> 1; mem 4 -> 1: bound 1.
    # Per model: A cpu 24 > 16 -> 2 hosts; B -> 1: 2 + 1 = 3 -> bound max(1, 3) = 3,
    # reached by v0 -> h0, v1 -> h1, v2 -> h3, v3 -> h0.
    c = tiny_cluster(
        [
            {"cpu": 16, "gpus": 4, "gpu_model": "A"},
            {"cpu": 16, "gpus": 4, "gpu_model": "A"},
            {"cpu": 64, "mem_gb": 256},
            {"cpu": 16, "gpus": 2, "gpu_model": "B"},
            {"cpu": 1000, "gpus": 100, "gpu_model": "A", "state": "maintenance"},
        ],
        [
            {"cpu": 12, "gpus": 1, "gpu_model": "A"},
            {"cpu": 12, "gpus": 1, "gpu_model": "A"},
            {"cpu": 4, "gpus": 1, "gpu_model": "B"},
            {"cpu": 2},
        ],
    )
    assert active_hosts_bound(c) == 3
    p = Problem(c)
    assert Evaluator(p).lower_bounds["active_hosts"] == 3
    values = reference_values(c, [0, 1, 3, 0])
    assert hard_feasible(values) and values["active_hosts"] == 3


def test_active_hosts_bound_without_gpus():
    # 3 usable hosts cpu 16; VMs cpu 10 + 10 + 10 = 30 -> 2 (16 + 16 = 32 >= 30)
    c = tiny_cluster([{}, {}, {}, {"cpu": 100, "state": "off"}], [{"cpu": 10}] * 3)
    assert active_hosts_bound(c) == 2


def test_bounds_count_hosts_with_pinned_vms_as_on():
    # 3 hosts cpu 10 (linear 100 -> 200 W, 10 W/cpu); v0, v1 (cpu 1) pinned on h0 and h1,
    # v2 cpu 6 free. Volume alone: cpu 8 <= 10 -> 1 host, energy 20 W/cpu * 8 = 160.
    # h0, h1 stay on: 2 hosts (cpu 20 >= 8, nothing left to cover); energy: their idle
    # 200 W + 10 W/cpu * 8 = 280 = the actual v2 -> h0: 100 + 70 + 100 + 10.
    c = tiny_cluster(
        [{"cpu": 10, "mem_gb": 100}] * 3,
        [
            {"cpu": 1, "mem_gb": 1, "host": 0, "migratable": False},
            {"cpu": 1, "mem_gb": 1, "host": 1, "migratable": False},
            {"cpu": 6, "mem_gb": 1},
        ],
    )
    assert pinned_hosts(c).tolist() == [True, True, False]
    assert active_hosts_bound(c) == 2
    assert energy_bound(c, 0) == pytest.approx(280.0, rel=1e-12)
    values = reference_values(c, [0, 1, 0])
    assert hard_feasible(values)
    assert (values["active_hosts"], values["energy_watts"]) == (2, pytest.approx(280.0, rel=1e-12))


def test_pinned_hosts_skip_unusable_hosts_and_pending_vms():
    c = tiny_cluster(
        [{}, {"state": "maintenance"}, {}],
        [{"host": 1, "migratable": False}, {"migratable": False}, {"host": 2}],
    )
    assert pinned_hosts(c).tolist() == [False, False, False]


# --- forced_moves, migrations -----------------------------------------------------------
def test_forced_moves_and_migration_bounds():
    # v1 on maintenance h1 (8 GB), v2 on failed h2 (16 GB), v4 on off h3 (2 GB) must move;
    # v0 stays on active h0, v3 is pending. Bounds: 3 migrations, 8 + 16 + 2 = 26 GB.
    c = tiny_cluster(
        [{}, {"state": "maintenance"}, {"state": "failed"}, {"state": "off"}],
        [{"host": 0}, {"host": 1, "mem_gb": 8}, {"host": 2, "mem_gb": 16}, {}, {"host": 3, "mem_gb": 2}],
    )
    assert forced_moves(c).tolist() == [False, True, True, False, True]
    lbs = Evaluator(Problem(c)).lower_bounds
    assert lbs["migrations"] == 3
    assert lbs["migration_gb"] == 26


# --- hourly_cost and latency bounds ---------------------------------------------------------
def test_hourly_cost_bound():
    # h0 z1 (host:* 0.5 $/h, cpu 16); h1 z2 type big (0.8 $/h, cpu 32); h2 z2 type cheap in
    # maintenance (0.01 $/h, cpu 1000: ignored). cpu on-demand: z1 .04, z2 .03.
    # VMs: v0 cpu 4 -> min(.16, .12) = .12; v1 cpu 20 -> min(.8, .6) = .6 -> .72.
    # Hosts: cpu 24: $/cpu h0 .5/16 = .03125, h1 .8/32 = .025 -> 24/32 of h1 = .6; mem 2:
    # $/GB h0 .5/64 < h1 .8/64 -> 2/64 of h0 = .015625. max -> .6. Bound 1.32.
    # Best placement: both on h1 -> .12 + .6 + .8 = 1.52.
    c = tiny_cluster(
        [
            {"zone": "z1"},
            {"zone": "z2", "type": "big", "cpu": 32},
            {"zone": "z2", "type": "cheap", "cpu": 1000, "state": "maintenance"},
        ],
        [{"cpu": 4}, {"cpu": 20}],
        prices=[
            ("r1", "z1", "cpu", 0.04, 0.04, 0.04),
            ("r1", "z2", "cpu", 0.03, 0.03, 0.03),
            ("r1", "z1", "host:*", 0.5, None, None),
            ("r1", "z2", "host:big", 0.8, None, None),
            ("r1", "z2", "host:cheap", 0.01, None, None),
        ],
    )
    ev = Evaluator(Problem(c))
    assert ev.lower_bounds["hourly_cost"] == pytest.approx(1.32, rel=1e-12)
    assert ev.one(np.array([1, 1])).values["hourly_cost"] == pytest.approx(1.52, rel=1e-12)


def test_latency_bound():
    # usable hosts only in us (the eu host is in maintenance). v0 users in eu (eu->us 90),
    # v1 users in us (0), v2 none: bound (90 + 0) / 2 = 45.
    c = tiny_cluster(
        [{"region": "us"}, {"region": "eu", "state": "maintenance"}],
        [{"user_region": "eu"}, {"user_region": "us"}, {}],
        latency=[("us", "eu", 80), ("eu", "us", 90)],
    )
    lbs = Evaluator(Problem(c)).lower_bounds
    assert lbs["latency_ms"] == pytest.approx(45.0, rel=1e-12)
    assert lbs["imbalance"] == 0.0


# --- bound <= optimum on random tiny instances -----------------------------------------------
CONSTRAINTS = ("capacity", "anti_affinity", "affinity", "gpu_model", "host_state", "unmigratable", "unplaced")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs(planted=True, max_hosts=4, max_vms=5))
def test_bounds_below_the_best_feasible_assignment(spec):
    """Every objective's bound is <= its least value over all feasible assignments, found by
    enumerating all H^V placements; the planted assignment is feasible by construction."""
    c = build_cluster(spec)
    assert hard_feasible(reference_values(c, spec.homes))
    ev = Evaluator(Problem(c))
    pop = np.array(list(itertools.product(range(c.n_hosts), repeat=c.n_vms)), dtype=np.int32)
    batch = ev.batch(pop)
    ok = np.logical_and.reduce([batch.values[n] <= 1e-9 for n in CONSTRAINTS])
    assert ok.any()
    assert set(ev.lower_bounds) == {t.name for t in ev.problem.terms if t.kind == "objective"}
    for name, bound in ev.lower_bounds.items():
        best = float(batch.values[name][ok].min())
        assert math.isfinite(bound) and bound >= 0
        assert bound <= best + 1e-9 * max(1.0, best), f"{name}: bound {bound} > best feasible {best}"
    # and the raw helpers on the same instance
    best_active = float(batch.values["active_hosts"][ok].min())
    assert active_hosts_bound(c) <= best_active
    assert forced_moves(c).sum() <= float(batch.values["migrations"][ok].min())
