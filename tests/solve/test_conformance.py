"""Every registered solver keeps the :class:`~cluster_opt.solve.base.Solver` contract, plus
unit tests of the shared parts (Deadline, Archive, register_solver).

The solvers come from ``cluster_opt.solve.registry`` (which imports every solver module),
so a new solver is tested as soon as it registers itself there.
"""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest

from cluster_opt.evaluate import Evaluator, Problem
from cluster_opt.solve.base import SOLVERS, Archive, Deadline, Solution, Solver, register_solver
from cluster_opt.solve.construct import construct, repair
from cluster_opt.solve.registry import solvers

from .conftest import assert_feasible

ALL = solvers()
NAMES = sorted(ALL)
STEP_SECONDS = 0.3


def seed_pool(problem: Problem) -> np.ndarray:
    """Feasible seeds: FFD, BFD and the repaired current placement."""
    cur = repair(problem, problem.cluster.current_assignment())
    return np.stack([construct(problem, "ffd"), construct(problem, "bfd"), cur])


def keys(problem: Problem, pop: np.ndarray) -> list[tuple[int, float]]:
    """Solution sort keys (feasible first, then score) by the batch evaluator."""
    batch = Evaluator(problem).batch(pop)
    return [
        Solution(x, float(s), bool(f)).key for x, s, f in zip(pop, batch.score, batch.feasible, strict=True)
    ]


@pytest.fixture(scope="module", params=["example", "generated"])
def problem(request, example_problem: Problem, gen_problem: Problem) -> Problem:
    return {"example": example_problem, "generated": gen_problem}[request.param]


def make(name: str, problem: Problem, seeds: np.ndarray | None, seed: int = 1, **settings) -> Solver:
    return ALL[name](problem, seeds, seed=seed, settings=settings or None)


def test_registry_has_the_solvers() -> None:
    assert "anneal" in ALL
    for name, cls in ALL.items():
        assert issubclass(cls, Solver) and cls.name == name


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", NAMES)
def test_construct_step_best_elites_state(name: str, problem: Problem) -> None:
    seeds = seed_pool(problem)
    best_seed = min(keys(problem, seeds))
    solver = make(name, problem, seeds)
    np.testing.assert_array_equal(solver.seeds, seeds)
    solver.run(Deadline(STEP_SECONDS))
    assert solver.progress.steps >= 1, "step() does not count itself in progress.steps"

    best = solver.best()
    assert isinstance(best, Solution) and best.x.dtype == np.int32
    assert best.feasible
    assert_feasible(problem, best.x)
    assert keys(problem, best.x[None])[0] == pytest.approx(best.key), "archived score is not the evaluator's"
    assert best.key <= best_seed, "worse than the best seed"

    elites = solver.elites(4)
    assert elites.dtype == np.int32 and elites.ndim == 2 and 1 <= len(elites) <= 4
    assert elites.shape[1] == problem.cluster.n_vms
    assert len(np.unique(elites, axis=0)) == len(elites), "elites not distinct"
    ek = keys(problem, elites)
    assert ek == sorted(ek), "elites not sorted best first"
    np.testing.assert_array_equal(elites[0], best.x)
    assert solver.elites(0).shape == (0, problem.cluster.n_vms)

    state = solver.state()
    assert isinstance(state, dict) and state["name"] == name
    pickle.loads(pickle.dumps(state))  # islands ship it between processes


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", NAMES)
def test_accept_counts_migrants_and_keeps_the_better(name: str, gen_problem: Problem) -> None:
    problem = gen_problem
    wf = construct(problem, "wf")
    good = np.stack([construct(problem, h) for h in ("ffd", "bfd", "dpd")])
    good_key = min(keys(problem, good))
    assert good_key < keys(problem, wf[None])[0]
    solver = make(name, problem, wf[None])
    solver.accept(good)
    assert solver.progress.migrants_accepted == len(good)
    solver.accept(good[:1])  # a repeat is still counted
    assert solver.progress.migrants_accepted == len(good) + 1
    solver.step(Deadline(STEP_SECONDS))  # some solvers take migrants in at their next step
    assert solver.best().key <= good_key


