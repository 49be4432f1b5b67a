"""Simulated annealing: it improves bad seeds, stays feasible, honours deadlines and
cancellation, is reproducible from its seed with an iteration budget, takes migrants, and
each move type works on its own. ``check=True`` (assert mode) compares the running score
with the batch evaluator at every new best, so every run here also checks for drift."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from cluster_opt.evaluate import Evaluator, Problem
from cluster_opt.solve.anneal import Anneal, AnnealSettings
from cluster_opt.solve.base import Deadline
from cluster_opt.solve.construct import construct

from .conftest import assert_feasible

ITERATIONS = 40_000
MOVE_TYPES = sorted(f for f in AnnealSettings.model_fields if f.startswith("p_"))


def score(problem: Problem, x: np.ndarray) -> float:
    return float(Evaluator(problem).batch(np.asarray(x, dtype=np.int32)[None]).score[0])


def run(problem: Problem, seeds: np.ndarray | None, seed: int = 0, **settings) -> Anneal:
    solver = Anneal(problem, seeds, seed=seed, settings={"iterations": ITERATIONS, "check": True, **settings})
    solver.run(Deadline(None))
    return solver


def piled_up(problem: Problem, rng: np.random.Generator, gpu: bool = False) -> np.ndarray:
    """A worst-fit placement with 60 VMs piled on three hosts without GPUs: overloaded
    (and with ``gpu``, four GPU VMs among them)."""
    c = problem.cluster
    x = construct(problem, "wf")
    hosts = np.flatnonzero(c.usable & (c.hosts.gpu_model < 0))[:3]
    plain = np.flatnonzero(c.vms.migratable & (c.vms.demand[:, c.resource_index("gpus")] == 0))
    vms = rng.choice(plain, 56 if gpu else 60, replace=False)
    if gpu:
        vms = np.union1d(vms, np.flatnonzero(c.vms.gpu_model >= 0)[:4])
    x[vms] = hosts[rng.integers(0, 3, len(vms))]
    return x


# --- quality --------------------------------------------------------------------------------------
@pytest.mark.parametrize("start", ["wf", "repaired current", "raw current"])
def test_improves_a_bad_seed(gen_problem: Problem, start: str) -> None:
    c = gen_problem.cluster
    seeds = {
        "wf": construct(gen_problem, "wf")[None],
        "repaired current": None,  # the solver repairs the current placement itself
        "raw current": c.current_assignment()[None],  # VMs on drained hosts, pending VMs
    }[start]
    solver = run(gen_problem, seeds)
    first = solver.seeds[0]
    best = solver.best()
    assert best.feasible
    assert_feasible(gen_problem, best.x)
    assert best.score == pytest.approx(score(gen_problem, best.x), rel=1e-9)
    assert best.score < score(gen_problem, first) - 1.0
    assert solver.progress.steps >= 2 and solver.iterations == ITERATIONS
    assert solver.progress.improvements >= 1 and solver.progress.history


@pytest.mark.parametrize("cooling", ["geometric", "adaptive"])
@pytest.mark.parametrize("acceptance", ["metropolis", "late"])
def test_schedules_run_without_drift(gen_problem: Problem, cooling: str, acceptance: str) -> None:
    x = construct(gen_problem, "wf")
    solver = run(gen_problem, x[None], cooling=cooling, acceptance=acceptance, chunk=5000)
    assert solver.progress.steps == ITERATIONS // 5000
    assert solver.best().feasible and solver.best().score < score(gen_problem, x)


@pytest.mark.parametrize("move", MOVE_TYPES)
def test_each_move_type_alone(gen_problem: Problem, move: str) -> None:
    """Only one move type: it still runs without drift and never makes the best worse.
    Shift and swap improve a worst-fit placement; every type improves a piled-up one
    (``relieve`` only acts on overloaded hosts; ``empty`` rarely finds room for a whole
    host, so it is only required to improve the piled-up start)."""
    only = {p: 0.0 for p in MOVE_TYPES} | {move: 1.0}
    wf = construct(gen_problem, "wf")
    solver = run(gen_problem, wf[None], **only)
    assert solver.best().feasible
    assert solver.best().score <= score(gen_problem, wf)
    if move in ("p_shift", "p_swap"):
        assert solver.best().score < score(gen_problem, wf) - 1.0
        assert solver.accepted > 100
    bad = piled_up(gen_problem, np.random.default_rng(0))
    solver = run(gen_problem, bad[None], **only)
    assert solver.best().score < score(gen_problem, bad)


def test_all_move_probabilities_zero_is_rejected(tiny_problem: Problem) -> None:
    with pytest.raises(ValueError, match="probabilit"):
        Anneal(tiny_problem, settings={p: 0.0 for p in MOVE_TYPES})


def test_tiny_and_example_problems(tiny_problem: Problem, example_problem: Problem) -> None:
    for problem in (tiny_problem, example_problem):
        seeds = construct(problem, "wf")[None]
        solver = run(problem, seeds, chunk=2000, iterations=10_000)
        assert solver.best().feasible
        assert solver.best().score <= score(problem, seeds[0])
        assert_feasible(problem, solver.best().x)


def test_adaptive_cooling_cools_while_it_improves(gen_problem: Problem) -> None:
    wf = construct(gen_problem, "wf")
    settings = {"iterations": 60_000, "chunk": 10_000, "cooling": "adaptive"}
    solver = Anneal(gen_problem, wf[None], seed=0, settings=settings)
    deadline = Deadline(None)
    temperatures, improvements = [], []
    for _ in range(3):
        solver.step(deadline)
        temperatures.append(solver.temperature)
        improvements.append(solver.progress.improvements)
    assert improvements[0] < improvements[1] < improvements[2], "precondition: a new best in every step"
    assert temperatures[0] > temperatures[1] > temperatures[2]


# --- deadlines and cancellation -----------------------------------------------------------------
class TickClock:
    """A fake clock that advances one second per reading."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


