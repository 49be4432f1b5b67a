"""Migrations against the current placement: how many VMs move and how much memory."""

from __future__ import annotations

import numpy as np

from cluster_opt.evaluate import bounds, kernels
from cluster_opt.evaluate.context import BatchContext
from cluster_opt.evaluate.terms.base import Term, register


@register
class Migrations(Term):
    """VMs with a current host that the assignment puts elsewhere (or evicts); placing a
    pending VM is not a migration. O(P V)."""

    name = "migrations"
    kind = "objective"
    unit = "VMs"
    description = "VMs moved away from their current host"
    default_weight = 0.04

    def __init__(self, problem) -> None:
        super().__init__(problem)
        self.ones = np.ones(problem.cluster.n_vms)

    def batch(self, ctx: BatchContext) -> np.ndarray:
        return kernels.moved_sum(ctx.x, self.problem.cluster.vms.current, self.ones)

    def lower_bound(self) -> float | None:
        return float(bounds.forced_moves(self.problem.cluster).sum())


@register
class MigrationGb(Term):
    """Memory (mem_gb) of the migrated VMs: the volume a live migration copies. O(P V)."""

    name = "migration_gb"
    kind = "objective"
    unit = "GB"
    description = "memory of the moved VMs"
    default_weight = 0.0

    def __init__(self, problem) -> None:
        super().__init__(problem)
        self.mem = problem.cluster.vms.demand[:, problem.cluster.resource_index("mem_gb")]

    def batch(self, ctx: BatchContext) -> np.ndarray:
        return kernels.moved_sum(ctx.x, self.problem.cluster.vms.current, self.mem)

    def lower_bound(self) -> float | None:
        return float(self.mem[bounds.forced_moves(self.problem.cluster)].sum())
