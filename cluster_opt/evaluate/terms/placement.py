"""Where a single VM may go: GPU model, host state, pinned VMs, and VMs left unplaced."""

from __future__ import annotations

import numpy as np

from cluster_opt.evaluate.context import BatchContext
from cluster_opt.evaluate.terms.base import Term, register
from cluster_opt.model.codes import HostState


@register
class GpuModel(Term):
    """VMs that require a GPU model and sit on a host with another (or none). O(P V)."""

    name = "gpu_model"
    kind = "constraint"
    unit = "VMs"
    description = "VMs on a host without their required GPU model"
    default_weight = 1e6
    default_hard = True

    def batch(self, ctx: BatchContext) -> np.ndarray:
        need = self.problem.cluster.vms.gpu_model
        have = self.problem.cluster.hosts.gpu_model[ctx.host_of]
        wrong = ctx.placed & (need >= 0)[None, :] & (have != need[None, :])
        return wrong.sum(axis=1).astype(np.float64)


@register
class HostStateTerm(Term):
    """VMs placed on hosts that are in maintenance, failed or off. O(P V)."""

    name = "host_state"
    kind = "constraint"
    unit = "VMs"
    description = "VMs on hosts in maintenance, failed or off"
    default_weight = 1e6
    default_hard = True

    def batch(self, ctx: BatchContext) -> np.ndarray:
        unusable = self.problem.cluster.hosts.state != HostState.ACTIVE
        return (ctx.placed & unusable[ctx.host_of]).sum(axis=1).astype(np.float64)

    def details(self, ctx: BatchContext) -> dict[str, object]:
        state = self.problem.cluster.hosts.state
        on = ctx.placed[0] & (state[ctx.host_of[0]] != HostState.ACTIVE)
        hosts = np.unique(ctx.host_of[0][on])
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

    def batch(self, ctx: BatchContext) -> np.ndarray:
        pinned = ~self.problem.cluster.vms.migratable
        return (ctx.moved & pinned[None, :]).sum(axis=1).astype(np.float64)


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
        return (~ctx.placed).sum(axis=1).astype(np.float64)