def test_deadline_is_honoured(gen_problem: Problem) -> None:
    solver = Anneal(gen_problem, construct(gen_problem, "wf")[None], seed=1, settings={"chunk": 1000})
    deadline = Deadline(6.0, clock=TickClock())
    solver.run(deadline)
    assert deadline.expired()
    assert 1 <= solver.progress.steps <= 6  # the clock is read at least once per step
    # an expired deadline: no step at all, the best seed comes back
    solver = Anneal(gen_problem, construct(gen_problem, "wf")[None], seed=1)
    best = solver.run(Deadline(0.0))
    assert solver.progress.steps == 0 and best.feasible


@pytest.mark.timeout(120)
def test_cancel_from_another_thread_returns(gen_problem: Problem) -> None:
    solver = Anneal(gen_problem, None, seed=2, settings={"chunk": 2000})
    deadline = Deadline(None)  # no time limit: only cancel() stops it
    timer = threading.Timer(0.5, deadline.cancel)
    timer.start()
    try:
        best = solver.run(deadline)
    finally:
        timer.cancel()
    assert deadline.expired() and deadline.remaining() == 0.0
    assert best.feasible and solver.progress.steps >= 1


# --- reproducibility -----------------------------------------------------------------------------
def test_same_seed_and_iterations_give_the_same_assignment(gen_problem: Problem) -> None:
    wf = construct(gen_problem, "wf")[None]
    a = run(gen_problem, wf, seed=3, chunk=10_000)
    b = run(gen_problem, wf, seed=3, chunk=10_000)
    np.testing.assert_array_equal(a.best().x, b.best().x)
    assert a.best().score == b.best().score and a.accepted == b.accepted
    c = run(gen_problem, wf, seed=4, chunk=10_000)
    assert not np.array_equal(a.best().x, c.best().x)


def test_interleaved_solvers_are_reproducible(gen_problem: Problem) -> None:
    wf = construct(gen_problem, "wf")[None]
    settings = {"iterations": 20_000, "chunk": 5000}
    alone = Anneal(gen_problem, wf, seed=1, settings=settings)
    alone.run(Deadline(None))
    a = Anneal(gen_problem, wf, seed=1, settings=settings)
    b = Anneal(gen_problem, wf, seed=2, settings=settings)
    deadline = Deadline(None)
    while not (a.done and b.done):
        a.step(deadline)
        b.step(deadline)
    np.testing.assert_array_equal(a.best().x, alone.best().x)


def test_run_in_another_thread_is_reproducible(gen_problem: Problem) -> None:
    wf = construct(gen_problem, "wf")[None]
    settings = {"iterations": 20_000, "chunk": 5000}
    here = Anneal(gen_problem, wf, seed=1, settings=settings).run(Deadline(None))
    there = Anneal(gen_problem, wf, seed=1, settings=settings)
    worker = threading.Thread(target=there.run, args=(Deadline(None),))
    worker.start()
    worker.join()
    np.testing.assert_array_equal(there.best().x, here.x)


# --- migrants -------------------------------------------------------------------------------------
def test_accept_restarts_from_a_better_migrant(gen_problem: Problem) -> None:
    wf = construct(gen_problem, "wf")
    good = run(gen_problem, wf[None], seed=5).best()
    solver = Anneal(gen_problem, wf[None], seed=6, settings={"iterations": 10_000, "check": True})
    assert solver.best().score > good.score
    worse = piled_up(gen_problem, np.random.default_rng(1))
    solver.accept(worse[None])  # a worse migrant: counted, no restart
    assert solver.progress.migrants_accepted == 1
    np.testing.assert_array_equal(solver.state_.x, wf)
    solver.accept(np.stack([good.x, worse]))
    assert solver.progress.migrants_accepted == 3
    np.testing.assert_array_equal(solver.state_.x, good.x)
    assert solver.best().score == pytest.approx(good.score)
    solver.run(Deadline(None))  # continues from the migrant without drift (check=True)
    assert solver.best().score <= good.score + 1e-9


# --- relieve on hosts without a resource ---------------------------------------------------------
def test_relieve_with_a_gpu_vm_on_a_host_without_gpus(gen_problem: Problem) -> None:
    """Regression: the overload of a host was divided by its capacity, which is 0 for the
    gpus of a host without GPUs (ZeroDivisionError in numba)."""
    bad = piled_up(gen_problem, np.random.default_rng(0), gpu=True)
    solver = run(gen_problem, bad[None], **({p: 0.0 for p in MOVE_TYPES} | {"p_relieve": 1.0}))
    assert solver.best().score < score(gen_problem, bad)
