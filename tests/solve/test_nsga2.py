"""NSGA-II on pymoo: the front is feasible and mutually non-dominated, its hypervolume never
shrinks, migrants injected through ask/tell reach the population, objectives come from the
settings, and runs are reproducible and honour deadlines."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest
from pydantic import ValidationError

from cluster_opt.evaluate import Evaluator, Problem
from cluster_opt.solve.base import SOLVERS, Deadline
from cluster_opt.solve.construct import construct, repair
from cluster_opt.solve.nsga2 import NSGA2Settings, NSGA2Solver, non_dominated

from .conftest import assert_feasible

#: a run without the current placement among the seeds (it is the unique zero-migration point)
NO_CURRENT = {"seed_current": False}


def dominates(f: np.ndarray, g: np.ndarray) -> bool:
    return bool((f <= g).all() and (f < g).any())


def run(problem: Problem, generations: int, seed: int = 0, **settings) -> NSGA2Solver:
    solver = NSGA2Solver(problem, seed=seed, settings={"population": 10, **settings})
    for _ in range(generations + 1):  # the first step evaluates the initial population
        solver.step(Deadline(None))
    return solver


@pytest.fixture(scope="module")
def solver(gen_problem: Problem) -> NSGA2Solver:
    return run(gen_problem, 8)


def test_registered_and_objectives_validated(gen_problem: Problem) -> None:
    assert SOLVERS["nsga2"] is NSGA2Solver
    with pytest.raises(ValueError, match="unknown term"):
        NSGA2Solver(gen_problem, settings={"objectives": ["energy_watts", "happiness"]})
    with pytest.raises(ValidationError):
        NSGA2Settings(objectives=["energy_watts"])
    with pytest.raises(ValidationError, match="distinct"):
        NSGA2Settings(objectives=["migrations", "migrations"])


def test_front_is_feasible_non_dominated_and_scored_right(gen_problem: Problem, solver: NSGA2Solver) -> None:
    X, F = solver.front()
    assert X.dtype == np.int32 and F.dtype == np.float64
    assert len(X) >= 2 and F.shape == (len(X), 4)
    batch = Evaluator(gen_problem).batch(X)
    assert batch.feasible.all()
    np.testing.assert_allclose(F, batch.matrix(solver.settings.objectives))
    for i in range(len(F)):
        for j in range(len(F)):
            assert i == j or not dominates(F[i], F[j]), (i, j)
    assert len({x.tobytes() for x in X}) == len(X)


def test_front_dominates_or_matches_every_feasible_individual(solver: NSGA2Solver) -> None:
    pop = solver.population()
    batch = Evaluator(solver.problem).batch(pop)
    _, F = solver.front()
    for f in batch.matrix(solver.settings.objectives)[batch.feasible]:
        assert any(dominates(g, f) or np.allclose(g, f) for g in F)


def test_population_is_feasible_and_fixed_in_size(gen_problem: Problem, solver: NSGA2Solver) -> None:
    pop = solver.population()
    assert pop.shape == (10, gen_problem.cluster.n_vms)
    for x in pop:
        assert_feasible(gen_problem, x)
    assert solver.generation == 8 and solver.state()["generation"] == 8


def test_hypervolume_never_shrinks(gen_problem: Problem) -> None:
    s = NSGA2Solver(gen_problem, seed=3, settings={"population": 10, "front_size": 1000})
    s.step(Deadline(None))
    volumes = [s.hypervolume()]
    for _ in range(8):
        s.step(Deadline(None))
        volumes.append(s.hypervolume())
    assert volumes[0] > 0
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(volumes)), volumes
    assert volumes[-1] > volumes[0]


def test_hypervolume_reference_point(solver: NSGA2Solver) -> None:
    _, F = solver.front()
    near = F.max(axis=0)
    far = 2 * solver.nadir
    assert 0 <= solver.hypervolume(near) < solver.hypervolume() < solver.hypervolume(far)
    normal = solver.normalise(F)
    assert (normal >= -1e-9).all()  # the ideal point is made of lower bounds


def test_front_is_thinned_to_its_size(gen_problem: Problem) -> None:
    s = run(gen_problem, 4, seed=1, front_size=3)
    X, F = s.front()
    assert len(X) <= 3 and len(F) == len(X)


def test_best_is_the_scalar_score(gen_problem: Problem, solver: NSGA2Solver) -> None:
    pop = solver.population()
    scores = Evaluator(gen_problem).batch(pop).score
    assert solver.best().feasible and solver.best().score <= scores.min() + 1e-9
    fresh = NSGA2Solver(gen_problem, seed=0)
    assert fresh.best().feasible  # the repaired start, before any step


def test_two_objectives_from_settings(gen_problem: Problem) -> None:
    s = run(gen_problem, 3, objectives=["active_hosts", "migrations"])
    X, F = s.front()
    assert F.shape[1] == 2
    np.testing.assert_allclose(F, Evaluator(gen_problem).batch(X).matrix(["active_hosts", "migrations"]))
    assert len(non_dominated(F)) == len(F)


def test_non_dominated_helper() -> None:
    F = np.array([[1.0, 5.0], [2.0, 2.0], [3.0, 3.0], [5.0, 1.0], [2.0, 2.0]])
    np.testing.assert_array_equal(non_dominated(F), [0, 1, 3])


def test_migrants_are_injected_by_ask_and_tell(gen_problem: Problem) -> None:
    s = NSGA2Solver(gen_problem, seed=2, settings={"population": 10, **NO_CURRENT})
    s.step(Deadline(None))
    s.step(Deadline(None))
    current = repair(gen_problem, gen_problem.cluster.current_assignment())
    migrations = Evaluator(gen_problem).batch(s.population()).values["migrations"]
    assert not (s.population() == current).all(axis=1).any()
    assert migrations.min() > Evaluator(gen_problem).one(current, details=False).values["migrations"]
    s.accept(current[None])
    s.step(Deadline(None))
    assert s.progress.migrants_accepted == 1
    assert (s.population() == current).all(axis=1).any(), "the fewest-migrations migrant did not survive"
    assert len(s.population()) == 10
    front_x, _ = s.front()
    assert (front_x == current).all(axis=1).any()


def test_migrants_before_the_first_step_join_the_seeds(gen_problem: Problem) -> None:
    s = NSGA2Solver(gen_problem, seed=2, settings={"population": 6, **NO_CURRENT})
    migrant = construct(gen_problem, "dpd")
    s.accept(migrant[None])
    s.step(Deadline(None))
    assert (s.population() == migrant).all(axis=1).any()


def test_reproducible_from_the_seed(gen_problem: Problem) -> None:
    a, b = run(gen_problem, 3, seed=5), run(gen_problem, 3, seed=5)
    np.testing.assert_array_equal(a.population(), b.population())
    np.testing.assert_array_equal(a.front()[1], b.front()[1])
    assert not np.array_equal(a.population(), run(gen_problem, 3, seed=6).population())


def test_expired_deadline_makes_no_new_assignments(gen_problem: Problem) -> None:
    s = run(gen_problem, 1, seed=4)
    before = {x.tobytes() for x in s.population()}
    s.step(Deadline(0.0))  # no crossover or mutation: every child a copy, dropped as duplicate
    assert {x.tobytes() for x in s.population()} <= before
    assert len(s.population()) == 10


def test_run_stops_on_cancel(gen_problem: Problem) -> None:
    cancel = threading.Event()
    s = NSGA2Solver(gen_problem, seed=7, settings={"population": 6})
    threading.Timer(0.5, cancel.set).start()
    best = s.run(Deadline(None, cancel))
    assert cancel.is_set() and best.feasible
    assert NSGA2Solver(gen_problem, seed=7).run(Deadline(0.0)).feasible
