"""Imbalance: resources used unevenly on a host strand the others (fragmentation)."""

from __future__ import annotations

import numpy as np

from cluster_opt.evaluate.context import BatchContext
from cluster_opt.evaluate.terms.base import Term, register


@register
class Imbalance(Term):
    """Mean over powered hosts of (max - min) utilisation across the configured resources
    (default cpu and mem_gb); 0 = every resource used to the same fraction, 1 = one full,
    another empty. O(P H R)."""

    name = "imbalance"
    kind = "objective"
    unit = "fraction"
    description = "mean spread of utilisation across resources on powered hosts"
    default_weight = 0.0

    def __init__(self, problem) -> None:
        super().__init__(problem)
        self.resources = [problem.cluster.resource_index(r) for r in problem.config.imbalance_resources]

    def batch(self, ctx: BatchContext) -> np.ndarray:
        u = np.stack([ctx.utilisation(r) for r in self.resources], axis=2)
        spread = u.max(axis=2) - u.min(axis=2)
        n = ctx.active.sum(axis=1)
        return np.where(ctx.active, spread, 0.0).sum(axis=1) / np.maximum(n, 1)

    def lower_bound(self) -> float | None:
        return 0.0
