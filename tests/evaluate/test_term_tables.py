"""Unit tables: every term on tiny hand-built clusters, the arithmetic in the comments.

Each row is checked against the evaluator (``evaluate``) and against the reference checker,
so the tables pin both. Host ``hN`` is host index N and VM ``vN`` is VM index N (see
builders.py); unlisted host columns are cpu 16, mem_gb 64, linear power 100 -> 200 W, zone
r1/z1, rack k1, active; unlisted VM columns are cpu 1, mem_gb 1, pending.
"""

from __future__ import annotations

import math

import pytest

from cluster_opt.evaluate import EvaluationConfig, Problem, evaluate

from .builders import tiny_cluster
from .reference import reference_values


def check(cluster, x, term, expected, config=None, rel=1e-12):
    """The evaluator's and the reference's value of ``term`` both equal ``expected``."""
    config = config or EvaluationConfig()
    got = evaluate(Problem(cluster, config), x).values[term]
    ref = reference_values(cluster, x, config.imbalance_resources, config.power_resource)[term]
    assert math.isclose(got, expected, rel_tol=rel, abs_tol=1e-12), f"evaluator {term}: {got} != {expected}"
    assert math.isclose(ref, expected, rel_tol=rel, abs_tol=1e-12), f"reference {term}: {ref} != {expected}"


# --- capacity -----------------------------------------------------------------------------
# h0 cpu 16 mem 64, h1 cpu 32 mem 128 -> scale: cpu (16 + 32) / 2 = 24, mem (64 + 128) / 2 = 96;
# net/iops/gpus: no host has any -> scale 1. Slack = 1e-9 * max(cap, 1).
CAPACITY = tiny_cluster(
    [{"cpu": 16, "mem_gb": 64}, {"cpu": 32, "mem_gb": 128}],
    [{"cpu": 10, "mem_gb": 40}, {"cpu": 8, "mem_gb": 30}, {"cpu": 4, "mem_gb": 8}],
)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        # h0: cpu 10+8=18 > 16 -> (2 - 16e-9)/24; mem 40+30=70 > 64 -> (6 - 64e-9)/96
        ([0, 0, 1], (2 - 16e-9) / 24 + (6 - 64e-9) / 96),
        ([0, 0, -1], (2 - 16e-9) / 24 + (6 - 64e-9) / 96),  # unplaced v2 loads nothing
        ([0, 1, 1], 0.0),  # h0 10/40, h1 cpu 8+4=12 <= 32, mem 38 <= 128
        ([1, 1, 1], 0.0),  # h1 cpu 22 <= 32, mem 78 <= 128
        ([-1, -1, -1], 0.0),
    ],
)
def test_capacity(x, expected):
    check(CAPACITY, x, "capacity", expected)


def test_capacity_float_noise_is_within_the_slack():
    # 0.1 + 0.1 + 0.1 = 0.30000000000000004 > 0.3 by 5.6e-17 < slack 1e-9 * max(0.3, 1) -> 0
    c = tiny_cluster([{"cpu": 0.3}], [{"cpu": 0.1}] * 3)
    check(c, [0, 0, 0], "capacity", 0.0)


def test_capacity_on_a_resource_the_host_lacks():
    # h0 gpus 0, h1 gpus 2 -> gpus scale = 2 (mean of the positive capacities only);
    # v0 gpus 1 on h0: overload 1 - 1e-9 * max(0, 1) -> (1 - 1e-9) / 2
    c = tiny_cluster([{"gpus": 0}, {"gpus": 2}], [{"gpus": 1}])
    check(c, [0], "capacity", (1 - 1e-9) / 2)
    check(c, [1], "capacity", 0.0)


def test_capacity_counts_hosts_in_any_state():
    # h1 is in maintenance; its overload counts like any other: cpu 20 - 16 -> (4 - 16e-9)/16
    c = tiny_cluster([{}, {"state": "maintenance"}], [{"cpu": 10}, {"cpu": 10}])
    check(c, [1, 1], "capacity", (4 - 16e-9) / 16)


# --- anti_affinity ------------------------------------------------------------------------
# h0, h1: z1/k1; h2: z1/k2; h3: z2/k1 (a different rack from z1/k1 despite the name).
# web (v0-v2): host level, max 1; db (v3, v4): rack level, max 1; api (v5-v7): zone, max 2.
def _aa(group, level, limit):
    return {"anti_affinity_group": group, "spread_level": level, "max_per_domain": limit}


