"""Lower bounds for the objectives, valid for every feasible assignment that places every
VM (capacity respected, every VM on a usable active-state host with its GPU model, pinned
VMs where they are). Hosts holding a pinned VM are on in every such assignment: the bounds
count them as on and cover only the demand their capacity cannot hold with the other hosts.

All are volume (LP-relaxation) bounds computed by sorting: O(H log H x R + V x Z).
"""

from __future__ import annotations

import numpy as np

from cluster_opt.model.cluster import Cluster


def min_hosts_to_cover(capacity: np.ndarray, demand: np.ndarray) -> int:
    """Fewest hosts whose summed capacity reaches ``demand`` in every resource separately.

    ``capacity`` float[H, R] of the candidate hosts, ``demand`` float[R] total. For each
    resource the largest hosts are taken first; the bound is the max over resources. When
    the candidates cannot cover a resource at all, returns the number of candidates.
    """
    need = 0
    for r in np.flatnonzero(demand > 0):
        cum = np.cumsum(np.sort(capacity[:, r])[::-1])
        k = int(np.searchsorted(cum, demand[r] * (1 - 1e-12), side="left")) + 1
        need = max(need, min(k, len(cum)))
    return need


def fractional_cover_cost(cost: np.ndarray, capacity: np.ndarray, demand: float) -> float:
    """min sum_h cost_h y_h s.t. sum_h capacity_h y_h >= demand, 0 <= y_h <= 1 (greedy by
    cost per unit of capacity; exact for this LP). Returns inf when it cannot be covered."""
    if demand <= 0:
        return 0.0
    ok = capacity > 0
    cost, capacity = cost[ok], capacity[ok]
    order = np.argsort(cost / capacity, kind="stable")
    cum = np.cumsum(capacity[order])
    k = int(np.searchsorted(cum, demand, side="left"))
    if k >= len(cum):
        return float("inf")
    full = cost[order][:k].sum()
    before = cum[k - 1] if k else 0.0
    return float(full + cost[order][k] * (demand - before) / capacity[order][k])


def host_cost_cover(cost: np.ndarray, capacity: np.ndarray, demand: np.ndarray) -> float:
    """Lower bound on the summed per-host ``cost`` of any host set whose ``capacity`` [H, R]
    covers ``demand`` [R]: the largest, over resources, of the fractional cover of that
    resource alone (inf when some resource cannot be covered)."""
    return max(
        (fractional_cover_cost(cost, capacity[:, r], demand[r]) for r in range(capacity.shape[1])),
        default=0.0,
    )


def pinned_hosts(cluster: Cluster) -> np.ndarray:
    """bool[H]: usable hosts holding a placed VM that may not move; on in every feasible
    assignment. O(V + H)."""
    cur = cluster.vms.current
    out = np.zeros(cluster.n_hosts, dtype=bool)
    out[cur[(cur >= 0) & ~cluster.vms.migratable]] = True
    return out & cluster.usable


def _rest(capacity: np.ndarray, on: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """float[R]: the part of ``demand`` the hosts ``on`` (bool mask) cannot hold."""
    return np.maximum(demand - capacity[on].sum(axis=0), 0.0)


def min_hosts_with_pinned(capacity: np.ndarray, demand: np.ndarray, on: np.ndarray) -> int:
    """Fewest hosts covering ``demand`` when the hosts ``on`` (bool mask) are on anyway:
    those, plus the fewest others covering what their capacity cannot hold."""
    return int(on.sum()) + min_hosts_to_cover(capacity[~on], _rest(capacity, on, demand))


def host_cost_with_pinned(
    cost: np.ndarray, capacity: np.ndarray, demand: np.ndarray, on: np.ndarray
) -> float:
    """:func:`host_cost_cover` when the hosts ``on`` (bool mask) are on anyway: their cost,
    plus the cover of what their capacity cannot hold by the others."""
    return float(cost[on].sum()) + host_cost_cover(cost[~on], capacity[~on], _rest(capacity, on, demand))


def active_hosts_bound(cluster: Cluster) -> int:
    """Volume bound on powered hosts, hosts with pinned VMs counted as on: max of the bound
    over all VMs and the sum over disjoint host sets (the hosts of each required GPU model,
    whose VMs can use no other host, and the pinned hosts of no such model)."""
    usable = cluster.usable
    on = pinned_hosts(cluster)[usable]
    cap, dem = cluster.hosts.capacity[usable], cluster.vms.demand
    model = cluster.hosts.gpu_model[usable]
    total = min_hosts_with_pinned(cap, dem.sum(axis=0), on)
    models = np.unique(cluster.vms.gpu_model[cluster.vms.gpu_model >= 0])
    per_model = int((on & ~np.isin(model, models)).sum())
    for m in models:
        hosts = model == m
        need = dem[cluster.vms.gpu_model == m].sum(axis=0)
        per_model += min_hosts_with_pinned(cap[hosts], need, on[hosts])
    return max(total, per_model)


def dynamic_watts_per_unit(watts: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Per host: a lower bound on (P(u) - P(0)) / load, in watts per unit of the power
    resource. For a piecewise-linear curve (P(u) - P(0)) / u is monotone on each segment,
    so its minimum is at a breakpoint u = k/10."""
    u = np.arange(1, watts.shape[1]) / (watts.shape[1] - 1)
    slope = ((watts[:, 1:] - watts[:, :1]) / u).min(axis=1)
    return np.where(capacity > 0, np.maximum(slope, 0.0) / np.where(capacity > 0, capacity, 1.0), 0.0)


def energy_bound(cluster: Cluster, power_resource: int) -> float:
    """Lower bound on total watts: idle power of the hosts needed to cover the demand plus
    the least dynamic power per unit of the power resource. Two relaxations, the larger is
    returned: (a) one fractional cover on the power resource with cost per host =
    idle + full-load dynamic power; (b) for every resource, the cheapest fractional cover of
    idle power, plus the cheapest per-unit dynamic power times the total demand. Hosts with
    pinned VMs pay their idle power in full, and in (a) their capacity costs only its
    dynamic power."""
    usable = cluster.usable
    if not usable.any():
        return 0.0
    on = pinned_hosts(cluster)[usable]
    cap = cluster.hosts.capacity[usable]
    watts = cluster.power.watts[cluster.hosts.power_curve[usable]]
    idle = watts[:, 0]
    total = cluster.vms.demand.sum(axis=0)
    per_unit = dynamic_watts_per_unit(watts, cap[:, power_resource])
    d_cpu = total[power_resource]
    # a pinned host's idle power is paid anyway: its capacity costs only the dynamic power
    dynamic = per_unit * cap[:, power_resource]
    combined = idle[on].sum() + fractional_cover_cost(
        np.where(on, dynamic, idle + dynamic), cap[:, power_resource], d_cpu
    )
    powered = cap[:, power_resource] > 0
    dyn = float(per_unit[powered].min() * d_cpu) if d_cpu > 0 and powered.any() else 0.0
    best = max(combined, host_cost_with_pinned(idle, cap, total, on) + dyn)
    return float(best) if np.isfinite(best) else 0.0


def forced_moves(cluster: Cluster) -> np.ndarray:
    """bool[V]: placed VMs whose current host is not usable, so any feasible target moves
    them."""
    cur = cluster.vms.current
    return (cur >= 0) & ~cluster.usable[np.maximum(cur, 0)]
