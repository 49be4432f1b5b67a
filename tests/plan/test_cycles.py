"""Wait cycles: staging (+1 move), temporary moves (+2), and what is left blocked."""

from __future__ import annotations

from cluster_opt.plan import PlanSettings
from cluster_opt.plan.cycles import Stuck, strongly_connected
from tests.plan.helpers import checked_plan, moves_of, tiny_cluster


def swap_with_room_on(spare: dict) -> tuple:
    # v0 (10 cpu) on h0 and v1 (10 cpu) on h1 swap; each host has 6 free during the swap
    return tiny_cluster([{}, {}, spare], [{"cpu": 10, "host": 0}, {"cpu": 10, "host": 1}])


def test_a_swap_is_broken_by_one_staging_move():
    c = swap_with_room_on({})
    plan, doc = checked_plan(c, [1, 0])
    assert moves_of(doc) == [("v0", "h0", "h2", 1), ("v1", "h1", "h0", 2), ("v0", "h2", "h1", 3)]
    assert [m["role"] for m in doc["moves"]] == ["staging", "target", "return"]
    assert plan.extra_moves == 1 and plan.complete


def test_the_cheapest_unit_is_staged():
    # v0 + v2 form an affinity pair (2 VMs), v1 is alone: staging v1 costs 1 move, not 2
    pair = {"affinity_group": "a", "cpu": 5}
    c = tiny_cluster([{}, {}, {}], [{**pair, "host": 0}, {"cpu": 10, "host": 1}, {**pair, "host": 0}])
    plan, doc = checked_plan(c, [1, 0, 1])
    staged = [m["vm"] for m in doc["moves"] if m["role"] == "staging"]
    assert staged == ["v1"] and plan.extra_moves == 1 and plan.complete


def test_a_temporary_move_when_no_host_can_stage_the_cycle():
    # h0: v0 (8) + v2 (4) = 12, h1: v1 (6) + v3 (4) = 10; v0 and v1 swap. h2 has only 5
    # free: too little to stage v0 or v1, enough to park v2 while v1 arrives on h0.
    c = tiny_cluster(
        [{}, {}, {}],
        [
            {"cpu": 8, "host": 0},
            {"cpu": 6, "host": 1},
            {"cpu": 4, "host": 0},
            {"cpu": 4, "host": 1},
            {"cpu": 11, "host": 2},
        ],
    )
    plan, doc = checked_plan(c, [1, 0, 0, 1, 2])
    roles = [(m["vm"], m["role"]) for m in doc["moves"]]
    assert roles[0][1] == "temporary" and roles[-1] == (roles[0][0], "temporary")
    assert plan.extra_moves == 2 and plan.complete


def test_an_unbreakable_cycle_is_blocked_and_the_safe_prefix_kept():
    # the swap cannot run (6 cpu free anywhere, each needs 10) but placing v3 can
    vms = [{"cpu": 10, "host": 0}, {"cpu": 10, "host": 1}, {"cpu": 10, "host": 2}, {"cpu": 1}]
    plan, doc = checked_plan(tiny_cluster([{}, {}, {}], vms), [1, 0, 2, 2])
    assert moves_of(doc) == [("v3", None, "h2", 1)]
    assert {b["vm"] for b in doc["blocked"]} == {"v0", "v1"}
    assert all("wait cycle with no host able to stage" in b["reason"] for b in doc["blocked"])
    assert plan.final.tolist() == [0, 1, 2, 2]


def test_staging_can_be_switched_off_or_capped():
    c = swap_with_room_on({})
    plan, _ = checked_plan(c, [1, 0], PlanSettings(staging=False))
    assert plan.n_moves == 0 and len(plan.blocked) == 2
    plan, _ = checked_plan(c, [1, 0], PlanSettings(max_extra_moves=0))
    assert plan.n_moves == 0


def test_replica_swap_needs_a_third_host():
    group = {"anti_affinity_group": "g", "spread_level": "host", "max_per_domain": 1}
    c = tiny_cluster([{}, {}, {}], [{**group, "host": 0}, {**group, "host": 1}])
    plan, doc = checked_plan(c, [1, 0])
    assert plan.extra_moves == 1 and plan.complete and doc["moves"][0]["to"] == "h2"


def test_staging_prefers_the_source_rack():
    c = tiny_cluster(
        [{"rack": "k1"}, {"rack": "k2"}, {"rack": "k3"}, {"rack": "k1"}],
        [{"cpu": 10, "host": 0}, {"cpu": 10, "host": 1}],
    )
    _, doc = checked_plan(c, [1, 0])
    assert doc["moves"][0]["role"] == "staging"
    assert (doc["moves"][0]["from"], doc["moves"][0]["to"]) in (("h0", "h3"), ("h1", "h2"))


def test_strongly_connected_components():
    # 0 <-> 1, 1 -> 2, 3 alone
    graph = {0: Stuck(1, waits_on=[1]), 1: Stuck(1, waits_on=[0, 2]), 2: Stuck(1), 3: Stuck(1, waits_on=[9])}
    comps = sorted(sorted(c) for c in strongly_connected(graph))
    assert comps == [[0, 1], [2], [3]]