ANTI = tiny_cluster(
    [
        {"zone": "z1", "rack": "k1"},
        {"zone": "z1", "rack": "k1"},
        {"zone": "z1", "rack": "k2"},
        {"zone": "z2", "rack": "k1"},
    ],
    [_aa("web", "host", 1)] * 3 + [_aa("db", "rack", 1)] * 2 + [_aa("api", "zone", 2)] * 3 + [{}],
)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        # web on h0,h1,h2; db racks z1/k1, z1/k2; api zones z1,z1,z2 (2 <= 2) -> 0
        ([0, 1, 2, 0, 2, 0, 1, 3, 0], 0),
        # web 3 on h0 -> 3-1=2; db both in z1/k1 -> 2-1=1; api 3 in z1 -> 3-2=1; total 4
        ([0, 0, 0, 0, 1, 0, 1, 2, 0], 4),
        # web h0,h0 + unplaced -> 1; db z1/k1 vs z2/k1 -> 0; api 3 in z2 -> 1; total 2
        ([0, 0, -1, 1, 3, 3, 3, 3, 0], 2),
        ([-1] * 9, 0),
    ],
)
def test_anti_affinity(x, expected):
    check(ANTI, x, "anti_affinity", expected)


# --- affinity -----------------------------------------------------------------------------
# pair: v0, v1, v2; duo: v3, v4; v5 in no group. Value = sum over groups (hosts used - 1).
AFFINITY = tiny_cluster(
    [{}, {}, {}],
    [{"affinity_group": "pair"}] * 3 + [{"affinity_group": "duo"}] * 2 + [{}],
)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ([0, 0, 0, 1, 1, 2], 0),  # each group on one host
        ([0, 1, 1, 1, 2, 0], 2),  # pair {h0, h1} -> 1; duo {h1, h2} -> 1
        ([0, 1, 2, -1, 2, 0], 2),  # pair {h0, h1, h2} -> 2; duo: only v4 placed -> 0
        ([-1, -1, 0, 0, 0, 1], 0),  # pair: only v2 placed; duo together
    ],
)
def test_affinity(x, expected):
    check(AFFINITY, x, "affinity", expected)


# --- gpu_model ----------------------------------------------------------------------------
# h0 model A (4 GPUs), h1 model B (4 GPUs), h2 no GPUs.
# v0 needs A, v1 any model (1 GPU), v2 needs B, v3 no GPU.
GPU = tiny_cluster(
    [{"gpus": 4, "gpu_model": "A"}, {"gpus": 4, "gpu_model": "B"}, {"gpus": 0}],
    [{"gpus": 1, "gpu_model": "A"}, {"gpus": 1}, {"gpus": 1, "gpu_model": "B"}, {}],
)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ([0, 0, 1, 2], 0),  # v0 on A, v1 (any) on A, v2 on B
        ([0, 0, 0, 0], 1),  # v2 on A
        ([2, 2, 2, 2], 2),  # v0, v2 on a host without a model (v1's GPU is capacity's business)
        ([1, -1, 0, 1], 2),  # v0 on B, v2 on A
        ([-1, 1, -1, 0], 0),  # unplaced VMs do not count
    ],
)
def test_gpu_model(x, expected):
    check(GPU, x, "gpu_model", expected)


# --- host_state ---------------------------------------------------------------------------
STATES = tiny_cluster(
    [{"state": "active"}, {"state": "maintenance"}, {"state": "failed"}, {"state": "off"}],
    [{}, {}, {}, {}],
)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ([0, 1, 2, 3], 3),  # v1 maintenance, v2 failed, v3 off
        ([0, 0, 0, -1], 0),
        ([3, 3, -1, 1], 3),
    ],
)
def test_host_state(x, expected):
    check(STATES, x, "host_state", expected)


# --- unmigratable, unplaced, migrations, migration_gb ----------------------------------------
# v0 pinned on h0, v1 pinned on h1, v2 migratable on h0, v3 pinned but pending.
PINNED = tiny_cluster(
    [{}, {}],
    [
        {"host": 0, "migratable": False},
        {"host": 1, "migratable": False},
        {"host": 0, "migratable": True},
        {"migratable": False},
    ],
)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ([0, 1, 0, -1], 0),  # the current placement
        ([0, -1, 1, 1], 1),  # v1 evicted; v2 moves but may; placing pending v3 is no move
        ([1, 0, 0, 0], 2),  # v0 and v1 moved
        ([-1, -1, -1, -1], 2),  # v0 and v1 evicted
    ],
)
def test_unmigratable(x, expected):
    check(PINNED, x, "unmigratable", expected)


@pytest.mark.parametrize(("x", "expected"), [([0, -1, -1, 1], 2), ([0, 1, 0, 1], 0), ([-1] * 4, 4)])
def test_unplaced(x, expected):
    check(PINNED, x, "unplaced", expected)


