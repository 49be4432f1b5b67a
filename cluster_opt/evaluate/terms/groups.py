"""Group rules: anti-affinity spread of replica groups, affinity of VMs kept together."""

from __future__ import annotations

import numpy as np

from cluster_opt.evaluate import kernels
from cluster_opt.evaluate.context import BatchContext
from cluster_opt.evaluate.terms.base import Term, register


@register
class AntiAffinity(Term):
    """Replicas above the per-domain limit: sum over groups and domains (host, rack or
    zone, per group) of max(0, members in the domain - max_per_domain). O(P M log m) for M
    grouped VMs in groups of size m (numba)."""

    name = "anti_affinity"
    kind = "constraint"
    unit = "VMs"
    description = "replicas above their group's per-domain limit"
    default_weight = 1e6
    default_hard = True

    def batch(self, ctx: BatchContext) -> np.ndarray:
        ptr, members = self.problem.anti_affinity_csr
        groups = self.problem.cluster.anti_affinity
        if not len(groups):
            return np.zeros(ctx.size)
        return kernels.spread_excess(
            ctx.x,
            ptr,
            members,
            groups.level.astype(np.int64),
            groups.max_per_domain.astype(np.int64),
            self.problem.domains,
        )


@register
class Affinity(Term):
    """Affinity groups split across hosts: sum over groups of (hosts used - 1) by placed
    members. O(P M log m) (numba)."""

    name = "affinity"
    kind = "constraint"
    unit = "splits"
    description = "extra hosts used by affinity groups that must share one host"
    default_weight = 1e6
    default_hard = True

    def batch(self, ctx: BatchContext) -> np.ndarray:
        ptr, members = self.problem.affinity_csr
        if len(ptr) <= 1:
            return np.zeros(ctx.size)
        return kernels.split_groups(ctx.x, ptr, members, self.problem.domains[0])
