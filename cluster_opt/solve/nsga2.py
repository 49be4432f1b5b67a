"""NSGA-II on pymoo over the batch evaluator: a Pareto front of placements trading off
objectives chosen from the settings (default energy, hourly cost, latency and migrations).

The parts are pymoo's (``Problem``, ``Sampling``, ``Crossover``, ``Mutation``, ``Repair``,
duplicate elimination, NSGA-II's rank-and-crowding survival and binary tournament), driven
through ``ask``/``tell`` so that one :meth:`NSGA2Solver.step` is one generation and migrants
from other islands replace offspring before they are evaluated (the population size stays
fixed). The operators are the shared ones of :mod:`cluster_opt.solve.operators`; ``Repair``
runs :func:`cluster_opt.solve.construct.repair`.

Objectives are the named evaluator terms, ``F = batch.matrix(objectives)``. The single
constraint ``G`` is the weighted hard penalty of the evaluator, so an infeasible individual
is dominated by every feasible one; it also counts VMs left unplaced beyond the fewest
unplaced in the initial population (times the ``unplaced`` weight, at least 1), so that no
point buys lower energy or cost by dropping VMs (unless ``unplaced`` is itself an objective).

Besides pymoo's population the solver keeps the front of every feasible individual
evaluated (non-dominated, distinct, at most ``front_size`` points, thinned by crowding
distance) and its hypervolume. Every evaluated individual is also offered to the scalar
archive with the evaluator's score, so :meth:`best` is comparable with every other solver.

Hypervolume normalisation (fixed at the first evaluation, so values are comparable across
generations): each objective f becomes (f - ideal) / (nadir - ideal) with ideal the
problem's lower bound of that term (0 when it has none) and nadir 1.1 x the largest value in
the initial population's feasible individuals (all of them if none is feasible); the
reference point is (1, ..., 1). A span of zero is replaced by max(|nadir|, 1).

Per generation: P crossovers, mutations and repairs, one batch evaluation O(P (V + H) R),
non-dominated sorting O(n_obj P^2) and the front update O(n_obj (F + P)^2).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field, field_validator
from pymoo.algorithms.moo.nsga2 import NSGA2, binary_tournament
from pymoo.core.crossover import Crossover
from pymoo.core.duplicate import DuplicateElimination
from pymoo.core.mating import Mating
from pymoo.core.mutation import Mutation
from pymoo.core.population import Population
from pymoo.core.problem import Problem as PymooProblem
from pymoo.core.repair import Repair
from pymoo.core.sampling import Sampling
from pymoo.core.termination import NoTermination
from pymoo.indicators.hv import HV
from pymoo.operators.selection.tournament import TournamentSelection
from pymoo.operators.survival.rank_and_crowding.metrics import calc_crowding_distance
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from cluster_opt.evaluate import Problem
from cluster_opt.evaluate.context import as_population
from cluster_opt.solve.base import Deadline, Solver, SolverSettings, register_solver
from cluster_opt.solve.construct import repair
from cluster_opt.solve.operators import EvolutionSettings, Operators

#: Multiplier of the initial population's worst objective values giving the HV nadir.
NADIR_MARGIN = 1.1


class NSGA2Settings(EvolutionSettings):
    objectives: list[str] = Field(
        default_factory=lambda: ["energy_watts", "hourly_cost", "latency_ms", "migrations"], min_length=2
    )
    front_size: int = Field(default=100, ge=1, description="most points kept on the Pareto front")
    mating_attempts: int = Field(
        default=3, ge=1, description="matings per generation pymoo may run to replace duplicate offspring"
    )

    @field_validator("objectives")
    @classmethod
    def _distinct(cls, names: list[str]) -> list[str]:
        if len(set(names)) != len(names):
            raise ValueError(f"objectives must be distinct; got {names}")
        return names


class PlacementProblem(PymooProblem):
    """pymoo's view of the placement problem: integer variables (host index per VM, -1 =
    unplaced), ``len(objectives)`` objectives and one inequality constraint, evaluated
    vectorised by the solver. It also carries what the operators need: the shared
    :class:`Operators` and the deadline of the running step."""

    def __init__(self, solver: NSGA2Solver) -> None:
        c = solver.problem.cluster
        super().__init__(
            n_var=c.n_vms,
            n_obj=len(solver.settings.objectives),
            n_ieq_constr=1,
            xl=-1,
            xu=c.n_hosts - 1,
            vtype=int,
        )
        self.ops = solver.ops
        self.objectives_of = solver.objectives_of
        self.screen = solver.screen
        self.deadline = Deadline(None)

    def _evaluate(self, X: np.ndarray, out: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        out["F"], out["G"] = self.objectives_of(X)


class SeedSampling(Sampling):
    """The initial population: the solver's base solutions, the current placement and
    heuristic placements, then perturbed copies (:meth:`Operators.seed_population`)."""

    def __init__(self, base: list[np.ndarray]) -> None:
        super().__init__()
        self.base = base

    def _do(self, problem: PlacementProblem, n_samples: int, *args: Any, random_state=None, **kwargs: Any):
        return problem.ops.seed_population(self.base, n_samples, random_state, problem.deadline)


class HostCrossover(Crossover):
    """Host-inheritance crossover (:meth:`Operators.crossover`), two children per pair;
    pairs not crossed (``rate``) or met after the deadline pass on as copies."""

    def __init__(self, rate: float) -> None:
        super().__init__(n_parents=2, n_offsprings=2, prob=1.0)  # the rate is applied here
        self.rate = rate

    def _do(self, problem: PlacementProblem, X: np.ndarray, *args: Any, random_state=None, **kwargs: Any):
        out = X.copy()
        for k in range(X.shape[1]):
            if problem.deadline.expired():
                break
            if random_state.random() < self.rate:
                out[0, k] = problem.ops.crossover(X[0, k], X[1, k], random_state)
                out[1, k] = problem.ops.crossover(X[1, k], X[0, k], random_state)
        return out


class HostMutation(Mutation):
    """Empty lightly filled hosts and shift random VMs (:meth:`Operators.mutate`)."""

    def __init__(self) -> None:
        super().__init__(prob=1.0)  # the rates are applied by Operators.mutate

    def _do(self, problem: PlacementProblem, X: np.ndarray, *args: Any, random_state=None, **kwargs: Any):
        out = X.copy()
        for i in range(len(X)):
            if problem.deadline.expired():
                break
            out[i] = problem.ops.mutate(X[i], random_state)
        return out


class PlacementRepair(Repair):
    """:func:`cluster_opt.solve.construct.repair` on every individual that breaks a hard
    rule (:meth:`NSGA2Solver.screen`: the rows are scored once, here, and the scores reused
    when pymoo evaluates them). The operators' children are feasible when their parents
    are, so this is a safety net that costs no extra evaluation."""

    def _do(self, problem: PlacementProblem, X: np.ndarray, *args: Any, **kwargs: Any):
        return problem.screen(X)


class SameAssignment(DuplicateElimination):
    """Duplicates are byte-identical assignments (hashing, O(P V), instead of pymoo's
    pairwise distances)."""

    def _do(self, pop: Population, other: Population | None, is_duplicate: np.ndarray) -> np.ndarray:
        seen = set() if other is None else {np.asarray(ind.X).tobytes() for ind in other}
        for i, ind in enumerate(pop):
            key = np.asarray(ind.X).tobytes()
            if key in seen:
                is_duplicate[i] = True
            seen.add(key)
        return is_duplicate


def non_dominated(F: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of ``F`` (minimisation), one per distinct row."""
    _, first = np.unique(F, axis=0, return_index=True)
    first = np.sort(first)
    front = NonDominatedSorting().do(F[first], only_non_dominated_front=True)
    return first[np.sort(front)]


