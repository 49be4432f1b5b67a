"""Interchangeable VMs: ``fewest_moves`` keeps the placement (every term but the migration
terms is unchanged), never moves more VMs, and undoes the replica swap between racks that
left CI's nightly plan with two blocked moves."""

from __future__ import annotations

import numpy as np
import pytest

from cluster_opt.evaluate import Evaluator, Problem
from cluster_opt.generate import GeneratorSettings, generate
from cluster_opt.io.load import cluster_from_tables
from cluster_opt.model import SpreadLevel
from cluster_opt.plan import build_plan
from cluster_opt.solve.construct import construct
from cluster_opt.solve.relabel import fewest_moves, interchangeable_classes, settled
from cluster_opt.solve.run import solve

MIGRATION_TERMS = ("migrations", "migration_gb")


@pytest.fixture(scope="module")
def nightly_problem() -> Problem:
    """The jobs' test snapshot: 40 hosts, 300 VMs, 2 regions (us-east has two racks)."""
    return Problem(cluster_from_tables(generate(GeneratorSettings(hosts=40, vms=300, regions=2, seed=1))))


def class_targets(problem: Problem, x: np.ndarray) -> list[tuple[int, int]]:
    """Sorted (class, target host) pairs of every VM: the placement up to exchanges."""
    cls = interchangeable_classes(problem.cluster)
    return sorted(zip(cls.tolist(), np.asarray(x).tolist(), strict=True))


def assert_same_placement_fewer_moves(problem: Problem, x: np.ndarray, y: np.ndarray) -> None:
    c = problem.cluster
    start = c.vms.current
    assert class_targets(problem, y) == class_targets(problem, x)
    still = x == start
    assert (y[still] == start[still]).all(), "a VM that x keeps in place was moved"
    assert (y != start).sum() <= (x != start).sum()
    ev = Evaluator(problem).batch(np.vstack([x, y]).astype(np.int32))
    assert ev.feasible[0] == ev.feasible[1]
    for term, values in ev.values.items():
        if term in MIGRATION_TERMS:
            assert values[1] <= values[0] + 1e-9, term
        else:
            assert values[1] == pytest.approx(values[0], rel=1e-12, abs=1e-9), term


def test_exchanges_among_interchangeable_vms_are_undone(gen_problem: Problem) -> None:
    c = gen_problem.cluster
    start = c.vms.current
    cls = interchangeable_classes(c)
    x = start.copy()
    exchanged = 0
    for k in np.unique(cls):
        members = np.flatnonzero((cls == k) & (start >= 0))
        if len(np.unique(start[members])) > 1:
            x[members] = np.roll(start[members], 1)
            exchanged += int((x[members] != start[members]).sum())
    assert exchanged >= 20, "the fixture should have classes spread over several hosts"
    y = fewest_moves(c, x)
    assert np.array_equal(y, start)


@pytest.mark.parametrize("algo", ["bfd", "ffd-max"])
def test_heuristic_from_scratch_keeps_its_placement_with_fewer_moves(gen_problem: Problem, algo: str) -> None:
    x = construct(gen_problem, algo)
    y = fewest_moves(gen_problem.cluster, x)
    assert_same_placement_fewer_moves(gen_problem, x, y)
    start = gen_problem.cluster.vms.current
    assert (y != start).sum() < (x != start).sum(), "from scratch, some interchangeable VMs can stay"


def test_pending_and_evicted_count_as_places(tiny_problem: Problem) -> None:
    c = tiny_problem.cluster
    x = c.vms.current.copy()
    pending = np.flatnonzero(x < 0)
    x[pending[0]] = 0
    y = fewest_moves(c, x)
    assert_same_placement_fewer_moves(tiny_problem, x, y)
    assert np.array_equal(fewest_moves(c, c.vms.current), c.vms.current)


def test_replicas_trading_racks_stay_in_their_racks(nightly_problem: Problem) -> None:
    """Two interchangeable members of a one-per-rack replica group sent to each other's
    rack: with the zone's two racks both taken, no host can stage either, and the plan
    blocked both moves (CI, stop 10). After ``fewest_moves`` each stays in its rack."""
    c = nightly_problem.cluster
    start = c.vms.current
    groups = c.anti_affinity
    cls = interchangeable_classes(c)
    load = np.zeros_like(c.hosts.capacity)
    np.add.at(load, start[start >= 0], c.vms.demand[start >= 0])
    free = c.hosts.capacity - load
    pair = None
    for g in np.flatnonzero((groups.level == SpreadLevel.RACK) & (groups.max_per_domain == 1)):
        a, b = np.flatnonzero(c.vms.anti_affinity == g)[:2]
        if (
            cls[a] == cls[b]
            and start[a] >= 0
            and start[b] >= 0
            and c.hosts.rack[start[a]] != c.hosts.rack[start[b]]
        ):
            pair = a, b
            break
    assert pair is not None, "the snapshot should hold an interchangeable replica pair in two racks"
    a, b = pair

    def roomy_host_in_rack_of(v: int, other: int) -> int:
        rack = c.hosts.rack[start[v]]
        ok = (c.hosts.rack == rack) & (free >= c.vms.demand[other]).all(axis=1) & c.usable
        ok[start[v]] = False
        return int(np.flatnonzero(ok)[0])

    x = start.copy()
    x[a], x[b] = roomy_host_in_rack_of(b, a), roomy_host_in_rack_of(a, b)
    y = fewest_moves(c, x)
    assert c.hosts.rack[y[a]] == c.hosts.rack[start[a]] and c.hosts.rack[y[b]] == c.hosts.rack[start[b]]
    assert_same_placement_fewer_moves(nightly_problem, x, y)
    plan = build_plan(nightly_problem, y)
    assert plan.complete and not len(plan.blocked)


def test_solvers_return_settled_solutions(nightly_problem: Problem) -> None:
    best, _ = solve(nightly_problem, "anneal", seconds=0.5, seed=3)
    again = settled(nightly_problem, best)
    assert again is best, "solve() already hands out the fewest-moves form"
