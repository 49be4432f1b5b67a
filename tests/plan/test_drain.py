"""Drains: minimal-move targets that empty hosts, and explanations when they cannot."""

from __future__ import annotations

import numpy as np
import pytest

from cluster_opt.evaluate import Problem
from cluster_opt.plan import build_plan, plan_document
from cluster_opt.plan.drain import drain_target, drained_hosts
from cluster_opt.validate_plan import check_plan
from tests.evaluate.builders import example_cluster
from tests.plan.helpers import tiny_cluster


def drain_and_plan(problem: Problem, drained: np.ndarray):
    drain = drain_target(problem, drained)
    plan = build_plan(problem, drain.target, forbidden=drained, evaluate_states=False)
    doc = plan_document(plan, problem.cluster)
    report = check_plan(problem.cluster, doc, plan.final)
    assert report.safe, [str(v) for v in report.violations]
    return drain, plan


def test_a_rack_drain_moves_only_the_vms_on_it(generated_problem):
    c = generated_problem.cluster
    rack = int(np.bincount(c.hosts.rack[c.vms.current[c.vms.current >= 0]]).argmax())  # the busiest rack
    drained = drained_hosts(c, rack=c.topology.racks[rack])
    drain, plan = drain_and_plan(generated_problem, drained)
    on_rack = np.flatnonzero((c.vms.current >= 0) & drained[np.maximum(c.vms.current, 0)])
    # the generator pins a few VMs (not migratable): they, and only they, stay
    pinned = on_rack[~c.vms.migratable[on_rack]]
    assert len(pinned) and set(drain.blocking.tolist()) >= set(pinned.tolist())
    assert all(r == "VM is not migratable" or "not migratable" in r for r in drain.reasons)
    assert plan.complete  # the plan reaches the drain target
    moved = np.setdiff1d(on_rack, drain.blocking)
    assert np.array_equal(np.flatnonzero(plan.final != c.vms.current), moved)
    assert not drained[plan.dst].any()
    assert np.isin(plan.final, np.flatnonzero(drained)).sum() == len(drain.blocking)


def test_a_gpu_model_nobody_else_has_blocks_the_drain():
    c = example_cluster()
    drain, plan = drain_and_plan(Problem(c), drained_hosts(c, hosts=["h08"]))
    assert not drain.complete
    assert [c.vms.ids[v] for v in drain.blocking] == ["train-1"]
    assert drain.reasons == ["no active host outside the drain has GPU model A100"]
    assert [c.vms.ids[v] for v in plan.vm] == ["train-2"]  # the partial plan still moves the rest
    assert "capacity: the drained hosts carry 6 gpus; the other active hosts have 3 free" in drain.explanation


def test_zone_spread_that_needs_more_zones_than_remain():
    group = {"anti_affinity_group": "g", "spread_level": "zone", "max_per_domain": 1}
    hosts = [{"zone": "z1"}, {"zone": "z2"}, {"zone": "z3"}, {"zone": "z3"}]
    c = tiny_cluster(hosts, [{**group, "host": 0}, {**group, "host": 1}, {**group, "host": 2}, {"host": 2}])
    drain, _ = drain_and_plan(Problem(c), drained_hosts(c, zone="r1/z3"))
    assert [c.vms.ids[v] for v in drain.blocking] == ["v2"]
    assert drain.reasons == [
        "zone spread of group g (max 1 per zone) needs 3 zones, 2 remain outside the drain"
    ]
    assert "zone spread of group g needs 3 zones, 2 remain" in drain.explanation
    assert drain.target[3] in (0, 1)  # the other VM on z3 leaves it


def test_capacity_blocks_the_smallest_set():
    # h0 carries three 6-cpu VMs; h1 has 12 cpu free: two can move, one blocks
    c = tiny_cluster([{}, {"cpu": 12}], [{"cpu": 6, "host": 0}] * 3)
    drain, plan = drain_and_plan(Problem(c), drained_hosts(c, hosts=["h0"]))
    assert len(drain.blocking) == 1 and plan.n_moves == 2
    assert drain.reasons[0] == "no host outside the drain has 6 free cpu for the VM (most free: 0 on h1)"
    assert (
        drain.explanation[0]
        == "capacity: the drained hosts carry 18 cpu; the other active hosts have 12 free"
    )


def test_unmigratable_vms_and_their_affinity_partners_block():
    pair = {"affinity_group": "a"}
    c = tiny_cluster([{}, {}], [{**pair, "host": 0, "migratable": False}, {**pair, "host": 0}, {"host": 0}])
    drain, plan = drain_and_plan(Problem(c), drained_hosts(c, hosts=["h0"]))
    assert dict(zip(drain.blocking.tolist(), drain.reasons, strict=True)) == {
        0: "VM is not migratable",
        1: "affinity group a is tied to v0, which is not migratable",
    }
    assert plan.vm.tolist() == [2]


def test_affinity_groups_are_reinserted_together():
    pair = {"affinity_group": "a", "cpu": 6}
    c = tiny_cluster([{}, {"cpu": 10}, {}], [{**pair, "host": 0}, {**pair, "host": 0}])
    drain, plan = drain_and_plan(Problem(c), drained_hosts(c, hosts=["h0"]))
    assert drain.target.tolist() == [2, 2] and plan.wave.tolist() == [0, 0]


def test_drain_names_are_resolved_or_rejected():
    c = example_cluster()
    assert drained_hosts(c, rack="r1").sum() == 3
    assert drained_hosts(c, zone="us-east/a").sum() == 5
    with pytest.raises(ValueError, match="ambiguous: eu-west/a, us-east/a"):
        drained_hosts(c, zone="a")
    with pytest.raises(ValueError, match="unknown host"):
        drained_hosts(c, hosts=["h01", "nope"])
    with pytest.raises(ValueError, match="no such name"):
        drained_hosts(c, rack="r99")
