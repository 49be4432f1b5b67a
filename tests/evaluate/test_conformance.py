"""Conformance: what every registered term must do (parametrised over REGISTRY).

A new term passes these without any change here; its own values go in a unit table.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from cluster_opt.evaluate import REGISTRY, Problem, Term, evaluate, register
from cluster_opt.evaluate.context import BatchContext
from cluster_opt.model import Cluster

from .builders import example_cluster, tiny_cluster

TERMS = sorted(REGISTRY)
#: the example snapshot's current placement keeps every constraint but leaves 2 VMs pending
EXAMPLE_CONSTRAINTS = {"unplaced": 2.0}


@pytest.fixture(scope="module")
def example() -> Cluster:
    return example_cluster()


@pytest.fixture(scope="module")
def plain() -> Cluster:
    """No groups, no prices, no latency table, one host in maintenance."""
    return tiny_cluster(
        [{}, {"cpu": 8, "state": "maintenance"}, {"cpu": 32, "mem_gb": 128}],
        [{"cpu": 4, "host": 0}, {"cpu": 2}, {"cpu": 8, "host": 1}],
    )


@pytest.fixture(params=["example", "plain"])
def cluster(request) -> Cluster:
    return request.getfixturevalue(request.param)


def population(cluster: Cluster, size: int, seed: int = 0) -> np.ndarray:
    """The current placement plus random rows (unplaced VMs and hosts in any state)."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(-1, cluster.n_hosts, size=(size - 1, cluster.n_vms), dtype=np.int32)
    return np.vstack([cluster.current_assignment(), rows])


def snapshot(cluster: Cluster) -> list[np.ndarray]:
    arrays = [getattr(cluster.hosts, f) for f in ("capacity", "state", "zone", "rack", "gpu_model")]
    arrays += [getattr(cluster.vms, f) for f in ("demand", "current", "anti_affinity", "affinity")]
    return [
        a.copy() for a in (*arrays, cluster.power.watts, cluster.prices.unit, cluster.topology.latency_ms)
    ]


@pytest.mark.parametrize("name", TERMS)
def test_declares_its_metadata(name):
    cls = REGISTRY[name]
    assert issubclass(cls, Term)
    assert cls.name == name
    assert cls.kind in ("constraint", "objective")
    assert isinstance(cls.unit, str) and cls.unit
    assert isinstance(cls.description, str) and cls.description
    assert cls.__doc__ and cls.__doc__.strip()
    assert isinstance(cls.default_weight, int | float) and cls.default_weight >= 0
    assert isinstance(cls.default_hard, bool)
    assert not (cls.kind == "objective" and cls.default_hard)


@pytest.mark.parametrize("name", TERMS)
def test_scores_a_population(name, cluster):
    problem = Problem(cluster)
    term = problem.term(name)
    pop = population(cluster, 9)
    pop_before, cluster_before = pop.copy(), snapshot(cluster)

    values = term.batch(BatchContext(problem, pop))
    assert isinstance(values, np.ndarray)
    assert values.dtype == np.float64
    assert values.shape == (9,)
    assert np.isfinite(values).all()
    assert (values >= 0).all()
    # does not mutate the population or the cluster
    assert np.array_equal(pop, pop_before)
    for a, b in zip(snapshot(cluster), cluster_before, strict=True):
        assert np.array_equal(a, b)
    # deterministic: a fresh context, the same context again, and a fresh Problem
    ctx = BatchContext(problem, pop)
    assert np.array_equal(term.batch(ctx), values)
    assert np.array_equal(term.batch(ctx), values)
    assert np.array_equal(Problem(cluster).term(name).batch(BatchContext(problem, pop)), values)
    # P = 1 (as a row and as a 1-D assignment) gives each row's value
    for i, row in enumerate(pop):
        single = term.batch(BatchContext(problem, row[None, :]))
        assert single.shape == (1,) and single.dtype == np.float64
        assert single[0] == values[i]
        assert term.batch(BatchContext(problem, row))[0] == values[i]


@pytest.mark.parametrize("name", TERMS)
def test_details_and_lower_bound(name, cluster):
    problem = Problem(cluster)
    term = problem.term(name)
    for row in population(cluster, 4, seed=1):
        assert isinstance(term.details(BatchContext(problem, row)), dict)
    lb = term.lower_bound()
    if term.kind == "constraint":
        return
    assert lb is None or (isinstance(lb, float | int) and math.isfinite(lb) and lb >= 0)


@pytest.mark.parametrize("name", [n for n in TERMS if REGISTRY[n].kind == "constraint"])
def test_constraint_holds_on_the_example_snapshot(name, example):
    problem = Problem(example)
    value = problem.term(name).batch(BatchContext(problem, example.current_assignment()))
    assert value.tolist() == [EXAMPLE_CONSTRAINTS.get(name, 0.0)]


def test_register_rejects_a_duplicate_name():
    with pytest.raises(ValueError, match="registered twice"):
        register(REGISTRY["capacity"])


def test_a_new_term_is_one_registration(plain):
    """A plugin registered in one line is scored, weighted and reported."""

    class VmCount(Term):
        """Placed VMs."""

        name = "test_vm_count"
        kind = "objective"
        unit = "VMs"
        description = "placed VMs"
        default_weight = 2.0

        def batch(self, ctx):
            return (ctx.x >= 0).sum(axis=1).astype(np.float64)

    register(VmCount)
    try:
        problem = Problem(plain)
        e = evaluate(problem, np.array([0, -1, 2], dtype=np.int32))
        assert e.values["test_vm_count"] == 2
        assert e.weights["test_vm_count"] == 2.0
        without = Problem(plain, terms=[c for n, c in REGISTRY.items() if n != "test_vm_count"])
        assert e.score == pytest.approx(evaluate(without, np.array([0, -1, 2])).score + 4)
    finally:
        del REGISTRY["test_vm_count"]
