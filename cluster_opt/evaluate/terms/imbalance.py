"""Imbalance: resources used unevenly on a host strand the others (fragmentation)."""

from __future__ import annotations

import numpy as np

from cluster_opt.evaluate.context import BatchContext
from cluster_opt.evaluate.terms.base import Term, register


@register
class Imbalance(Term):
    """Mean over powered hosts of (max - min) utilisation across the configured resources
    (default cpu and mem_gb) that the host has, each clipped to [0, 1]; 0 = every resource
    used to the same fraction, 1 = one full and another empty. Hosts with fewer than two of
    the resources count 0. O(P H R)."""

    name = "imbalance"
    kind = "objective"
    unit = "fraction"
    description = "mean spread of utilisation across resources on powered hosts"
    default_weight = 0.0

    def __init__(self, problem) -> None:
        super().__init__(problem)
        self.resources = [problem.cluster.resource_index(r) for r in problem.config.imbalance_resources]
        self.has = problem.cluster.hosts.capacity[:, self.resources] > 0  # bool[H, k]

    def batch(self, ctx: BatchContext) -> np.ndarray:
        u = np.stack([np.clip(ctx.utilisation(r), 0.0, 1.0) for r in self.resources], axis=2)
        high = np.where(self.has[None], u, -np.inf).max(axis=2)
        low = np.where(self.has[None], u, np.inf).min(axis=2)
        spread = np.where(self.has.sum(axis=1)[None, :] >= 2, high - low, 0.0)
        n = ctx.active.sum(axis=1)
        return np.where(ctx.active, spread, 0.0).sum(axis=1) / np.maximum(n, 1)

    def lower_bound(self) -> float | None:
        return 0.0
