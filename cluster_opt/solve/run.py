"""Run one algorithm on a problem within a time budget: a construction heuristic, a
solver from the registry, or ``auto``.

``auto`` seeds from the current placement (repaired) and the construction heuristics,
then runs phases, each starting from the best solutions so far (:func:`auto_phases`): host
reduction (:mod:`cluster_opt.solve.reduce`) for half the budget, then the exact CP-SAT
model when the problem is small enough to solve outright, else simulated annealing (or
more reduction when only host counts are weighted).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from cluster_opt.evaluate import Evaluator, Problem
from cluster_opt.solve import construct
from cluster_opt.solve.base import Deadline, Solution, Solver
from cluster_opt.solve.registry import solvers
from cluster_opt.solve.relabel import fewest_moves, settled

#: Heuristics tried for seeds (cheap ones; bin-centric only on small problems).
SEED_HEURISTICS = ("ffd", "bfd", "wfd", "dpd", "bfd-max", "ffd-sum")
#: Up to this many VM-host pairs the exact model is tried by ``auto``.
EXACT_PAIRS = 40_000


def seed_solutions(problem: Problem) -> np.ndarray:
    """int32[S, V]: the current placement repaired (when there is one) and one solution
    per seed heuristic (plus the bin-centric ones below 3,000 VMs)."""
    c = problem.cluster
    seeds = []
    if (c.vms.current >= 0).any():
        seeds.append(construct.repair(problem, c.current_assignment()))
    names = SEED_HEURISTICS + (("bcs-dp", "bcs-l2") if c.n_vms <= 3000 else ())
    seeds += [construct.construct(problem, h) for h in names]
    return np.stack(seeds).astype(np.int32)


#: Terms whose value only depends on which hosts are on and how full they are.
HOST_COUNT_TERMS = frozenset({"active_hosts", "consolidation", "energy_watts"})


def auto_phases(problem: Problem) -> list[tuple[str, float]]:
    """``auto``'s phases as (solver, share of the remaining time): host reduction first;
    then the exact model when the problem is small, else annealing, unless only host-count
    terms are weighted (pure packing), where reduction gets all the time."""
    pairs = problem.cluster.n_vms * int(problem.cluster.usable.sum())
    if pairs <= EXACT_PAIRS:
        return [("reduce", 0.5), ("cpsat", 1.0)]
    weighted = {
        t.name
        for t, w, h in zip(problem.terms, problem.weights, problem.hard, strict=True)
        if w > 0 and not h
    }
    if weighted <= HOST_COUNT_TERMS:
        return [("reduce", 1.0)]
    return [("reduce", 0.5), ("anneal", 1.0)]


def algorithms() -> list[str]:
    """Every name ``solve`` accepts."""
    return ["auto", *construct.RULES, *sorted(solvers())]


def solve(
    problem: Problem,
    algo: str = "auto",
    *,
    seconds: float = 10.0,
    seed: int = 0,
    seeds: np.ndarray | None = None,
    settings: Mapping[str, Any] | None = None,
    cancel: threading.Event | None = None,
) -> tuple[Solution, Solver | None]:
    """Best solution found by ``algo`` within ``seconds`` (and the solver, for its
    statistics; None for a heuristic). Raises ValueError for an unknown algorithm."""
    deadline = Deadline(seconds, cancel)
    registry = solvers()
    if algo not in registry and algo != "auto":
        try:
            construct.Heuristic.parse(algo)
        except ValueError:
            raise ValueError(f"unknown algorithm {algo!r}; choose from {', '.join(algorithms())}") from None
        x = fewest_moves(problem.cluster, construct.construct(problem, algo))
        ev = Evaluator(problem).batch(x[None])
        return Solution(x, float(ev.score[0]), bool(ev.feasible[0])), None
    pool = seed_solutions(problem) if seeds is None else np.asarray(seeds, dtype=np.int32)
    if algo != "auto":
        chosen = dict(settings or {})
        if seeds is None and "heuristics" in registry[algo].Settings.model_fields:
            chosen.setdefault("heuristics", [])  # the pool already holds the heuristics' solutions
        solver = registry[algo](problem, pool, seed=seed, settings=chosen)
        return settled(problem, solver.run(deadline)), solver
    phases = auto_phases(problem)
    solver = None
    history: list[tuple[float, float]] = []  # both phases, in seconds since the start
    notes: list[str] = []
    for i, (name, share) in enumerate(phases):
        start = deadline.elapsed()
        solver = registry[name](problem, pool, seed=seed + i)
        solver.run(deadline.within(share * deadline.remaining()))
        history += [(start + t, score) for t, score in solver.progress.history]
        notes += solver.progress.notes
        pool = solver.elites(4)
    assert solver is not None
    solver.progress.history, solver.progress.notes = history, notes
    return settled(problem, solver.best()), solver
