"""Powered hosts and their energy draw: a host with no VM can be switched off."""

from __future__ import annotations

import numpy as np

from cluster_opt.evaluate import bounds
from cluster_opt.evaluate.context import BatchContext
from cluster_opt.evaluate.terms.base import Term, register
from cluster_opt.model.codes import POWER_POINTS


def host_watts(watts: np.ndarray, utilisation: np.ndarray) -> np.ndarray:
    """Power of hosts at given utilisations by linear interpolation of their curves.

    ``watts`` float[H, 11] (curve per host), ``utilisation`` float[P, H] (clipped to
    [0, 1]). O(P H).
    """
    seg = POWER_POINTS - 1
    x = np.clip(utilisation, 0.0, 1.0) * seg
    i = np.minimum(x.astype(np.int64), seg - 1)
    frac = x - i
    rows = np.arange(watts.shape[0])[None, :]
    lo = watts[rows, i]
    hi = watts[rows, i + 1]
    return lo + frac * (hi - lo)


@register
class ActiveHosts(Term):
    """Hosts running at least one VM. O(P H)."""

    name = "active_hosts"
    kind = "objective"
    unit = "hosts"
    description = "hosts that must stay powered on"
    default_weight = 0.0

    def batch(self, ctx: BatchContext) -> np.ndarray:
        return ctx.active.sum(axis=1).astype(np.float64)

    def lower_bound(self) -> float | None:
        return float(bounds.active_hosts_bound(self.problem.cluster))


@register
class EnergyWatts(Term):
    """Sum over powered hosts of the host's power curve at the utilisation of the power
    resource (``power_resource``, default cpu), clipped to [0, 1]: an overloaded host draws
    peak power, a host without that resource its idle power. Hosts with no VM are off and
    draw nothing. O(P H)."""

    name = "energy_watts"
    kind = "objective"
    unit = "W"
    description = "power drawn by the powered hosts"
    default_weight = 0.00015  # $/h per W at $0.15/kWh

    def __init__(self, problem) -> None:
        super().__init__(problem)
        c = problem.cluster
        self.resource = c.resource_index(problem.config.power_resource)
        self.curves = c.power.watts[c.hosts.power_curve]

    def batch(self, ctx: BatchContext) -> np.ndarray:
        w = host_watts(self.curves, ctx.utilisation(self.resource))
        return np.where(ctx.active, w, 0.0).sum(axis=1)

    def lower_bound(self) -> float | None:
        return bounds.energy_bound(self.problem.cluster, self.resource)
