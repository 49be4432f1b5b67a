"""Large-neighbourhood search over CP-SAT sub-models: destroy rules, neighbourhoods,
acceptance, adaptation, reproducibility and cancellation."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from cluster_opt.evaluate import Evaluator, Problem
from cluster_opt.generate import GeneratorSettings, generate
from cluster_opt.io.load import cluster_from_tables
from cluster_opt.solve.base import Deadline
from cluster_opt.solve.construct import construct
from cluster_opt.solve.cpsat import LnsSolver
from cluster_opt.solve.cpsat.destroy import RULES, HostView, RuleChooser, destroy, ranked_pick
from cluster_opt.solve.cpsat.objective import LinearObjective
from cluster_opt.solve.rules import PlacementRules

from .conftest import assert_feasible

FAST = {"slice_seconds": 0.5}


@pytest.fixture(scope="module")
def big_problem() -> Problem:
    """A generated 200-host / 2,000-VM cluster."""
    return Problem(cluster_from_tables(generate(GeneratorSettings(hosts=200, vms=2000, regions=2, seed=3))))


@pytest.mark.timeout(180)
def test_lns_improves_a_worst_fit_seed(big_problem: Problem) -> None:
    seed = construct(big_problem, "wfd")
    start = Evaluator(big_problem).one(seed, details=False)
    assert start.feasible
    solver = LnsSolver(big_problem, seed[None], seed=0, settings={"slice_seconds": 1.0})
    scores = []
    deadline = Deadline(8)
    while not deadline.expired():
        solver.step(deadline)
        scores.append(solver.score)
    best = solver.best()
    assert best.feasible and best.score < start.score
    assert_feasible(big_problem, best.x)
    assert scores == sorted(scores, reverse=True), "the current solution got worse"
    assert solver.progress.improvements >= 1 and solver.progress.steps == len(scores)


@pytest.mark.timeout(120)
def test_same_seed_one_worker_deterministic_slices_same_path(gen_problem: Problem) -> None:
    seed = construct(gen_problem, "wfd")[None]
    settings = {"num_workers": 1, "deterministic": True, "slice_seconds": 0.2}
    runs = []
    for _ in range(2):
        solver = LnsSolver(gen_problem, seed, seed=11, settings=settings)
        path = []
        for _ in range(3):
            solver.step(Deadline(None))
            path.append((solver.last["rule"], solver.last["vms"], solver.score))
        runs.append((path, solver.best().x))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


@pytest.mark.timeout(120)
def test_neighbourhood_limits_and_pinned_vms(gen_problem: Problem) -> None:
    solver = LnsSolver(
        gen_problem,
        construct(gen_problem, "bfd")[None],
        seed=2,
        settings={"hosts": 30, "max_hosts": 12, "max_vms": 40, "unplaced": 5},
    )
    solver.step(Deadline(10))
    pinned = PlacementRules.of(gen_problem).pinned
    for rule in RULES:
        vms, hosts = solver.neighbourhood(rule)
        assert len(hosts) <= 12 and len(np.unique(hosts)) == len(hosts)
        assert len(vms) <= 40 + 5 + max(np.bincount(solver.x[solver.x >= 0]))
        assert not pinned[vms].any()
        assert gen_problem.cluster.usable[hosts].all()


def test_destroy_rules(gen_problem: Problem) -> None:
    objective = LinearObjective.of(gen_problem)
    x = construct(gen_problem, "bfd")
    view = HostView.of(objective, x)
    rng = np.random.default_rng(0)
    racks = gen_problem.cluster.hosts.rack
    for rule in RULES:
        hosts = destroy(rule, objective, view, 5, rng)
        assert 1 <= len(hosts) <= 5 and len(np.unique(hosts)) == len(hosts)
        assert view.active[hosts].all()
        if rule == "rack":
            assert len(np.unique(racks[hosts])) == 1
    lightest = destroy("lightest", objective, view, 3, rng)
    assert view.fill[lightest].max() <= np.sort(view.fill[view.active])[3 * 8 - 1]
    with pytest.raises(ValueError, match="unknown destroy rule"):
        destroy("nope", objective, view, 3, rng)


def test_unplaced_rule_targets_a_compatible_pool(gen_problem: Problem) -> None:
    """With a GPU VM unplaced, the rule frees hosts of its GPU model."""
    c = gen_problem.cluster
    x = construct(gen_problem, "bfd")
    gpu_vm = np.flatnonzero((c.vms.gpu_model >= 0) & (x >= 0) & c.vms.migratable)[0]
    x[gpu_vm] = -1
    objective = LinearObjective.of(gen_problem)
    hosts = destroy("unplaced", objective, HostView.of(objective, x), 4, np.random.default_rng(1))
    assert len(hosts) and (c.hosts.gpu_model[hosts] == c.vms.gpu_model[gpu_vm]).all()


def test_ranked_pick_and_rule_chooser() -> None:
    rng = np.random.default_rng(0)
    order = np.arange(100)
    picks = np.concatenate([ranked_pick(order, 4, rng) for _ in range(200)])
    assert picks.max() < 32  # only among the 8 x k best
    assert np.bincount(picks).argmax() < 8  # and mostly the very best
    np.testing.assert_array_equal(np.sort(ranked_pick(order[:3], 5, rng)), order[:3])
    chooser = RuleChooser(("a", "b"), decay=0.5, floor=0.1)
    for _ in range(10):
        chooser.reward("a", False)
        chooser.reward("b", True)
    assert chooser.state()["a"] == pytest.approx(0.1) and chooser.state()["b"] == pytest.approx(1.0)
    assert sum(chooser.choose(rng) == "b" for _ in range(200)) > 150


def test_k_grows_on_stagnation_and_starts_over(tiny_problem: Problem) -> None:
    """On a problem it cannot improve, k grows every ``patience`` steps up to its cap, then
    starts again from ``hosts``."""
    solver = LnsSolver(
        tiny_problem, None, seed=0, settings={"hosts": 1, "max_hosts": 4, "patience": 1, "growth": 2.0}
    )
    solver.run(Deadline(2))  # settle on a local optimum
    ks = []
    for _ in range(6):
        solver.step(Deadline(5))
        ks.append(solver.k)
    assert max(ks) == solver.k_max == 2 and 1 in ks


def test_unknown_rule_is_rejected(tiny_problem: Problem) -> None:
    with pytest.raises(ValueError, match="unknown destroy rule"):
        LnsSolver(tiny_problem, settings={"rules": ("random", "bogus")})


@pytest.mark.timeout(120)
def test_cancel_mid_search_returns(big_problem: Problem) -> None:
    cancel = threading.Event()
    solver = LnsSolver(big_problem, construct(big_problem, "wfd")[None], settings={"slice_seconds": 30})
    timer = threading.Timer(1.0, cancel.set)
    timer.start()
    start = time.monotonic()
    try:
        best = solver.run(Deadline(None, cancel))
    finally:
        timer.cancel()
    assert time.monotonic() - start < 30  # a 30 s slice was cut short
    assert best.feasible


@pytest.mark.timeout(120)
def test_a_better_migrant_becomes_the_current_solution(big_problem: Problem) -> None:
    seed = construct(big_problem, "wfd")[None]
    other = LnsSolver(big_problem, seed, seed=5, settings=FAST)
    other.run(Deadline(4))
    solver = LnsSolver(big_problem, seed, settings=FAST)
    solver._start()  # the current solution is the seed
    better = other.best()
    assert better.score < solver.score
    solver.accept(better.x[None])
    np.testing.assert_array_equal(solver.x, better.x)
    assert solver.score == pytest.approx(better.score)
    assert solver.progress.migrants_accepted == 1
