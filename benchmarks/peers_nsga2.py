"""Stock pymoo NSGA-II as a peer of our ``nsga2`` solver, at equal evaluations.

Stock = pymoo 0.6.2's documented integer setup: ``IntegerRandomSampling``, ``SBX`` and
``PM`` (prob 1.0, eta 3.0, on floats) with ``RoundingRepair``, pymoo's default duplicate
elimination and NSGA-II survival. Everything else is shared with our solver so that only
the operators and the initial population differ: the same pymoo problem (integer variables
in [-1, H-1]), the same objectives and constraint ``G`` (the evaluator's hard penalty plus
VMs left unplaced beyond our initial population's fewest), the same front archive (every
feasible individual evaluated, non-dominated, at most ``front_size`` points), the same
evaluation counter, and one normalisation for the hypervolume: our solver's (ideal = the
problem's lower bounds, nadir = 1.1 x the worst of our initial population's feasible
individuals, reference point (1, ..., 1)). ``seeded`` starts stock NSGA-II from our initial
population instead of random integers, to separate the operators' effect from the seeding.
"""

from __future__ import annotations

import time

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.core.termination import NoTermination
from pymoo.indicators.hv import HV
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.operators.repair.rounding import RoundingRepair
from pymoo.operators.sampling.rnd import IntegerRandomSampling

from cluster_opt.evaluate import Problem
from cluster_opt.solve.base import Archive, Deadline, Progress
from cluster_opt.solve.nsga2 import NSGA2Solver


def hypervolume(reference: NSGA2Solver, F: np.ndarray) -> float:
    """Hypervolume of objective rows ``F`` under ``reference``'s normalisation, reference
    point (1, ..., 1); 0 for no rows."""
    if not len(F):
        return 0.0
    return float(HV(ref_point=np.ones(F.shape[1])).do(reference.normalise(F)))


def snapshot(solver: NSGA2Solver, reference: NSGA2Solver, seconds: float) -> dict:
    """Where a run stands: evaluations, front size and hypervolume, best scalar solution."""
    best = solver.best()
    _, F = solver.front()
    return {
        "seconds": seconds,
        "evaluations": solver.progress.evaluations,
        "generations": solver.progress.steps,
        "front": len(F),
        "hv": hypervolume(reference, F),
        "score": best.score,
        "feasible": best.feasible,
        "x": best.x,
    }


def run_ours_nsga2(
    problem: Problem, seconds: float, seed: int, population: int
) -> tuple[NSGA2Solver, dict, np.ndarray]:
    """Our ``nsga2`` (default settings and seeding) for ``seconds``: (solver, snapshot,
    initial population int32[P, V])."""
    solver = NSGA2Solver(problem, seed=seed, settings={"population": population})
    start = time.monotonic()
    deadline = Deadline(seconds)
    solver.step(deadline)  # the initial population
    initial = solver.population()
    solver.run(deadline)
    return solver, snapshot(solver, solver, time.monotonic() - start), initial


def stock_solver(
    problem: Problem, seed: int, settings: dict, floor: float | None, initial: np.ndarray | None
) -> NSGA2Solver:
    """An NSGA2Solver (``settings``: population, objectives, front_size) whose pymoo
    algorithm is replaced by stock NSGA-II (random integer sampling, or ``initial`` when
    given); archive and counters start empty, and the unplaced floor of ``G`` is ``floor``."""
    solver = NSGA2Solver(problem, seed=seed, settings={**settings, "heuristics": [], "seed_current": False})
    solver.archive = Archive(solver.settings.archive_size)  # forget the start the constructor scored
    solver.progress = Progress()
    solver.unplaced_floor = floor
    solver.algorithm = NSGA2(
        pop_size=solver.settings.population,
        sampling=IntegerRandomSampling() if initial is None else initial,
        crossover=SBX(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
        mutation=PM(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
        eliminate_duplicates=True,
    )
    solver.algorithm.setup(solver.pymoo_problem, termination=NoTermination(), seed=seed, verbose=False)
    return solver


def run_stock(
    problem: Problem,
    seed: int,
    *,
    seconds: float,
    cap: float,
    evaluations: int = 0,
    reference: NSGA2Solver | None = None,
    settings: dict | None = None,
    initial: np.ndarray | None = None,
) -> dict[str, dict | None]:
    """Stock NSGA-II until it has both run ``seconds`` and made ``evaluations``
    evaluations, or ``cap`` seconds pass: snapshots ``at_time`` (first generation boundary
    after ``seconds``, or at the cap) and ``at_evaluations`` (first after ``evaluations``;
    None when the cap came first). With a ``reference`` (our solver after its run) its
    settings, unplaced floor and normalisation are used; else ``settings`` and the stock
    solver's own normalisation."""
    if reference is not None:
        st = reference.settings
        settings = {"population": st.population, "objectives": st.objectives, "front_size": st.front_size}
    solver = stock_solver(
        problem, seed, settings or {}, None if reference is None else reference.unplaced_floor, initial
    )
    norm = reference or solver
    start = time.monotonic()
    deadline = Deadline(cap)
    out: dict[str, dict | None] = {"at_time": None, "at_evaluations": None}
    while not deadline.expired():
        solver.step(deadline)
        elapsed = time.monotonic() - start
        if out["at_time"] is None and elapsed >= seconds:
            out["at_time"] = snapshot(solver, norm, elapsed)
        if out["at_evaluations"] is None and solver.progress.evaluations >= evaluations:
            out["at_evaluations"] = snapshot(solver, norm, elapsed)
        if out["at_time"] is not None and out["at_evaluations"] is not None:
            break
    if out["at_time"] is None:
        out["at_time"] = snapshot(solver, norm, time.monotonic() - start)
    return out
