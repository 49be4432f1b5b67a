"""One island: a solver of the library per partition it has worked on, run in slices.

:class:`Island` is plain Python (the engine wraps it as a Ray actor; tests can use it
directly). The engine hands it one *unit* at a time: a partition, that partition's current
elites (the migrants: the best solutions any island has found for it) and a budget. The
island builds the partition's :class:`~cluster_opt.evaluate.Problem` and solver on first
use (seeded with the migrants and the construction heuristics), afterwards passes the
migrants to ``solver.accept``, runs the solver for the budget and returns its elites. The
partition's state therefore lives in two places: the island's solver (population,
temperature, neighbourhood sizes) and the engine's elites, from which a restarted island
resumes.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cluster_opt.distributed.partition import writable
from cluster_opt.evaluate import EvaluationConfig, Problem
from cluster_opt.model import Cluster
from cluster_opt.solve.base import Deadline, Solver
from cluster_opt.solve.registry import solvers
from cluster_opt.solve.run import seed_solutions


@dataclass
class UnitResult:
    """What one unit of work on one partition produced."""

    island: int
    partition: int
    elites: np.ndarray  # int32[k, Vp] best first
    scores: np.ndarray  # float64[k]
    feasible: np.ndarray  # bool[k]
    seconds: float
    steps: int
    evaluations: int
    done: bool  # the solver can do no more on this partition
    notes: list[str]  # the solver's notes for the user (e.g. terms it ignores)


def peak_rss_mib() -> float:
    """Peak resident memory of this process, MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class TickClock:
    """A clock that advances one tick each time it is read. A deadline measured in it
    counts deadline checks, so how much a solver does within it depends only on its code
    path and random state, not on the machine's speed (reproducible runs)."""

    def __init__(self) -> None:
        self.ticks = 0

    def __call__(self) -> float:
        self.ticks += 1
        return float(self.ticks)


class Island:
    """Runs ``algo`` (a registered solver name) on the partitions it is given.

    ``clusters[p]`` is partition ``p``'s cluster (shared read-only through the object
    store when the island is a Ray actor); ``seed`` seeds every solver it creates
    (partition ``p`` gets ``seed + p``, so a run is reproducible for a given island count).
    """

    def __init__(
        self,
        index: int,
        algo: str,
        clusters: Sequence[Cluster],
        config: EvaluationConfig,
        *,
        seed: int = 0,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        registry = solvers()
        if algo not in registry:
            raise ValueError(f"unknown solver {algo!r}; choose from {', '.join(sorted(registry))}")
        self.index = index
        self.algo = algo
        self.cls = registry[algo]
        self.clusters = clusters
        self.config = config
        self.seed = int(seed)
        self.settings = dict(settings or {})
        self.solvers: dict[int, Solver] = {}

    def load(self, clusters: Sequence[Cluster]) -> None:
        """Work on a new set of partitions from now on (the solvers start afresh)."""
        self.clusters = clusters
        self.solvers = {}

    def peak_memory_mib(self) -> float:
        """Peak resident memory of the process running this island, MiB."""
        return peak_rss_mib()

    def _solver(self, p: int, migrants: np.ndarray) -> tuple[Solver, bool]:
        """(solver of partition ``p``, created now)."""
        solver = self.solvers.get(p)
        if solver is not None:
            return solver, False
        problem = Problem(writable(self.clusters[p]), self.config)  # type: ignore[arg-type]
        seeds = np.vstack([migrants, seed_solutions(problem)]) if len(migrants) else seed_solutions(problem)
        solver = self.cls(problem, seeds, seed=self.seed + p, settings=self.settings)
        self.solvers[p] = solver
        return solver, True

    def work(self, p: int, migrants: np.ndarray, seconds: float, ticks: bool = False) -> UnitResult:
        """Run partition ``p`` for ``seconds`` of wall clock (or, with ``ticks``, that
        many :class:`TickClock` ticks) after taking ``migrants`` (int32[m, Vp]); returns
        the solver's elites."""
        start = time.monotonic()
        deadline = Deadline(seconds, clock=TickClock()) if ticks else Deadline(seconds)
        migrants = np.array(migrants, dtype=np.int32).reshape(-1, self.clusters[p].n_vms)  # writable copy
        solver, created = self._solver(p, migrants)
        if not created and len(migrants):
            solver.accept(migrants)
        evaluations, steps = solver.progress.evaluations, solver.progress.steps
        solver.run(deadline)
        top = solver.archive.top(len(solver.archive))
        return UnitResult(
            island=self.index,
            partition=p,
            elites=np.stack([s.x for s in top]).astype(np.int32),
            scores=np.array([s.score for s in top]),
            feasible=np.array([s.feasible for s in top]),
            seconds=time.monotonic() - start,
            steps=solver.progress.steps - steps,
            evaluations=solver.progress.evaluations - evaluations,
            done=solver.done,
            notes=solver.progress.notes,
        )
