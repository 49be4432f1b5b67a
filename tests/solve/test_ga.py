"""The shared evolutionary operators and the DEAP genetic algorithm: every individual is
feasible, the operators do what they say, the GA improves a bad seed, keeps its elites,
takes migrants, is reproducible from its seed and honours deadlines and cancellation."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from pydantic import ValidationError

from cluster_opt.evaluate import Evaluator, Problem
from cluster_opt.generate import GeneratorSettings, generate
from cluster_opt.io.load import cluster_from_tables
from cluster_opt.solve.base import SOLVERS, Deadline
from cluster_opt.solve.construct import construct, repair
from cluster_opt.solve.ga import GASettings, GeneticAlgorithm, tournament
from cluster_opt.solve.operators import EvolutionSettings, Operators

from .conftest import assert_feasible, legal

HEURISTICS = ("ffd", "bfd", "wfd", "dpd")
#: settings that take only the caller's seed (no heuristic or current-placement seeds)
SEED_ONLY = {"heuristics": [], "seed_current": False}


@pytest.fixture(scope="module")
def big_problem() -> Problem:
    """A generated 200-host / 2,000-VM cluster."""
    return Problem(cluster_from_tables(generate(GeneratorSettings(hosts=200, vms=2000, regions=2, seed=3))))


def spread(problem: Problem, seed: int) -> np.ndarray:
    """A feasible but poor assignment: VMs on random hosts, then repaired."""
    c = problem.cluster
    return repair(problem, np.random.default_rng(seed).integers(0, c.n_hosts, c.n_vms).astype(np.int32))


def rows(ga: GeneticAlgorithm) -> np.ndarray:
    return np.stack([np.asarray(ind) for ind in ga.population])


def active_hosts(x: np.ndarray, n_hosts: int) -> np.ndarray:
    return np.bincount(x[x >= 0], minlength=n_hosts) > 0


# --- operators -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", HEURISTICS)
def test_operators_keep_children_feasible(gen_problem: Problem, name: str) -> None:
    ops = Operators(gen_problem, EvolutionSettings())
    rng = np.random.default_rng(1)
    a = construct(gen_problem, name)
    b = construct(gen_problem, "bfd-max" if name != "bfd" else "ffd-sum")
    for _ in range(6):
        for child in (ops.crossover(a, b, rng), ops.empty_hosts(a, rng), ops.shift(a, rng)):
            assert child.dtype == np.int32 and child.shape == a.shape
            assert_feasible(gen_problem, child)
            assert (child < 0).sum() <= (a < 0).sum()
        a = ops.mutate(ops.crossover(a, b, rng), rng, force=True)


def test_operators_never_add_unplaced_on_a_tight_cluster(tight_problem: Problem) -> None:
    ops = Operators(tight_problem, EvolutionSettings())
    rng = np.random.default_rng(2)
    a, b = construct(tight_problem, "ffd"), construct(tight_problem, "bfd")
    assert (a < 0).any(), "the tight cluster should leave some VMs unplaced"
    for _ in range(8):
        for child, parent in ((ops.crossover(a, b, rng), a), (ops.mutate(b, rng, force=True), b)):
            assert legal(tight_problem, child)[0]
            assert (child < 0).sum() <= (parent < 0).sum()


def test_crossover_of_identical_parents_is_that_parent(gen_problem: Problem) -> None:
    ops = Operators(gen_problem, EvolutionSettings())
    a = construct(gen_problem, "bfd")
    np.testing.assert_array_equal(ops.crossover(a, a.copy(), np.random.default_rng(0)), a)


def test_crossover_inherits_whole_hosts(gen_problem: Problem) -> None:
    """Away from the re-inserted leftovers, every host of the child holds exactly what it
    holds in one of the parents; hosts whose VMs sit identically in both parents keep them."""
    ops = Operators(gen_problem, EvolutionSettings(window_share=1.0, window_max_hosts=1000))
    rng = np.random.default_rng(3)
    a, b = construct(gen_problem, "ffd"), construct(gen_problem, "wfd")
    child = ops.crossover(a, b, rng)
    inherited = 0
    for h in np.unique(child[child >= 0]):
        on = child == h
        if (on == (a == h)).all() or (on == (b == h)).all():
            inherited += 1
    assert inherited >= 0.5 * len(np.unique(child[child >= 0]))
    same = a == b
    both = np.unique(a[same & (a >= 0)])
    kept = [h for h in both if ((a == h) == (b == h)).all()]  # hosts identical in both parents
    for h in kept:
        np.testing.assert_array_equal(child == h, a == h)


def test_crossover_combines_two_improvements(gen_problem: Problem) -> None:
    """Two descendants of one seed, each with a different host emptied: their child keeps
    at most the active hosts of the better one (the differences are what is contested)."""
    ops = Operators(gen_problem, EvolutionSettings(empty_hosts=1, empty_pool=10, shake_hosts=0, jitter=0.0))
    rng = np.random.default_rng(4)
    x = spread(gen_problem, 4)
    n = gen_problem.cluster.n_hosts
    fewer = active_hosts(x, n).sum()
    emptied = [y for y in (ops.empty_hosts(x, rng) for _ in range(40)) if active_hosts(y, n).sum() < fewer]
    left = emptied[0]
    right = next(y for y in emptied if (active_hosts(y, n) != active_hosts(left, n)).any())
    child = ops.crossover(left, right, rng)
    assert_feasible(gen_problem, child)
    assert active_hosts(child, n).sum() <= min(active_hosts(left, n).sum(), active_hosts(right, n).sum())


def test_empty_hosts_empties_light_hosts(gen_problem: Problem) -> None:
    ops = Operators(gen_problem, EvolutionSettings(empty_hosts=2, shake_hosts=0))
    rng = np.random.default_rng(5)
    x = construct(gen_problem, "wfd")
    n = gen_problem.cluster.n_hosts
    fill, count = ops.fill(x)
    c = gen_problem.cluster
    holds_pinned = np.zeros(n, dtype=bool)
    holds_pinned[x[~c.vms.migratable & (x >= 0)]] = True
    light = np.sort(fill[(count > 0) & ~holds_pinned])[: ops.settings.empty_pool * 2]
    for _ in range(10):
        y = ops.empty_hosts(x, rng)
        sources = np.unique(x[x != y])
        assert 1 <= len(sources) <= 2
        assert not active_hosts(y, n)[sources].any(), "a chosen host still runs VMs"
        assert (fill[sources] <= light[-1]).all(), "an emptied host was not among the lightest"
        assert not holds_pinned[sources].any()


def test_empty_hosts_also_repacks_random_hosts(gen_problem: Problem) -> None:
    ops = Operators(gen_problem, EvolutionSettings(empty_hosts=1, shake_hosts=3))
    rng = np.random.default_rng(6)
    x = construct(gen_problem, "bfd")
    sizes = [len(np.unique(x[x != ops.empty_hosts(x, rng)])) for _ in range(20)]
    assert max(sizes) <= 4 and max(sizes) >= 2


def test_shift_moves_few_migratable_vms(gen_problem: Problem) -> None:
    ops = Operators(gen_problem, EvolutionSettings(shift_vms=3))
    rng = np.random.default_rng(8)
    x = construct(gen_problem, "bfd")
    pinned = ~gen_problem.cluster.vms.migratable
    for _ in range(10):
        moved = x != ops.shift(x, rng)
        assert moved.sum() <= 3 * 3  # affinity partners travel along (pairs here)
        assert not (moved & pinned).any()


def test_seed_population_is_distinct_feasible_and_starts_with_the_base(gen_problem: Problem) -> None:
    ops = Operators(gen_problem, EvolutionSettings())
    base = ops.base_solutions(construct(gen_problem, "wfd")[None])
    pop = ops.seed_population(base, 12, np.random.default_rng(7), Deadline(None))
    assert pop.shape == (12, gen_problem.cluster.n_vms) and pop.dtype == np.int32
    np.testing.assert_array_equal(pop[0], base[0])
    assert len({r.tobytes() for r in pop}) == 12
    assert Evaluator(gen_problem).batch(pop).feasible.all()
    for name in ops.settings.heuristics:  # every heuristic placement is in (time allowed)
        assert any((r == construct(gen_problem, name)).all() for r in pop), name


def test_settings_are_validated() -> None:
    with pytest.raises(ValidationError, match="unknown heuristic"):
        EvolutionSettings(heuristics=["ffd", "nope"])
    with pytest.raises(ValidationError):
        GASettings(population=1)
    with pytest.raises(ValidationError):
        GASettings(surprise=1)


# --- the GA ----------------------------------------------------------------------------------
def test_tournament_picks_the_best_contestant() -> None:
    rng = np.random.default_rng(0)
    scores = np.array([5.0, 1.0, 3.0, 2.0])
    winners = tournament(scores, 200, 3, rng)
    assert winners.shape == (200,) and set(winners) <= {0, 1, 2, 3}
    assert (tournament(scores, 50, 64, rng) == 1).all()  # 64 draws: the best is always among them
    assert np.bincount(winners, minlength=4)[1] > np.bincount(winners, minlength=4)[0]


def test_ga_is_registered_and_validates_elite(gen_problem: Problem) -> None:
    assert SOLVERS["ga"] is GeneticAlgorithm
    with pytest.raises(ValueError, match="elite"):
        GeneticAlgorithm(gen_problem, settings={"population": 4, "elite": 4})


def test_ga_improves_a_bad_seed(big_problem: Problem) -> None:
    bad = spread(big_problem, 0)  # VMs all over the cluster
    start = Evaluator(big_problem).one(bad, details=False).score
    ga = GeneticAlgorithm(big_problem, bad[None], seed=0, settings=SEED_ONLY)
    for _ in range(40):
        ga.step(Deadline(None))
    best = ga.best()
    assert best.feasible
    assert best.score < start - 20.0, (best.score, start)  # 381 -> about 348 (96 hosts from 190)
    assert ga.generation == 39 and ga.progress.steps == 39


def test_every_individual_is_feasible(gen_problem: Problem) -> None:
    ga = GeneticAlgorithm(gen_problem, seed=1, settings={"population": 10})
    for _ in range(8):
        ga.step(Deadline(None))
        for x in rows(ga):
            assert_feasible(gen_problem, x)
        assert len(ga.population) == 10


def test_elitism_keeps_the_best(gen_problem: Problem) -> None:
    ga = GeneticAlgorithm(gen_problem, seed=2, settings={"population": 8, "elite": 2, "mutation_rate": 1.0})
    ga.step(Deadline(None))
    for _ in range(10):
        scores = ga._scores()
        best = rows(ga)[np.argsort(scores, kind="stable")[:2]]
        ga.step(Deadline(None))
        now = rows(ga)
        for x in best:
            assert (now == x).all(axis=1).any(), "an elite was lost"
        assert ga._scores().min() <= scores.min()
    assert ga.best().score <= ga._scores().min()


def test_accept_replaces_the_worst(gen_problem: Problem) -> None:
    ga = GeneticAlgorithm(gen_problem, seed=3, settings={"population": 8, "elite": 2, **SEED_ONLY})
    ga.step(Deadline(None))
    worst = rows(ga)[np.argmax(ga._scores())]
    migrant = construct(gen_problem, "dpd")
    assert not (rows(ga) == migrant).all(axis=1).any()
    ga.accept(migrant[None])
    now = rows(ga)
    assert (now == migrant).all(axis=1).any(), "the migrant is not in the population"
    assert not (now == worst).all(axis=1).any() or (worst == migrant).all()
    assert len(ga.population) == 8 and ga.progress.migrants_accepted == 1
    migrants = np.stack([construct(gen_problem, h) for h in ("ffd-max", "bfd-sum", "wfd", "dpd")] * 3)
    ga.accept(migrants)  # more than the room: the elites survive
    assert len(ga.population) == 8


def test_accept_before_the_first_generation_seeds_the_population(gen_problem: Problem) -> None:
    ga = GeneticAlgorithm(gen_problem, seed=4, settings={"population": 6, **SEED_ONLY})
    migrant = construct(gen_problem, "dpd")
    ga.accept(migrant[None])
    ga.step(Deadline(None))
    np.testing.assert_array_equal(rows(ga)[0], migrant)


def test_reproducible_from_the_seed(gen_problem: Problem) -> None:
    def run(seed: int) -> np.ndarray:
        ga = GeneticAlgorithm(gen_problem, seed=seed, settings={"population": 8})
        for _ in range(5):
            ga.step(Deadline(None))
        return rows(ga)

    first = run(11)
    np.testing.assert_array_equal(first, run(11))
    assert not np.array_equal(first, run(12))


def test_expired_deadline_makes_no_children(gen_problem: Problem) -> None:
    ga = GeneticAlgorithm(gen_problem, seed=5, settings={"population": 8, "elite": 1})
    ga.step(Deadline(None))
    before = {x.tobytes() for x in rows(ga)}
    evaluations = ga.progress.evaluations
    ga.step(Deadline(0.0))
    assert {x.tobytes() for x in rows(ga)} <= before
    assert ga.progress.evaluations == evaluations
    assert len(ga.population) == 8


def test_run_stops_on_cancel_and_returns_a_feasible_best(gen_problem: Problem) -> None:
    cancel = threading.Event()
    ga = GeneticAlgorithm(gen_problem, seed=6, settings={"population": 6})
    threading.Timer(0.5, cancel.set).start()
    best = ga.run(Deadline(None, cancel))
    assert cancel.is_set() and best.feasible
    assert_feasible(gen_problem, best.x)
    zero = GeneticAlgorithm(gen_problem, seed=6, settings={"population": 6})
    assert zero.run(Deadline(0.0)).feasible  # no step at all: the repaired start
    assert zero.generation == 0 and zero.state()["generation"] == 0
