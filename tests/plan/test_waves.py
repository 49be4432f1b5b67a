"""The wave builder: transient capacity, limits, replica groups, affinity, blocked moves.

Hosts have 16 cpu unless stated; a migrating VM counts on both hosts during its wave.
"""

from __future__ import annotations

import numpy as np
import pytest

from cluster_opt.plan import PlanSettings
from tests.plan.helpers import checked_plan, moves_of, tiny_cluster, two_racks


def test_a_vm_waits_until_its_destination_has_room():
    # h1 has 16 - 10 = 6 free; v0 (8 cpu) must wait until v1 (10) has left h1 for h2.
    c = tiny_cluster([{}, {}, {}], [{"cpu": 8, "host": 0}, {"cpu": 10, "host": 1}])
    plan, doc = checked_plan(c, [1, 2])
    assert moves_of(doc) == [("v1", "h1", "h2", 1), ("v0", "h0", "h1", 2)]
    assert plan.complete and plan.n_waves == 2


def test_in_flight_vm_counts_on_source_and_destination():
    # v0 (10) h0 -> h1 and v1 (10) h1 -> h0: after the swap both fit, but during a
    # simultaneous swap h1 would carry 20 > 16: without a third host it cannot run.
    c = tiny_cluster([{}, {}], [{"cpu": 10, "host": 0}, {"cpu": 10, "host": 1}])
    plan, doc = checked_plan(c, [1, 0])
    assert plan.n_moves == 0 and len(plan.blocked) == 2
    assert "h1 lacks cpu: needs 10, 6 free of 16" in doc["blocked"][0]["reason"]


@pytest.mark.parametrize(
    ("limits", "waves"),
    [
        ({"per_host": 1, "per_rack": 8, "global": 10}, 4),  # each move touches h0: one at a time
        ({"per_host": 4, "per_rack": 8, "global": 2}, 2),  # 4 moves, 2 per wave
        ({"per_host": 4, "per_rack": 3, "global": 10}, 2),  # rack k1 touched by all 4: 3 + 1
        ({"per_host": 4, "per_rack": 8, "global": 10}, 1),
    ],
)
def test_concurrency_limits_split_waves(limits, waves):
    # four 1-cpu VMs leave h0 for h1..h3 (h1 is in rack k1 with h0; h2, h3 in rack k2)
    c = two_racks([{"host": 0} for _ in range(4)])
    settings = PlanSettings(concurrency=limits, links={"host_gbps": None, "rack_gbps": None})
    plan, _ = checked_plan(c, [1, 2, 3, 1], settings)
    assert plan.n_waves == waves


def test_link_budgets_split_waves():
    # 10 Gbit/s per migration; rack uplink 20: at most 2 cross-rack moves per wave; the
    # move within rack k1 (to h1) uses no uplink.
    c = two_racks([{"host": 0} for _ in range(5)])
    settings = PlanSettings(
        concurrency={"per_host": 10, "per_rack": 10, "global": 10},
        links={"host_gbps": None, "rack_gbps": 20, "zone_gbps": None, "region_gbps": None},
    )
    plan, doc = checked_plan(c, [2, 3, 2, 3, 1], settings)
    per_wave = np.bincount(plan.wave)
    assert per_wave.tolist() == [3, 2]
    assert ("v4", "h0", "h1", 1) in moves_of(doc)


def test_one_replica_of_a_group_in_flight_at_a_time():
    group = {"anti_affinity_group": "g", "spread_level": "host", "max_per_domain": 1}
    c = tiny_cluster([{}] * 6, [{**group, "host": 0}, {**group, "host": 1}, {**group, "host": 2}])
    plan, _ = checked_plan(c, [3, 4, 5])
    assert sorted(plan.wave.tolist()) == [0, 1, 2]


