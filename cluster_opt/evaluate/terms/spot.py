"""Spot packing: hosts that run spot and non-spot VMs together cannot be freed by a reclaim."""

from __future__ import annotations

import numpy as np

from cluster_opt.evaluate import bounds, kernels
from cluster_opt.evaluate.context import BatchContext
from cluster_opt.evaluate.terms.base import Term, register
from cluster_opt.model.cluster import Cluster
from cluster_opt.model.codes import Pricing


def spot_mixing_bound(cluster: Cluster) -> int:
    """Lower bound on the mixed hosts of every feasible assignment that places every VM.

    Two volume arguments, the larger wins (0 without spot or without non-spot VMs):

    * capacity: the spot VMs need at least ``a`` usable hosts (:func:`bounds.min_hosts_to_cover`
      of their summed demand, at least 1), the others at least ``b``; a host that is not
      mixed serves only one side, so with U usable hosts at least ``a + b - U`` are mixed;
    * affinity: a group holding both spot and non-spot VMs shares one host, which is mixed;
      those hosts together hold every such group, so they are at least the fewest usable
      hosts covering the groups' summed demand (at least 1).

    A remainder of spot demand that does not fill whole hosts is *not* a bound: the spot
    VMs may leave a host part-empty rather than share it. O(H log H x R + V).
    """
    spot = cluster.vms.pricing == Pricing.SPOT
    if spot.all() or not spot.any():
        return 0
    usable = cluster.usable
    if not usable.any():
        return 0
    cap, demand = cluster.hosts.capacity[usable], cluster.vms.demand
    a = max(bounds.min_hosts_to_cover(cap, demand[spot].sum(axis=0)), 1)
    b = max(bounds.min_hosts_to_cover(cap, demand[~spot].sum(axis=0)), 1)
    best = max(a + b - int(usable.sum()), 0)
    group = cluster.vms.affinity
    n_groups = len(cluster.affinity_groups)
    if n_groups:
        grouped = group >= 0
        with_spot = np.bincount(group[grouped & spot], minlength=n_groups) > 0
        with_other = np.bincount(group[grouped & ~spot], minlength=n_groups) > 0
        mixed = grouped & (with_spot & with_other)[np.where(grouped, group, 0)]
        if mixed.any():
            best = max(best, bounds.min_hosts_to_cover(cap, demand[mixed].sum(axis=0)), 1)
    return best


@register
class SpotMixing(Term):
    """Hosts running both spot VMs (pricing ``spot``) and non-spot VMs (on-demand or
    reserved). When the provider reclaims spot capacity, a host holding only spot VMs
    empties and can be switched off or resold; a mixed host stays powered for its other
    VMs, so the reclaim frees no host. Unit: hosts (every mixed host is powered).

    Why a count rather than, e.g., min(spot VMs, other VMs) per host (the VMs to move to
    unmix it) or the non-spot share left stranded: the count is exactly what is lost on a
    reclaim, one host not freed, so its weight is a price per host; the cost of unmixing is
    already priced by ``migrations`` / ``migration_gb``, which a per-VM variant would count
    twice. Local searches cross its plateaus with swaps and host-emptying moves.

    Suggested weight: the $/h of a powered host (hourly price, ~$0.25/h on generated
    clusters, plus ~250 W idle, ~$0.04/h) times the share of time its spot VMs are gone
    (~0.2): about 0.05 $/h per mixed host, just above one migration (0.04) in the default
    profile; 0.15 where a powered host is priced higher (energy profile: + 0.5 per host and
    $0.0005/W). Default 0 (off). Lower bound: :func:`spot_mixing_bound`. O(P S) (numba)
    for S spot VMs, + O(P H).
    """

    name = "spot_mixing"
    kind = "objective"
    unit = "hosts"
    description = "powered hosts running spot and non-spot VMs together (a reclaim frees none)"
    default_weight = 0.0

    def __init__(self, problem) -> None:
        super().__init__(problem)
        self.spot = np.flatnonzero(problem.cluster.vms.pricing == Pricing.SPOT)
        self.no_demand = np.zeros((len(self.spot), 0))  # only the per-host counts are wanted

    def mixed(self, ctx: BatchContext) -> np.ndarray:
        """bool[P, H]: hosts with at least one spot and one non-spot VM: the spot VMs
        counted per host (O(P S) for S spot VMs), compared with all VMs per host."""
        cols = np.ascontiguousarray(ctx.x[:, self.spot])
        n_spot = kernels.loads_and_counts(cols, self.no_demand, ctx.cluster.n_hosts)[1]
        return (n_spot > 0) & (ctx.count > n_spot)

    def batch(self, ctx: BatchContext) -> np.ndarray:
        return self.mixed(ctx).sum(axis=1).astype(np.float64)

    def lower_bound(self) -> float | None:
        return float(spot_mixing_bound(self.problem.cluster))

    def details(self, ctx: BatchContext) -> dict[str, object]:
        hosts = np.flatnonzero(self.mixed(ctx)[0])
        if not hosts.size:
            return {}
        return {"hosts": [str(self.problem.cluster.hosts.ids[h]) for h in hosts[:20]]}
