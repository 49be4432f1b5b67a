"""Hourly cost: per-unit prices by zone and pricing class (on-demand, spot, reserved), plus
the hourly price of every powered host."""

from __future__ import annotations

import numpy as np

from cluster_opt.evaluate import bounds, kernels
from cluster_opt.evaluate.context import BatchContext
from cluster_opt.evaluate.terms.base import Term, register
from cluster_opt.model.codes import Pricing


def vm_zone_cost(demand: np.ndarray, pricing: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """float64[V, Z]: $/h of each VM in each zone, sum_r demand[v, r] * unit[z, pricing[v], r].

    O(V Z R).
    """
    out = np.zeros((demand.shape[0], unit.shape[0]))
    for cls in Pricing:
        rows = pricing == cls
        if rows.any():
            out[rows] = demand[rows] @ unit[:, int(cls), :].T
    return out


@register
class HourlyCost(Term):
    """$/h of the placement: each placed VM pays its zone's price for its pricing class,
    each powered host its hourly price. O(P (V + H))."""

    name = "hourly_cost"
    kind = "objective"
    unit = "$/h"
    description = "VM charges by zone and pricing class plus powered hosts' hourly price"
    default_weight = 1.0

    def __init__(self, problem) -> None:
        super().__init__(problem)
        c = problem.cluster
        self.cost = vm_zone_cost(c.vms.demand, c.vms.pricing, c.prices.unit)
        self.rows = np.arange(c.n_vms, dtype=np.int64)
        self.zone = c.hosts.zone.astype(np.int64)

    def batch(self, ctx: BatchContext) -> np.ndarray:
        vm = kernels.gather_sum(ctx.x, self.cost, self.rows, self.zone)
        hourly = self.problem.cluster.prices.host_hourly
        return vm + np.where(ctx.active, hourly[None, :], 0.0).sum(axis=1)

    def lower_bound(self) -> float | None:
        c = self.problem.cluster
        usable_zones = np.unique(c.hosts.zone[c.usable])
        if not usable_zones.size:
            return None
        vm = float(self.cost[:, usable_zones].min(axis=1).sum())
        host = bounds.host_cost_with_pinned(
            c.prices.host_hourly[c.usable],
            c.hosts.capacity[c.usable],
            c.vms.demand.sum(axis=0),
            bounds.pinned_hosts(c)[c.usable],
        )
        return vm + (host if np.isfinite(host) else 0.0)