def test_spread_counts_a_moving_replica_in_both_domains():
    # zone spread, 1 per zone; v0 leaves z1 for z3 while v1 arrives in z1 from z2: v1 may
    # not enter z1 until v0 has left it.
    group = {"anti_affinity_group": "g", "spread_level": "zone", "max_per_domain": 1}
    hosts = [{"zone": "z1"}, {"zone": "z2"}, {"zone": "z3"}]
    c = tiny_cluster(hosts, [{**group, "host": 0}, {**group, "host": 1}])
    _, doc = checked_plan(c, [2, 0])
    assert moves_of(doc) == [("v0", "h0", "h2", 1), ("v1", "h1", "h0", 2)]


def test_affinity_group_moves_together_in_one_wave():
    pair = {"affinity_group": "a"}
    c = tiny_cluster([{}, {}], [{**pair, "host": 0}, {**pair, "host": 0}, {"host": 0}])
    plan, _ = checked_plan(c, [1, 1, 1], PlanSettings(concurrency={"per_host": 2}))
    waves = dict(zip(plan.vm.tolist(), plan.wave.tolist(), strict=True))
    assert waves[0] == waves[1] == 0 and waves[2] == 1


def test_split_affinity_target_is_blocked():
    pair = {"affinity_group": "a"}
    c = tiny_cluster([{}, {}], [{**pair, "host": 0}, {**pair, "host": 0}])
    plan, doc = checked_plan(c, [1, 0])
    assert plan.n_moves == 0
    assert "splits affinity group a" in doc["blocked"][0]["reason"]


@pytest.mark.parametrize(
    ("hosts", "vm", "reason"),
    [
        ([{}, {"state": "maintenance"}], {"host": 0}, "destination h1 is maintenance"),
        ([{}, {}], {"host": 0, "migratable": False}, "VM is not migratable"),
        (
            [{"gpus": 4, "gpu_model": "A"}, {"gpus": 4, "gpu_model": "B"}],
            {"host": 0, "gpus": 1, "gpu_model": "A"},
            "destination h1 has GPU model B; VM needs A",
        ),
        ([{"cpu": 64}, {}], {"host": 0, "cpu": 32}, "VM needs 32 cpu; h1 has 16 in all"),
    ],
)
def test_moves_that_can_never_run_are_blocked_with_the_reason(hosts, vm, reason):
    c = tiny_cluster(hosts, [vm])
    plan, doc = checked_plan(c, [1])
    assert plan.n_moves == 0 and doc["blocked"][0]["reason"] == reason
    assert plan.final.tolist() == [0]


def test_placements_and_evictions():
    # v0 pending -> h0 (after v1 is evicted from h0, which is full)
    c = tiny_cluster([{}], [{"cpu": 10}, {"cpu": 10, "host": 0}])
    plan, doc = checked_plan(c, [0, -1])
    assert [(m["vm"], m["kind"], m["wave"]) for m in doc["moves"]] == [("v1", "evict", 1), ("v0", "place", 2)]
    assert plan.complete


def test_an_overloaded_host_may_shed_load_but_not_gain_it():
    # h0 starts at 20 cpu of 16 (the snapshot allows it): v0 may leave; v2 may not arrive
    c = tiny_cluster([{}, {}, {}], [{"cpu": 10, "host": 0}, {"cpu": 10, "host": 0}, {"cpu": 1, "host": 2}])
    _, doc = checked_plan(c, [1, 0, 0])
    assert moves_of(doc) == [("v0", "h0", "h1", 1), ("v2", "h2", "h0", 2)]
    assert doc["moves"][0]["forced"] and doc["moves"][0]["reason"].startswith("forced: capacity: h0")


def test_forced_moves_go_first_and_name_the_rule():
    c = tiny_cluster([{"state": "maintenance"}, {}, {}], [{"host": 0}, {"host": 1}])
    _, doc = checked_plan(c, [2, 2], PlanSettings(concurrency={"per_host": 1}))
    assert (
        doc["moves"][0]["vm"] == "v0" and doc["moves"][0]["reason"] == "forced: host_state: h0 is maintenance"
    )


def test_target_shape_is_checked():
    c = tiny_cluster([{}], [{"host": 0}])
    with pytest.raises(ValueError, match="shape"):
        checked_plan(c, [0, 0])
    with pytest.raises(ValueError, match="host indices"):
        checked_plan(c, [5])