# v0 mem 8 on h0, v1 mem 16 on h1, v2 mem 4 pending, v3 mem 2.5 on h0; h2 in maintenance.
MOVES = tiny_cluster(
    [{}, {}, {"state": "maintenance"}],
    [{"mem_gb": 8, "host": 0}, {"mem_gb": 16, "host": 1}, {"mem_gb": 4}, {"mem_gb": 2.5, "host": 0}],
)


@pytest.mark.parametrize(
    ("x", "moves", "gb"),
    [
        ([0, 1, -1, 0], 0, 0.0),  # current placement
        ([1, 1, 0, 0], 1, 8.0),  # v0 moved (8 GB); placing pending v2 is not a migration
        ([-1, 0, -1, 2], 3, 26.5),  # v0 evicted 8 + v1 moved 16 + v3 moved 2.5 = 26.5
        ([0, 1, 2, 0], 0, 0.0),  # v2 placed (on a bad host: host_state's business)
    ],
)
def test_migrations_and_gb(x, moves, gb):
    check(MOVES, x, "migrations", moves)
    check(MOVES, x, "migration_gb", gb)


# --- active_hosts -------------------------------------------------------------------------
ACTIVE = tiny_cluster([{}, {}, {"state": "maintenance"}, {}], [{}, {}, {}])


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ([0, 0, 0], 1),
        ([0, 1, 2], 3),  # h2 is in maintenance but runs a VM, so it is powered
        ([-1, -1, -1], 0),
        ([3, -1, 3], 1),
    ],
)
def test_active_hosts(x, expected):
    check(ACTIVE, x, "active_hosts", expected)


# --- energy_watts -------------------------------------------------------------------------
# h0 linear 100 -> 200 W, cpu 16; h1 curve "step" cpu 10; h2 linear 50 -> 80 W, cpu 8.
STEP = [100, 150, 180, 200, 210, 220, 230, 240, 250, 260, 300]  # W at 0 %, 10 %, ... 100 %
ENERGY = tiny_cluster(
    [{"cpu": 16}, {"cpu": 10, "power_curve": "step"}, {"cpu": 8, "idle_watts": 50, "peak_watts": 80}],
    [{"cpu": 4}, {"cpu": 2.5}, {"cpu": 10}, {"cpu": 10}, {"cpu": 0}],
    curves={"step": STEP},
)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        # h0 u = 4/16 = 0.25 -> 100 + 0.25*100 = 125; h1 u = 2.5/10 = 0.25, halfway between
        # p20 = 180 and p30 = 200 -> 190; h2 has no VM -> 0. Total 315
        ([0, 1, -1, -1, -1], 315.0),
        ([0, 0, -1, -1, -1], 140.625),  # h0 u = 6.5/16 = 0.40625 -> 100 + 40.625
        ([-1, -1, 0, 0, -1], 200.0),  # h0 u = 20/16 > 1, clipped to 1 -> peak 200
        ([-1, -1, 1, -1, -1], 300.0),  # h1 u = 1 -> p100
        ([1, -1, -1, -1, -1], 210.0),  # h1 u = 0.4 -> p40 exactly
        ([-1, -1, -1, -1, 1], 100.0),  # h1 powered with 0 load -> p0 (idle)
        ([-1, 2, -1, -1, -1], 50 + 2.5 / 8 * 30),  # h2 u = 0.3125 -> 50 + 0.3125*30 = 59.375
        ([-1] * 5, 0.0),  # nothing powered
    ],
)
def test_energy_watts(x, expected):
    check(ENERGY, x, "energy_watts", expected)


def test_energy_watts_other_power_resource():
    # power_resource mem_gb: h0 mem 64, v0 mem 1 -> u = 1/64 -> 100 + 100/64 = 101.5625
    check(ENERGY, [0, -1, -1, -1, -1], "energy_watts", 101.5625, EvaluationConfig(power_resource="mem_gb"))


