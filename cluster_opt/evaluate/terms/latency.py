"""User latency: from each VM's user region to the region of its host."""

from __future__ import annotations

import numpy as np

from cluster_opt.evaluate import kernels
from cluster_opt.evaluate.context import BatchContext
from cluster_opt.evaluate.terms.base import Term, register


@register
class LatencyMs(Term):
    """Mean over VMs that have a user region of latency_ms[user region, host region];
    unplaced VMs add 0 (they are counted by ``unplaced``). O(P V)."""

    name = "latency_ms"
    kind = "objective"
    unit = "ms"
    description = "mean latency from the VMs' users to their hosts' region"
    default_weight = 1.0

    def __init__(self, problem) -> None:
        super().__init__(problem)
        c = problem.cluster
        lat = c.topology.latency_ms
        # row NR (all zeros) stands for "no user region"
        self.table = np.vstack([lat, np.zeros((1, lat.shape[1]))])
        self.user = np.where(c.vms.user_region >= 0, c.vms.user_region, lat.shape[0]).astype(np.int64)
        self.region = c.hosts.region.astype(np.int64)
        self.n = max(int((c.vms.user_region >= 0).sum()), 1)

    def batch(self, ctx: BatchContext) -> np.ndarray:
        return kernels.gather_sum(ctx.x, self.table, self.user, self.region) / self.n

    def lower_bound(self) -> float | None:
        c = self.problem.cluster
        regions = np.unique(c.hosts.region[c.usable])
        if not regions.size:
            return None
        return float(self.table[self.user][:, regions].min(axis=1).sum() / self.n)
