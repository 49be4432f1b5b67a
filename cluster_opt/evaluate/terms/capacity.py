"""Capacity: no host may carry more than it has of any resource."""

from __future__ import annotations

import numpy as np

from cluster_opt.evaluate.context import BatchContext
from cluster_opt.evaluate.terms.base import Term, register


@register
class Capacity(Term):
    """Sum over hosts and resources of the overload, each resource measured in units of its
    mean host capacity (so 1.0 = one average host's worth of that resource). O(P H R)."""

    name = "capacity"
    kind = "constraint"
    unit = "host-equivalents"
    description = "load above capacity, summed over hosts and resources"
    default_weight = 1e6
    default_hard = True

    def batch(self, ctx: BatchContext) -> np.ndarray:
        return (ctx.overload / self.problem.resource_scale).sum(axis=(1, 2))

    def details(self, ctx: BatchContext) -> dict[str, object]:
        over = ctx.overload[0]
        if not over.any():
            return {}
        res = self.problem.cluster.resources
        return {
            "overloaded_hosts": int((over > 0).any(axis=1).sum()),
            "overload_by_resource": {
                r: float(over[:, k].sum()) for k, r in enumerate(res) if over[:, k].any()
            },
        }
