"""Genetic algorithm on DEAP: numpy individuals, host-inheritance crossover, mutation that
empties lightly filled hosts, a heuristic-seeded population, elitism and tournament selection.

An individual is an int32[V] assignment (host index per VM), a numpy subclass made by DEAP's
``creator`` with a scalar fitness: the evaluator's score (hard violations are in it with
large weights, so feasible individuals win). The operators live in
:mod:`cluster_opt.solve.operators` (shared with NSGA-II) and keep individuals feasible.
DEAP's ready-made algorithms and operators draw from Python's global ``random`` and slice
individuals as lists, so the generation loop and the tournament here are array-aware and
draw only from the solver's seeded generator; DEAP's ``Toolbox`` wires the parts together.

One :meth:`GeneticAlgorithm.step` is one generation: the ``elite`` best survive unchanged;
the rest are children of tournament-selected pairs (crossover with ``crossover_rate``, then
mutation), evaluated as one batch. Per generation: O(P) selection, P crossovers and
mutations (see the operators), one batch evaluation O(P (V + H) R).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from deap import base, creator
from pydantic import Field

from cluster_opt.evaluate import Problem
from cluster_opt.evaluate.context import as_population
from cluster_opt.solve.base import Deadline, Solver, SolverSettings, register_solver
from cluster_opt.solve.construct import repair
from cluster_opt.solve.operators import EvolutionSettings, Operators

_FITNESS = "ClusterOptFitness"
_INDIVIDUAL = "ClusterOptIndividual"
# creator classes live in DEAP's module namespace: define them once per process
if not hasattr(creator, _FITNESS):
    creator.create(_FITNESS, base.Fitness, weights=(-1.0,))
if not hasattr(creator, _INDIVIDUAL):
    creator.create(_INDIVIDUAL, np.ndarray, fitness=getattr(creator, _FITNESS))
Individual = getattr(creator, _INDIVIDUAL)


class GASettings(EvolutionSettings):
    elite: int = Field(default=2, ge=0, description="best individuals kept unchanged each generation")
    tournament: int = Field(default=3, ge=1, description="contestants per tournament")


def individual(x: np.ndarray) -> Any:
    """A DEAP individual holding a copy of ``x`` as int32[V], fitness not yet valid.

    (DEAP's own constructor goes through a Python list and would make it int64.)"""
    ind = np.array(x, dtype=np.int32).view(Individual)
    ind.fitness = getattr(creator, _FITNESS)()
    return ind


def tournament(scores: np.ndarray, k: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """int64[k]: indices of ``k`` tournament winners (lowest score among ``size`` drawn
    with replacement). O(k size)."""
    entrants = rng.integers(0, len(scores), size=(k, size))
    return entrants[np.arange(k), np.argmin(scores[entrants], axis=1)]


@register_solver
class GeneticAlgorithm(Solver):
    """Generational GA with elitism (see the module docstring)."""

    name = "ga"
    Settings = GASettings
    settings: GASettings

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
        if st.elite >= st.population:
            raise ValueError(f"elite ({st.elite}) must be smaller than population ({st.population})")
        self.ops = Operators(problem, st)
        self.toolbox = base.Toolbox()
        self.toolbox.register("clone", copy.deepcopy)
        self.toolbox.register("mate", self.ops.crossover, rng=self.rng)
        self.toolbox.register("mutate", self.ops.mutate, rng=self.rng)
        self.toolbox.register("select", tournament, size=st.tournament, rng=self.rng)
        self.toolbox.register("evaluate", self._assess)
        self.base = self.ops.base_solutions(self.seeds)
        self.evaluate(np.stack(self.base))
        self.population: list[Any] = []
        self.generation = 0

    def _assess(self, individuals: list[Any]) -> None:
        """Batch-evaluate the individuals without a valid fitness (and offer them to the
        archive). One that breaks a hard rule is repaired in place and evaluated again: the
        operators keep children of feasible parents feasible, so this is only a safety net
        and costs nothing while it is not needed."""
        todo = [ind for ind in individuals if not ind.fitness.valid]
        if not todo:
            return
        scores, feasible = self.evaluate(np.stack([np.asarray(ind) for ind in todo]))
        bad = np.flatnonzero(~feasible)
        if len(bad):
            fixed = np.stack([repair(self.problem, np.asarray(todo[i])) for i in bad])
            scores = scores.copy()
            scores[bad], _ = self.evaluate(fixed)
            for i, x in zip(bad, fixed, strict=True):
                todo[i][:] = x
        for ind, s in zip(todo, scores, strict=True):
            ind.fitness.values = (float(s),)

    def _scores(self) -> np.ndarray:
        return np.array([ind.fitness.values[0] for ind in self.population])

    def step(self, deadline: Deadline) -> None:
        """The first call builds the initial population; each later call is one generation.
        Stops making children when ``deadline`` expires (the rest of the generation are the
        selected parents, unchanged)."""
        if not self.population:
            rows = self.ops.seed_population(self.base, self.settings.population, self.rng, deadline)
            self.population = [individual(x) for x in rows]
            self.toolbox.evaluate(self.population)
            return
        st = self.settings
        tb = self.toolbox
        scores = self._scores()
        elites = [self.population[i] for i in np.argsort(scores, kind="stable")[: st.elite]]
        parents = [self.population[i] for i in tb.select(scores, len(self.population) - st.elite)]
        offspring: list[Any] = []
        for i in range(0, len(parents), 2):
            pair = parents[i : i + 2]
            if deadline.expired():
                offspring.extend(tb.clone(p) for p in parents[i:])
                break
            if len(pair) == 2 and self.rng.random() < st.crossover_rate:
                children = [tb.mate(pair[0], pair[1]), tb.mate(pair[1], pair[0])]
            else:
                children = list(pair)
            for parent, child in zip(pair, children, strict=True):
                mutated = tb.mutate(child)
                offspring.append(tb.clone(parent) if mutated is parent else individual(mutated))
        tb.evaluate(offspring)
        self.population = elites + offspring
        self.generation += 1
        self.progress.steps += 1

    def accept(self, migrants: np.ndarray) -> None:
        """Repair the migrants and let them replace the worst individuals (never the
        ``elite`` best; the best migrants first when there are more than that). Before the
        first generation they join the seeds of the initial population."""
        c = self.problem.cluster
        rows = [repair(self.problem, m) for m in as_population(migrants, c.n_vms, c.n_hosts)]
        self.progress.migrants_accepted += len(rows)
        if not self.population:
            self.base = rows + self.base
            self.evaluate(np.stack(rows))
            return
        incoming = [individual(x) for x in rows]
        self.toolbox.evaluate(incoming)
        incoming.sort(key=lambda ind: ind.fitness.values[0])
        room = len(self.population) - self.settings.elite
        worst = np.argsort(-self._scores(), kind="stable")[: min(room, len(incoming))]
        for slot, ind in zip(worst, incoming, strict=False):
            self.population[slot] = ind

    def state(self) -> dict[str, Any]:
        return {**super().state(), "generation": self.generation}


__all__ = ["GASettings", "GeneticAlgorithm", "individual", "tournament"]
