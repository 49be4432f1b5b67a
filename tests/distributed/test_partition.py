"""Partitions: they cover every placed VM once, never straddle a zone, and any assignment
that is feasible inside every partition is feasible for the whole cluster."""

from __future__ import annotations

import numpy as np
import pytest
from evaluate.builders import tiny_cluster

from cluster_opt.distributed import partition, start_assignment, sub_cluster
from cluster_opt.distributed.merge import assemble
from cluster_opt.distributed.partition import writable
from cluster_opt.evaluate import Evaluator, Problem
from cluster_opt.model import SpreadLevel
from cluster_opt.solve import construct


@pytest.fixture(scope="module")
def start(problem):
    return start_assignment(problem).x


@pytest.mark.parametrize("racks", [1, 2, 8, 1000])
def test_partitions_cover_placed_vms_once_within_one_zone(problem, start, racks):
    c = problem.cluster
    parts = partition(c, start, racks)
    vms = np.concatenate([p.vms for p in parts])
    hosts = np.concatenate([p.hosts for p in parts])
    assert np.array_equal(np.sort(vms), np.arange(c.n_vms))  # each VM once, placed or not
    assert len(np.unique(hosts)) == len(hosts)  # hosts disjoint
    for p in parts:
        assert set(c.hosts.zone[p.hosts]) == {p.zone}
        assert len(set(c.hosts.rack[p.hosts])) <= racks
        assert (np.isin(start[p.vms], p.hosts) | (start[p.vms] < 0)).all()
    if racks == 1000:  # one partition per zone that has VMs
        assert len(parts) == len(set(c.hosts.zone[start[start >= 0]]))


def test_restrict_and_lift_are_inverse(problem, start):
    parts = partition(problem.cluster, start, 2)
    local = [p.restrict(start) for p in parts]
    assert all((xl >= 0).all() for xl in local)
    assert np.array_equal(assemble(start, parts, local), start)
    x = np.full_like(start, -1)
    parts[0].lift(local[0], x)
    assert np.array_equal(x[parts[0].vms], start[parts[0].vms])
    assert (np.delete(x, parts[0].vms) == -1).all()


def test_sub_cluster_keeps_codes_and_marks_outside_current_hosts_pending(problem, start):
    c = problem.cluster
    p = partition(c, start, 2)[1]
    sc = sub_cluster(c, p, start)
    assert sc.n_hosts == len(p.hosts) and sc.n_vms == len(p.vms)
    assert np.array_equal(sc.hosts.capacity, c.hosts.capacity[p.hosts])
    assert np.array_equal(sc.prices.host_hourly, c.prices.host_hourly[p.hosts])
    current = c.vms.current[p.vms]
    inside = np.isin(current, p.hosts)
    assert np.array_equal(p.hosts[sc.vms.current[inside]], current[inside])
    assert (sc.vms.current[~inside] == -1).all()
    assert sc.topology is c.topology and sc.meta["partition"] == p.name


def test_zone_limits_count_the_members_outside_the_partition(problem, start):
    c = problem.cluster
    zone_groups = np.flatnonzero(c.anti_affinity.level == SpreadLevel.ZONE)
    assert len(zone_groups), "the generated cluster has zone-spread groups"
    for p in partition(c, start, 1):
        sc = sub_cluster(c, p, start)
        for g in zone_groups:
            members = np.flatnonzero(c.vms.anti_affinity == g)
            outside = np.setdiff1d(members, p.vms)
            in_zone = int((c.hosts.zone[start[outside[start[outside] >= 0]]] == p.zone).sum())
            assert sc.anti_affinity.max_per_domain[g] == max(c.anti_affinity.max_per_domain[g] - in_zone, 0)


def test_assignments_feasible_in_every_partition_are_feasible_globally(problem, start):
    """Scramble each partition (BFD from scratch, then repair within it) and lift: the
    global assignment keeps every hard rule."""
    c = problem.cluster
    parts = partition(c, start, 2)
    local = []
    for p in parts:
        sub = Problem(sub_cluster(c, p, start), problem.config)
        xl = construct.construct(sub, "wfd")  # very different from the start
        ev = Evaluator(sub).batch(xl[None])
        assert ev.feasible[0], p.name
        local.append(xl)
    x = assemble(start, parts, local)
    assert (x != start).sum() > len(start) // 4
    assert Evaluator(problem).one(x).feasible


def test_writable_copies_read_only_arrays(problem):
    c = problem.cluster
    frozen = np.array(c.hosts.capacity)
    frozen.setflags(write=False)
    import dataclasses

    ro = dataclasses.replace(c, hosts=dataclasses.replace(c.hosts, capacity=frozen))
    copy = writable(ro)
    assert copy.hosts.capacity.flags.writeable
    assert np.array_equal(copy.hosts.capacity, frozen) and copy.hosts.capacity is not frozen
    assert copy.resources == c.resources


def test_unplaced_vms_go_where_there_is_room_and_their_gpu_model(problem, start):
    """VMs the start leaves unplaced join a partition with a host of their GPU model and
    room for them; affinity groups stay together."""
    c = problem.cluster
    x = start.copy()
    gone = np.flatnonzero((x >= 0) & (c.vms.affinity < 0))[:: max(len(x) // 40, 1)]
    x[gone] = -1
    parts = partition(c, x, 2)
    owner = np.full(c.n_vms, -1)
    for p in parts:
        owner[p.vms] = p.index
    assert (owner >= 0).all()
    for v in gone:
        hosts = parts[owner[v]].hosts
        model = c.vms.gpu_model[v]
        assert model < 0 or (c.hosts.gpu_model[hosts] == model).any()
    grouped = np.flatnonzero(c.vms.affinity >= 0)
    for g in np.unique(c.vms.affinity[grouped]):
        assert len(set(owner[c.vms.affinity == g])) == 1


def test_unplaced_gpu_vm_goes_where_its_model_has_room() -> None:
    """Room is counted on the hosts a VM may use: rack k1 has a full T4 host beside an A100
    host with 8 free GPUs, rack k2 a T4 host with 2 free GPUs; a pending T4 VM joins k2
    (counting every host, k1 looked roomier)."""
    t4, a100 = {"gpus": 2, "gpu_model": "T4"}, {"gpus": 8, "gpu_model": "A100"}
    c = tiny_cluster(
        [{"rack": "k1", **t4}, {"rack": "k1", **a100}, {"rack": "k2", **t4}],
        [
            {"host": 0, "cpu": 1, "gpus": 2, "gpu_model": "T4"},
            {"host": 2, "cpu": 1},
            {"cpu": 1, "gpus": 1, "gpu_model": "T4"},
        ],
    )
    parts = partition(c, c.current_assignment(), 1)
    (owner,) = [p for p in parts if 2 in p.vms.tolist()]
    assert c.topology.racks[c.hosts.rack[owner.hosts[0]]].endswith("k2")