# --- hourly_cost --------------------------------------------------------------------------
# h0 r1/z1 type t1; h1 r1/z2 type t2; h2 r1/z2 type t1.
# Prices (on_demand, reserved, spot) per unit: z1 cpu .04/.025/.01, z1 mem .005/.003/.001,
# z2 cpu .05/.03/.02, z2 mem unpriced (0). Hosts: z1 host:* 0.5 $/h, z2 host:t2 0.8 $/h
# (t1 in z2 has no price -> 0).
COST = tiny_cluster(
    [{"zone": "z1", "type": "t1"}, {"zone": "z2", "type": "t2"}, {"zone": "z2", "type": "t1"}],
    [
        {"cpu": 2, "mem_gb": 8, "pricing": "on_demand"},
        {"cpu": 4, "mem_gb": 16, "pricing": "spot"},
        {"cpu": 1, "mem_gb": 4, "pricing": "reserved"},
    ],
    prices=[
        ("r1", "z1", "cpu", 0.04, 0.025, 0.01),
        ("r1", "z1", "mem_gb", 0.005, 0.003, 0.001),
        ("r1", "z2", "cpu", 0.05, 0.03, 0.02),
        ("r1", "z1", "host:*", 0.5, None, None),
        ("r1", "z2", "host:t2", 0.8, None, None),
    ],
)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        # v0 z1 on-demand 2*.04 + 8*.005 = .12; v1 z2 spot 4*.02 + 16*0 = .08;
        # v2 z1 reserved 1*.025 + 4*.003 = .037; hosts h0 .5 + h1 .8 -> total 1.537
        ([0, 1, 0], 1.537),
        ([2, 2, -1], 0.18),  # v0 z2 2*.05 = .1; v1 .08; h2 (t1 in z2) unpriced
        ([1, -1, 1], 0.93),  # v0 .1; v2 z2 reserved 1*.03 = .03; h1 .8
        ([-1, -1, -1], 0.0),
    ],
)
def test_hourly_cost(x, expected):
    check(COST, x, "hourly_cost", expected)


# --- latency_ms ---------------------------------------------------------------------------
# h0 in us, h1 in eu; users also in ap (no hosts). us->eu 80, eu->us 90 (asymmetric),
# ap->us 150, ap->eu 200. v0 users in us, v1 in ap, v2 none, v3 in eu.
LATENCY = tiny_cluster(
    [{"region": "us"}, {"region": "eu"}],
    [{"user_region": "us"}, {"user_region": "ap"}, {}, {"user_region": "eu"}],
    latency=[("us", "eu", 80), ("eu", "us", 90), ("ap", "us", 150), ("ap", "eu", 200)],
)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        # v0 us->eu 80; v1 ap->us 150; v2 has no users; v3 unplaced adds 0 but counts: /3
        ([1, 0, 1, -1], (80 + 150 + 0) / 3),
        ([0, 1, 0, 0], (0 + 200 + 90) / 3),  # us->us 0, ap->eu 200, eu->us 90
        ([1, 1, 1, 1], (80 + 200 + 0) / 3),
        ([-1, -1, -1, -1], 0.0),
    ],
)
def test_latency_ms(x, expected):
    check(LATENCY, x, "latency_ms", expected)


def test_latency_without_user_regions_or_table():
    no_users = tiny_cluster([{"region": "us"}, {"region": "eu"}], [{}, {}], latency=[("us", "eu", 80)])
    check(no_users, [0, 1], "latency_ms", 0.0)
    no_table = tiny_cluster([{"region": "us"}, {"region": "eu"}], [{"user_region": "us"}])
    check(no_table, [1], "latency_ms", 0.0)  # no regions table: every latency is 0


# --- imbalance ----------------------------------------------------------------------------
# 4 hosts of cpu 16, mem 64 (net 0). v0 cpu 8 mem 16; v1 cpu 4 mem 32; v2 cpu 16 mem 0;
# v3 cpu 4 mem 16.
IMBALANCE = tiny_cluster(
    [{}, {}, {}, {}],
    [{"cpu": 8, "mem_gb": 16}, {"cpu": 4, "mem_gb": 32}, {"cpu": 16, "mem_gb": 0}, {"cpu": 4, "mem_gb": 16}],
)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        # h0 .5 vs .25 -> .25; h1 .25 vs .5 -> .25; h2 1 vs 0 -> 1; h3 off; mean 1.5/3
        ([0, 1, 2, -1], 0.5),
        ([0, -1, -1, 0], 0.25),  # h0 cpu 12/16 = .75, mem 32/64 = .5
        ([-1, -1, -1, 3], 0.0),  # h3 cpu .25, mem .25
        ([-1, -1, -1, -1], 0.0),  # no powered host
        ([-1, -1, 0, 0], 0.75),  # h0 cpu 20/16 clipped to 1, mem 16/64 = .25
    ],
)
def test_imbalance(x, expected):
    check(IMBALANCE, x, "imbalance", expected)


def test_imbalance_configured_resources():
    # net_gbps has capacity 0 on every host, so it is ignored: same as cpu/mem -> 0.5
    three = EvaluationConfig(imbalance_resources=["cpu", "mem_gb", "net_gbps"])
    check(IMBALANCE, [0, 1, 2, -1], "imbalance", 0.5, three)
    # one resource only: no spread on any host
    check(IMBALANCE, [0, 1, 2, -1], "imbalance", 0.0, EvaluationConfig(imbalance_resources=["cpu"]))