@pytest.mark.parametrize("name", NAMES)
def test_unknown_setting_is_rejected(name: str, tiny_problem: Problem) -> None:
    with pytest.raises(ValueError, match="no_such_setting"):
        make(name, tiny_problem, None, no_such_setting=1)
    ALL[name].Settings()  # every setting has a default


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", NAMES)
def test_run_returns_on_a_cancelled_deadline(name: str, example_problem: Problem) -> None:
    seeds = seed_pool(example_problem)
    solver = make(name, example_problem, seeds)
    deadline = Deadline(None)
    deadline.cancel()
    best = solver.run(deadline)
    assert isinstance(best, Solution) and best.key <= min(keys(example_problem, seeds))
    solver.step(deadline)  # a step on a cancelled deadline returns too


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", NAMES)
def test_cancel_from_another_thread(name: str, gen_problem: Problem) -> None:
    solver = make(name, gen_problem, seed_pool(gen_problem))
    deadline = Deadline(None)
    timer = threading.Timer(STEP_SECONDS, deadline.cancel)
    timer.start()
    try:
        best = solver.run(deadline)  # returns once cancelled (or when the solver is done)
    finally:
        timer.cancel()
    assert best.feasible


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", NAMES)
def test_without_seeds_the_solver_builds_its_own(name: str, example_problem: Problem) -> None:
    solver = make(name, example_problem, None)
    best = solver.run(Deadline(STEP_SECONDS))
    assert best.feasible
    assert_feasible(example_problem, best.x)


# --- shared parts -------------------------------------------------------------------------------
class ManualClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_deadline() -> None:
    clock = ManualClock()
    d = Deadline(10.0, clock=clock)
    assert not d.expired() and d.remaining() == 10.0 and d.fraction() == 0.0
    clock.t += 4.0
    assert d.remaining() == pytest.approx(6.0) and d.fraction() == pytest.approx(0.4)
    assert d.elapsed() == pytest.approx(4.0)
    sub = d.within(2.0)
    assert sub.remaining() == pytest.approx(2.0)
    assert d.within(100.0).remaining() == pytest.approx(6.0)  # never past the parent
    clock.t += 2.5
    assert sub.expired() and not d.expired()
    sub.cancel()  # shares the parent's cancellation
    assert d.expired() and d.remaining() == 0.0
    clock.t += 100.0
    assert d.fraction() == 1.0

    forever = Deadline(None, clock=clock)
    clock.t += 1e9
    assert not forever.expired() and forever.remaining() == float("inf") and forever.fraction() == 0.0
    event = threading.Event()
    d = Deadline(None, cancel=event)
    event.set()
    assert d.expired()
    assert Deadline(-5.0).expired() and Deadline(0.0).fraction() == 1.0


def test_archive() -> None:
    a = Archive(3)
    x = [np.full(4, i, dtype=np.int32) for i in range(6)]
    with pytest.raises(LookupError):
        a.best()
    assert a.offer(x[0], 10.0, False)
    assert a.offer(x[1], 50.0, True)  # feasible beats infeasible whatever the score
    assert not a.offer(x[1], 1.0, True)  # the same assignment again is ignored
    assert not a.offer(x[2], 60.0, True)
    assert a.offer(x[3], 40.0, True)
    assert [s.score for s in a.items] == [40.0, 50.0, 60.0]  # the infeasible one dropped
    assert not a.offer(x[4], 70.0, True)  # full and worse than the worst kept
    assert len(a) == 3 and a.best().score == 40.0
    assert [s.score for s in a.top(2)] == [40.0, 50.0] and a.top(0) == []
    assert a.offer(x[0], 5.0, True)  # a dropped assignment may come back
    assert [s.score for s in a.items] == [5.0, 40.0, 50.0]
    y = x[5].astype(np.int64)
    assert a.offer(y, 1.0, True)
    y[:] = 7  # the archive holds its own int32 copy
    assert a.best().x.dtype == np.int32 and (a.best().x == 5).all()
    assert not a.offer(x[5], 0.5, True)  # same assignment, whatever its dtype was


def test_register_solver_rejects_a_duplicate_name() -> None:
    class Dummy(Solver):
        name = NAMES[0]

        def step(self, deadline: Deadline) -> None:
            pass

    with pytest.raises(ValueError, match="registered twice"):
        register_solver(Dummy)
    assert SOLVERS[NAMES[0]] is ALL[NAMES[0]]
