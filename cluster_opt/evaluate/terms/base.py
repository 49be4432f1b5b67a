"""The term plugin interface: one small class per objective or constraint."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np

if TYPE_CHECKING:
    from cluster_opt.evaluate.context import BatchContext
    from cluster_opt.evaluate.problem import Problem

Kind = Literal["constraint", "objective"]


class Term:
    """A named objective or constraint that scores a whole population in one call.

    Subclasses set the class attributes and implement :meth:`batch`. A term is built once
    per :class:`~cluster_opt.evaluate.problem.Problem` (its constructor may precompute
    arrays) and must not keep per-population state. The evaluator, not the term, owns the
    weight and whether the term is hard.
    """

    name: ClassVar[str]
    kind: ClassVar[Kind]
    unit: ClassVar[str]
    description: ClassVar[str]
    default_weight: ClassVar[float]
    default_hard: ClassVar[bool] = False

    def __init__(self, problem: Problem) -> None:
        self.problem = problem

    def batch(self, ctx: BatchContext) -> np.ndarray:
        """float64[P]: the term's value (objectives) or violation amount (constraints)."""
        raise NotImplementedError

    def lower_bound(self) -> float | None:
        """A valid lower bound on the value over every feasible assignment that places all
        VMs, or None when none is computed."""
        return None

    def details(self, ctx: BatchContext) -> dict[str, object]:
        """Extra facts for one individual (``ctx`` has P = 1), shown by ``evaluate``."""
        return {}


#: name -> Term class, in registration order (the order terms are reported in).
REGISTRY: dict[str, type[Term]] = {}


def register(cls: type[Term]) -> type[Term]:
    """Class decorator adding a term to :data:`REGISTRY` (one line per plugin)."""
    if cls.name in REGISTRY:
        raise ValueError(f"term {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls
    return cls