@register_solver
class NSGA2Solver(Solver):
    """NSGA-II with a kept Pareto front (see the module docstring)."""

    name = "nsga2"
    Settings = NSGA2Settings
    settings: NSGA2Settings

    def __init__(
        self,
        problem: Problem,
        seeds: np.ndarray | None = None,
        *,
        seed: int = 0,
        settings: SolverSettings | dict[str, Any] | None = None,
    ) -> None:
        super().__init__(problem, seeds, seed=seed, settings=settings)
        st = self.settings
        unknown = sorted(set(st.objectives) - set(problem.term_names))
        if unknown:
            raise ValueError(f"nsga2 objectives: unknown term(s) {unknown}; known: {problem.term_names}")
        self.ops = Operators(problem, st)
        self.base = self.ops.base_solutions(self.seeds)
        bounds = problem.lower_bounds
        self.ideal = np.array([bounds.get(n, 0.0) for n in st.objectives])
        self.nadir: np.ndarray | None = None
        self.unplaced_floor: float | None = None
        count_unplaced = "unplaced" in problem.term_names and "unplaced" not in st.objectives
        self._columns = st.objectives + (["unplaced"] if count_unplaced else [])
        weights = dict(zip(problem.term_names, problem.weights, strict=True))
        self._unplaced_weight = max(float(weights.get("unplaced", 1.0)), 1.0)
        #: rows scored in the current step: bytes -> (feasible, penalty, values of _columns)
        self._scored: dict[bytes, tuple[bool, float, np.ndarray]] = {}
        n_vms = problem.cluster.n_vms
        self._front_x = np.empty((0, n_vms), dtype=np.int32)
        self._front_f = np.empty((0, len(st.objectives)))
        self._front_keys = np.empty(0, dtype=np.int64)  # hashes of the front's rows
        self._pending: list[np.ndarray] = []
        self.pymoo_problem = PlacementProblem(self)
        dedupe = SameAssignment()
        fix = PlacementRepair()
        self.algorithm = NSGA2(
            pop_size=st.population,
            sampling=SeedSampling(self.base),
            repair=fix,
            eliminate_duplicates=dedupe,
            mating=Mating(
                TournamentSelection(func_comp=binary_tournament),
                HostCrossover(st.crossover_rate),
                HostMutation(),
                repair=fix,
                eliminate_duplicates=dedupe,
                n_max_iterations=st.mating_attempts,
            ),
        )
        self.algorithm.setup(
            self.pymoo_problem,
            termination=NoTermination(),
            seed=int(self.rng.integers(2**31 - 1)),
            verbose=False,
        )
        self.generation = 0
        self.evaluate(np.stack(self.base))  # best() works before the first step

    # -- evaluation ----------------------------------------------------------------------
    def _score_rows(self, X: np.ndarray) -> np.ndarray:
        """Score rows with the batch evaluator, remember them for this step and offer them
        to the archive; returns bool[P] feasible."""
        batch = self.evaluator.batch(X)
        self.progress.evaluations += len(X)
        values = batch.matrix(self._columns)
        for i in range(len(X)):
            self._offer(X[i], float(batch.score[i]), bool(batch.feasible[i]))
            self._scored[X[i].tobytes()] = (bool(batch.feasible[i]), float(batch.penalty[i]), values[i])
        return batch.feasible

    def screen(self, X: np.ndarray) -> np.ndarray:
        """pymoo's repair step: score the rows (kept for :meth:`objectives_of`, so nothing
        is evaluated twice) and replace those that break a hard rule by
        :func:`~cluster_opt.solve.construct.repair` of them."""
        X = np.array(X, dtype=np.int32, copy=True)
        for i in np.flatnonzero(~self._score_rows(X)):
            X[i] = repair(self.problem, X[i])
        return X

    def objectives_of(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(F float64[P, n_obj], G float64[P, 1]) of a population (rows scored earlier in
        this step are not evaluated again); the feasible rows go to the front."""
        X = np.ascontiguousarray(X, dtype=np.int32)
        missing = np.array([x.tobytes() not in self._scored for x in X], dtype=bool)
        if missing.any():
            self._score_rows(X[missing])
        rows = [self._scored[x.tobytes()] for x in X]
        feasible = np.array([r[0] for r in rows], dtype=bool)
        penalty = np.array([r[1] for r in rows])
        values = np.array([r[2] for r in rows]).reshape(len(X), len(self._columns))
        n_obj = len(self.settings.objectives)
        F = values[:, :n_obj]
        G = np.where(feasible, 0.0, np.maximum(penalty, 1e-9))
        if len(self._columns) > n_obj:  # the unplaced column
            unplaced = values[:, n_obj]
            if self.unplaced_floor is None:
                self.unplaced_floor = float(unplaced.min())
            G = G + np.maximum(unplaced - self.unplaced_floor, 0.0) * self._unplaced_weight
        ok = G <= 0
        if self.nadir is None:
            self.nadir = NADIR_MARGIN * (F[ok] if ok.any() else F).max(axis=0)
        self._update_front(X[ok], F[ok])
        return F, G[:, None]

    def _update_front(self, X: np.ndarray, F: np.ndarray) -> None:
        if not len(X):
            return
        digests = np.array([hash(x.tobytes()) for x in X], dtype=np.int64)
        new = ~np.isin(digests, self._front_keys)
        allx = np.concatenate([self._front_x, X[new]])
        allf = np.concatenate([self._front_f, F[new]])
        allk = np.concatenate([self._front_keys, digests[new]])
        keep = non_dominated(allf)
        if len(keep) > self.settings.front_size:
            crowd = calc_crowding_distance(allf[keep])
            keep = np.sort(keep[np.argsort(-crowd, kind="stable")[: self.settings.front_size]])
        self._front_x, self._front_f, self._front_keys = allx[keep], allf[keep], allk[keep]

    # -- the interface -------------------------------------------------------------------
    def step(self, deadline: Deadline) -> None:
        """One generation by ask/tell (the first call evaluates the initial population).
        Migrants from :meth:`accept` replace the last offspring before evaluation."""
        self.pymoo_problem.deadline = deadline
        self._scored = {}
        algo = self.algorithm
        initialised = algo.is_initialized
        if not initialised:
            self.base[:0] = self._pending  # the same list SeedSampling reads
            self._pending = []
        off = algo.ask()
        if off is None or not len(off):
            algo.termination.force_termination = False  # every child a duplicate: try again
            return
        if self._pending:
            k = min(len(self._pending), len(off))
            for ind, x in zip(off[len(off) - k :], self._pending[:k], strict=True):
                ind.set("X", x)
            self._pending = []
        algo.evaluator.eval(self.pymoo_problem, off)
        algo.tell(infills=off)
        if initialised:
            self.generation += 1
            self.progress.steps += 1

    def accept(self, migrants: np.ndarray) -> None:
        """Repair the migrants and inject them into the next generation (at most a
        population's worth; before the first generation they join the seeds)."""
        c = self.problem.cluster
        rows = [repair(self.problem, m) for m in as_population(migrants, c.n_vms, c.n_hosts)]
        self._pending = (rows + self._pending)[: self.settings.population]
        self.progress.migrants_accepted += len(rows)

    def population(self) -> np.ndarray:
        """int32[P, V]: pymoo's current population (empty before the first step)."""
        if self.algorithm.pop is None:
            return np.empty((0, self.problem.cluster.n_vms), dtype=np.int32)
        return np.ascontiguousarray(self.algorithm.pop.get("X"), dtype=np.int32)

    def front(self) -> tuple[np.ndarray, np.ndarray]:
        """(X int32[F, V], F float64[F, n_obj]): the non-dominated feasible assignments
        seen so far and their objective values (in ``settings.objectives`` order)."""
        return self._front_x.copy(), self._front_f.copy()

    def normalise(self, F: np.ndarray) -> np.ndarray:
        """Objective values scaled by the fixed ideal and nadir (see the module docstring)."""
        nadir = self.nadir if self.nadir is not None else NADIR_MARGIN * np.asarray(F).max(axis=0)
        span = nadir - self.ideal
        span = np.where(span > 0, span, np.maximum(np.abs(nadir), 1.0))
        return (np.asarray(F, dtype=np.float64) - self.ideal) / span

    def hypervolume(self, ref_point: np.ndarray | None = None) -> float:
        """Hypervolume of the front by pymoo's ``HV`` on normalised objectives, with the
        reference point (1, ..., 1) or ``ref_point`` given in the objectives' own units.
        0 when the front is empty."""
        if not len(self._front_f):
            return 0.0
        n = len(self.settings.objectives)
        ref = (
            np.ones(n)
            if ref_point is None
            else self.normalise(np.asarray(ref_point, dtype=np.float64)[None])[0]
        )
        return float(HV(ref_point=ref).do(self.normalise(self._front_f)))

    def state(self) -> dict[str, Any]:
        return {**super().state(), "generation": self.generation, "front_size": len(self._front_f)}


__all__ = ["NSGA2Settings", "NSGA2Solver", "PlacementProblem", "non_dominated"]
