"""Where a single VM may go: GPU model, host state, pinned VMs, and VMs left unplaced."""

from __future__ import annotations

import numpy as np

from cluster_opt.evaluate import kernels
from cluster_opt.evaluate.context import BatchContext
from cluster_opt.evaluate.terms.base import Term, register


@register
class GpuModel(Term):
    """VMs that require a GPU model and sit on a host with another (or none). O(P V_gpu)."""

    name = "gpu_model"
    kind = "constraint"
    unit = "VMs"
    description = "VMs on a host without their required GPU model"
    default_weight = 1e6
    default_hard = True

    def __init__(self, problem) -> None:
        super().__init__(problem)
        need = problem.cluster.vms.gpu_model
        self.vms = np.flatnonzero(need >= 0)
        self.need = need[self.vms]

    def batch(self, ctx: BatchContext) -> np.ndarray:
        x = ctx.x[:, self.vms]
        have = self.problem.cluster.hosts.gpu_model[np.maximum(x, 0)]
        return ((x >= 0) & (have != self.need[None, :])).sum(axis=1).astype(np.float64)


@register
class HostStateTerm(Term):
    """VMs placed on hosts that are in maintenance, failed or off. O(P H) from the counts."""

    name = "host_state"
    kind = "constraint"
    unit = "VMs"
    description = "VMs on hosts in maintenance, failed or off"
    default_weight = 1e6
    default_hard = True

    def batch(self, ctx: BatchContext) -> np.ndarray:
        unusable = ~self.problem.cluster.usable
        return ctx.count[:, unusable].sum(axis=1).astype(np.float64)

    def details(self, ctx: BatchContext) -> dict[str, object]:
        hosts = np.flatnonzero((ctx.count[0] > 0) & ~self.problem.cluster.usable)
        if not hosts.size:
            return {}
        return {"hosts": [str(self.problem.cluster.hosts.ids[h]) for h in hosts[:20]]}


@register
class Unmigratable(Term):
    """VMs marked not migratable that the assignment moves (or evicts). O(P V)."""

    name = "unmigratable"
    kind = "constraint"
    unit = "VMs"
    description = "non-migratable VMs moved away from their current host"
    default_weight = 1e6
    default_hard = True

    def __init__(self, problem) -> None:
        super().__init__(problem)
        self.pinned = (~problem.cluster.vms.migratable).astype(np.float64)

    def batch(self, ctx: BatchContext) -> np.ndarray:
        return kernels.moved_sum(ctx.x, self.problem.cluster.vms.current, self.pinned)


@register
class Unplaced(Term):
    """VMs without a host. Soft by default so a snapshot with pending VMs is feasible and
    a drain that cannot place everything still yields its best partial answer. O(P V)."""

    name = "unplaced"
    kind = "constraint"
    unit = "VMs"
    description = "VMs without a host (pending or evicted)"
    default_weight = 100.0
    default_hard = False

    def batch(self, ctx: BatchContext) -> np.ndarray:
        return (ctx.x < 0).sum(axis=1).astype(np.float64)
