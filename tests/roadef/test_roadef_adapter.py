"""The adapter's Problem against the independent checker: the same verdict, the same
violated rules, the same five costs and, for valid solutions, score == official total."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from cluster_opt.evaluate import REGISTRY, Problem, evaluate, evaluate_batch
from cluster_opt.evaluate.context import BatchContext
from cluster_opt.io import load_snapshot
from cluster_opt.model import SpreadLevel
from cluster_opt.roadef.adapter import roadef_cluster, roadef_problem
from cluster_opt.roadef.checker import check
from cluster_opt.roadef.instance import Instance
from cluster_opt.roadef.terms import COMPONENT_TERMS, CONSTRAINT_TERMS, TERMS

from .conftest import A_INSTANCES


def assert_agrees(problem: Problem, inst: Instance, x0: np.ndarray, population: np.ndarray) -> int:
    """Every row scored by the evaluator matches the checker; returns the valid rows."""
    batch = evaluate_batch(problem, population)
    weight = dict(zip(problem.term_names, problem.weights, strict=True))
    n_valid = 0
    for k, x in enumerate(population):
        result = check(inst, x0, x)
        assert bool(batch.feasible[k]) == result.valid, (k, result.reason)
        for rule, term in CONSTRAINT_TERMS.items():
            assert (batch.values[term][k] > 0) == (result.violations[rule] > 0), (k, rule)
        for component, term in COMPONENT_TERMS.items():
            assert batch.values[term][k] * weight[term] == result.costs[component], (k, component)
        if result.valid:
            assert batch.score[k] == result.total
            n_valid += 1
    return n_valid


def test_toy_cluster_mapping(toy):
    inst, x0 = toy
    c = roadef_cluster(inst, x0)
    assert c.resources == ("r0", "r1") and c.n_hosts == 4 and c.n_vms == 3
    assert c.hosts.capacity.tolist() == [[30, 400], [10, 240], [15, 100], [10, 100]]
    assert c.vms.demand.tolist() == [[12, 10], [10, 20], [6, 200]]
    assert c.vms.current.tolist() == [0, 3, 0]
    assert c.hosts.zone.tolist() == [0, 0, 1, 2]  # location
    assert c.hosts.rack.tolist() == [0, 0, 1, 2]  # (location, neighborhood) pairs
    assert c.topology.racks == ("roadef/location0/neighborhood0", "roadef/location1/neighborhood1",
                                "roadef/location2/neighborhood1")  # fmt: skip
    assert c.topology.rack_zone.tolist() == [0, 1, 2]
    # service 0 (two processes) is a host-level group with at most one per host; service 1
    # has one process and needs no group
    assert c.anti_affinity.names == ("service0",)
    assert c.anti_affinity.level.tolist() == [
        SpreadLevel.HOST
    ] and c.anti_affinity.max_per_domain.tolist() == [1]
    assert c.vms.anti_affinity.tolist() == [0, 0, -1]
    assert c.meta["roadef"] is inst and c.usable.all()


def test_roadef_terms_stay_out_of_the_registry(toy, example_dir):
    assert not any(name.startswith("roadef") for name in REGISTRY)
    inst, x0 = toy
    problem = roadef_problem(inst, x0)
    assert problem.term_names == [t.name for t in TERMS]
    assert problem.hard.tolist() == [True] * 5 + [False] * 5
    with pytest.raises(ValueError, match=r"meta\['roadef'\]"):
        Problem(load_snapshot(example_dir), terms=TERMS)


def test_toy_every_assignment(toy):
    inst, x0 = toy
    population = np.array(list(itertools.product(range(4), repeat=3)), dtype=np.int32)
    assert assert_agrees(roadef_problem(inst, x0), inst, x0, population) == 7


def test_transient_example(transient):
    inst, x0 = transient
    population = np.array(list(itertools.product(range(3), repeat=2)), dtype=np.int32)
    problem = roadef_problem(inst, x0)
    assert assert_agrees(problem, inst, x0, population) == 2  # (0, 1) and (0, 2)
    values = evaluate(problem, np.array([1, 2])).violations
    assert values["roadef_capacity"] == 4.0  # 8 + 6 - 10 of r1 on m1
    assert sum(values.values()) == 4.0


def test_toy_values_and_bounds(toy):
    inst, x0 = toy
    e = evaluate(roadef_problem(inst, x0), np.array([2, 0, 1]))
    # the unit table of test_roadef_checker: 400 + 1600 + 1101 + 2 x 10 + 10 x 100
    assert e.objectives == {
        "roadef_load": 400.0,
        "roadef_balance": 1600.0,
        "roadef_process_move": 1101.0,
        "roadef_service_move": 2.0,
        "roadef_machine_move": 10.0,
    }
    assert e.feasible and e.score == 4121.0 and e.penalty == 0.0
    assert e.lower_bounds == {"roadef_load": 0.0, "roadef_balance": 1300.0}


def test_each_planted_violation_on_the_toy(toy):
    inst, x0 = toy
    problem = roadef_problem(inst, x0)
    for sol, expected in (
        # p0, p1 (service 0) on m0, hence also in one location where 2 are needed
        ((0, 0, 0), {"roadef_conflict": 1.0, "roadef_spread": 1.0}),
        ((0, 1, 0), {"roadef_spread": 1.0}),  # service 0 in location 0 only
        ((2, 3, 0), {"roadef_dependency": 1.0}),  # p2 in neighborhood 0, service 0 is not
        ((0, 3, 2), {"roadef_capacity": 100.0}),  # r1 on m2: 200 > 100
        ((1, 3, 0), {"roadef_capacity": 2.0}),  # r0 on m1: 12 > 10 (m0 keeps 6 + 12 <= 30)
    ):
        e = evaluate(problem, np.array(sol))
        assert not e.feasible
        assert {n: v for n, v in e.violations.items() if v} == expected, sol
    e = evaluate(problem, np.array([0, 3, -1]))
    assert not e.feasible and e.violations["roadef_unplaced"] == 1.0


def perturbations(inst: Instance, x0: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """Half random 1-4 process moves (mostly invalid); half the states of a random walk of
    accepted moves and swaps (valid, with growing move costs)."""
    rows = []
    for _ in range(size // 2):
        x = x0.copy()
        k = int(rng.integers(1, 5))
        x[rng.choice(inst.n_processes, k, replace=False)] = rng.integers(0, inst.n_machines, k)
        rows.append(x)
    x = x0.copy()
    for _ in range(size // 2 * 40):
        if len(rows) == size:
            break
        y = x.copy()
        p, q = rng.choice(inst.n_processes, 2, replace=False)
        if rng.random() < 0.5:
            y[p], y[q] = x[q], x[p]
        else:
            y[p] = rng.integers(inst.n_machines)
        if check(inst, x0, y).valid and not np.array_equal(x, y):
            x = y
            rows.append(x)
    return np.array(rows, dtype=np.int32)


@pytest.mark.parametrize("name", A_INSTANCES)
def test_a_instances_agree_with_the_checker(name, a_set, best_known):
    inst, x0 = a_set[name]
    problem = roadef_problem(inst, x0)
    e = evaluate(problem, x0)
    assert e.feasible and e.score == int(best_known[name]["initial_cost"])
    lb = sum(problem.lower_bounds.values())
    assert lb == inst.load_lower_bound() + inst.balance_lower_bound()
    population = perturbations(inst, x0, np.random.default_rng(7), 48)
    n_valid = assert_agrees(problem, inst, x0, population)
    assert 0 < n_valid < len(population)


def _planted(inst: Instance, x0: np.ndarray, rule: str) -> np.ndarray | None:
    """An assignment violating ``rule`` (possibly others too), or None if this instance
    offers no simple one."""
    x = x0.copy()
    service = inst.service
    if rule == "capacity":
        x[:] = 0
        return x
    if rule == "conflict":
        sizes = np.bincount(service, minlength=inst.n_services)
        s = int(np.argmax(sizes))
        members = np.flatnonzero(service == s)
        if len(members) < 2:
            return None
        x[members[1]] = x[members[0]]
        return x
    if rule == "spread":
        wide = np.flatnonzero(inst.spread_min >= 2)
        if not wide.size:
            return None
        x[service == wide[0]] = 0  # one location
        return x
    for s in range(inst.n_services):  # dependency: move a process of s where d has none
        for d in inst.dependency[inst.dependency_ptr[s] : inst.dependency_ptr[s + 1]]:
            covered = np.unique(inst.neighborhood[x0[service == d]])
            empty = np.flatnonzero(~np.isin(inst.neighborhood, covered))
            if empty.size and (service == s).any():
                x[np.flatnonzero(service == s)[0]] = empty[0]
                return x
    return None


@pytest.mark.parametrize("rule", ["capacity", "conflict", "spread", "dependency"])
def test_planted_violations_on_a(rule, a_set):
    planted = 0
    for inst, x0 in a_set.values():
        x = _planted(inst, x0, rule)
        if x is None:
            continue
        planted += 1
        result = check(inst, x0, x)
        e = evaluate(roadef_problem(inst, x0), x)
        assert result.violations[rule] > 0 and not result.valid
        assert e.violations[CONSTRAINT_TERMS[rule]] > 0 and not e.feasible
    assert planted >= 3


@pytest.mark.parametrize("term", [t.name for t in TERMS])
def test_term_conformance(term, toy):
    """What the evaluator expects of every term (as tests/evaluate/test_conformance.py asks of
    the registered ones): float64[P] >= 0, deterministic, rows scored alone agree, inputs
    untouched, unplaced processes accepted."""
    inst, x0 = toy
    problem = roadef_problem(inst, x0)
    rng = np.random.default_rng(3)
    pop = rng.integers(-1, inst.n_machines, size=(12, inst.n_processes), dtype=np.int32)
    before = pop.copy(), inst.capacity.copy(), problem.cluster.vms.current.copy()
    t = problem.term(term)
    values = t.batch(BatchContext(problem, pop))
    assert values.dtype == np.float64 and values.shape == (12,)
    assert np.isfinite(values).all() and (values >= 0).all()
    assert all(v == math.floor(v) for v in values)  # exact integers
    assert np.array_equal(t.batch(BatchContext(problem, pop)), values)
    for k, row in enumerate(pop):
        assert t.batch(BatchContext(problem, row))[0] == values[k]
    for a, b in zip((pop, inst.capacity, problem.cluster.vms.current), before, strict=True):
        assert np.array_equal(a, b)
    assert t.__doc__ and t.description and t.unit
