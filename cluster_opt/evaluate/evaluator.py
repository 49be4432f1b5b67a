"""Scoring assignments: every term separately, the hard/soft split, and one scalar score.

``score = sum over enabled terms of weight x value``; hard terms have large default weights
so any violation dominates. ``feasible`` means every enabled hard term is zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cluster_opt.evaluate.context import BatchContext
from cluster_opt.evaluate.problem import Problem

#: Amounts at or below this count as zero when deciding feasibility (float noise).
FEASIBILITY_TOL = 1e-9


@dataclass
class EvaluationBatch:
    """Term values for a population: ``values[name]`` is float64[P]."""

    values: dict[str, np.ndarray]
    score: np.ndarray  # float64[P]
    penalty: np.ndarray  # float64[P] weighted hard violations
    feasible: np.ndarray  # bool[P]

    def __len__(self) -> int:
        return len(self.score)

    def matrix(self, names: list[str]) -> np.ndarray:
        """float64[P, len(names)]: the named terms side by side (for multi-objective use)."""
        return np.column_stack([self.values[n] for n in names])


@dataclass
class Evaluation:
    """All terms of one assignment, with lower bounds, ready to print or serialise."""

    values: dict[str, float]
    kinds: dict[str, str]
    units: dict[str, str]
    weights: dict[str, float]
    hard: dict[str, bool]
    lower_bounds: dict[str, float]
    score: float
    penalty: float
    feasible: bool
    details: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def violations(self) -> dict[str, float]:
        return {n: v for n, v in self.values.items() if self.kinds[n] == "constraint"}

    @property
    def objectives(self) -> dict[str, float]:
        return {n: v for n, v in self.values.items() if self.kinds[n] == "objective"}

    @property
    def gaps(self) -> dict[str, float | None]:
        """Relative gap (value - bound) / bound per objective with a positive bound."""
        return {n: ((self.values[n] - lb) / lb if lb > 0 else None) for n, lb in self.lower_bounds.items()}

    def to_json(self) -> dict[str, Any]:
        """The object printed by ``cluster-opt evaluate --json``."""
        return {
            "feasible": self.feasible,
            "violations": self.violations,
            "objectives": self.objectives,
            "lower_bounds": self.lower_bounds,
            "gaps": self.gaps,
            "score": self.score,
            "penalty": self.penalty,
            "hard": [n for n, h in self.hard.items() if h and self.weights[n] > 0],
            "weights": self.weights,
            "units": self.units,
            "details": self.details,
        }


class Evaluator:
    """Scores assignments of one :class:`Problem`; cheap to build, reuse it."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem

    @property
    def lower_bounds(self) -> dict[str, float]:
        return self.problem.lower_bounds

    def batch(self, x: np.ndarray) -> EvaluationBatch:
        """Score a population int[P, V] (or one assignment int[V]). O(P (V + H) R)."""
        ctx = BatchContext(self.problem, x)
        return self._score(ctx)[0]

    def _score(self, ctx: BatchContext) -> tuple[EvaluationBatch, BatchContext]:
        p = self.problem
        values = {t.name: np.asarray(t.batch(ctx), dtype=np.float64) for t in p.terms}
        stacked = np.vstack([values[t.name] for t in p.terms]) if p.terms else np.zeros((0, ctx.size))
        enabled = p.weights > 0
        weighted = stacked * p.weights[:, None]
        hard = enabled & p.hard
        penalty = weighted[hard].sum(axis=0)
        score = weighted[enabled].sum(axis=0)
        feasible = ~(stacked[hard] > FEASIBILITY_TOL).any(axis=0)
        return EvaluationBatch(values, score, penalty, feasible), ctx

    def one(self, x: np.ndarray, details: bool = True) -> Evaluation:
        """Score one assignment int[V] with lower bounds (and term details)."""
        x = np.asarray(x)
        if x.ndim != 1:
            raise ValueError("evaluate() takes one assignment of shape (V,); use evaluate_batch")
        res, ctx = self._score(BatchContext(self.problem, x))
        p = self.problem
        return Evaluation(
            values={n: float(v[0]) for n, v in res.values.items()},
            kinds={t.name: t.kind for t in p.terms},
            units={t.name: t.unit for t in p.terms},
            weights={t.name: float(w) for t, w in zip(p.terms, p.weights, strict=True)},
            hard={t.name: bool(h) for t, h in zip(p.terms, p.hard, strict=True)},
            lower_bounds=self.lower_bounds,
            score=float(res.score[0]),
            penalty=float(res.penalty[0]),
            feasible=bool(res.feasible[0]),
            details={t.name: d for t in p.terms if (d := t.details(ctx))} if details else {},
        )


def evaluate(problem: Problem, assignment: np.ndarray) -> Evaluation:
    """Every term of one assignment int32[V] (host index per VM, -1 = unplaced)."""
    return Evaluator(problem).one(assignment)


def evaluate_batch(problem: Problem, population: np.ndarray) -> EvaluationBatch:
    """Every term of each row of a population int32[P, V], as float64[P] arrays."""
    return Evaluator(problem).batch(population)
