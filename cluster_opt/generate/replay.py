"""Replay arrivals and departures with first-fit placement, the way clusters fragment.

Hosts are split into pools (a region's CPU or GPU hosts); each pool keeps a segment tree
whose nodes hold the element-wise maximum free capacity of their hosts, so first fit (the
lowest-ordered host that fits and keeps the unit's anti-affinity group within its limit)
is found in O(R log H) per event in the usual case. A unit is a VM or an affinity pair.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from cluster_opt.evaluate.problem import group_csr
from cluster_opt.solve.packing import group_ok

if TYPE_CHECKING:
    from cluster_opt.generate.arrivals import Arrivals
    from cluster_opt.generate.fleet import Fleet

#: Free capacity of the padding leaves: never fits.
_NEVER = -1.0


@njit(cache=True)
def _first_fit(
    tree: np.ndarray,
    base: int,
    size: int,
    pool_hosts: np.ndarray,
    start: int,
    u: int,
    unit_demand: np.ndarray,
    unit_group: np.ndarray,
    g_ptr: np.ndarray,
    g_members: np.ndarray,
    g_level: np.ndarray,
    g_limit: np.ndarray,
    unit_host: np.ndarray,
    domains: np.ndarray,
    stack: np.ndarray,
) -> int:
    """Lowest-ordered host of one pool that fits unit ``u`` and its group rule, or -1."""
    n_res = tree.shape[1]
    top = 0
    stack[0] = 1
    while top >= 0:
        node = stack[top]
        top -= 1
        fits = True
        for r in range(n_res):
            if tree[base + node, r] < unit_demand[u, r] - 1e-9:
                fits = False
                break
        if not fits:
            continue
        if node >= size:
            h = pool_hosts[start + node - size]
            if group_ok(u, h, unit_host, unit_group, g_ptr, g_members, g_level, g_limit, domains):
                return h
            continue
        stack[top + 1] = 2 * node + 1
        stack[top + 2] = 2 * node
        top += 2
    return -1


@njit(cache=True)
def replay(
    event_unit: np.ndarray,  # int64[E], units in event order
    event_arrive: np.ndarray,  # bool[E]
    unit_demand: np.ndarray,  # float64[U, R]
    unit_pool: np.ndarray,  # int64[U]
    unit_group: np.ndarray,  # int64[U], -1 = none
    g_ptr: np.ndarray,
    g_members: np.ndarray,
    g_level: np.ndarray,
    g_limit: np.ndarray,
    domains: np.ndarray,  # int64[3, H]
    capacity: np.ndarray,  # float64[H, R]
    pool_ptr: np.ndarray,  # int64[K + 1] into pool_hosts
    pool_hosts: np.ndarray,  # int64[...] hosts of each pool in first-fit order
    spill_ptr: np.ndarray,  # int64[K + 1] into spill_pools
    spill_pools: np.ndarray,  # int64[...] pools tried, in order, when a unit's own pool is full
) -> np.ndarray:
    """Host of every unit at the end (-1 = departed, or found no room in its pool or its
    spill pools). O(E R log H) when first fit succeeds near the top of the tree."""
    n_units, n_res = unit_demand.shape
    n_pools = pool_ptr.shape[0] - 1
    size = np.ones(n_pools, dtype=np.int64)
    tree_off = np.zeros(n_pools + 1, dtype=np.int64)
    for k in range(n_pools):
        while size[k] < max(pool_ptr[k + 1] - pool_ptr[k], 1):
            size[k] *= 2
        tree_off[k + 1] = tree_off[k] + 2 * size[k]
    tree = np.full((tree_off[n_pools], n_res), _NEVER)
    host_leaf = np.full(capacity.shape[0], -1, dtype=np.int64)  # absolute row in tree
    host_pool = np.full(capacity.shape[0], -1, dtype=np.int64)
    for k in range(n_pools):
        for i in range(pool_ptr[k + 1] - pool_ptr[k]):
            h = pool_hosts[pool_ptr[k] + i]
            host_leaf[h] = tree_off[k] + size[k] + i
            host_pool[h] = k
            tree[host_leaf[h]] = capacity[h]
        for node in range(size[k] - 1, 0, -1):
            _pull(tree, tree_off[k], node)
    unit_host = np.full(n_units, -1, dtype=np.int64)
    stack = np.empty(128, dtype=np.int64)
    for e in range(event_unit.shape[0]):
        u = event_unit[e]
        if not event_arrive[e]:
            h = unit_host[u]
            if h >= 0:
                _adjust(tree, tree_off[host_pool[h]], host_leaf[h], unit_demand[u], 1.0)
                unit_host[u] = -1
            continue
        k = unit_pool[u]
        found = -1
        i = spill_ptr[k] - 1  # -1: the unit's own pool, then its spill pools in order
        while found < 0 and i < spill_ptr[k + 1]:
            q = k if i < spill_ptr[k] else spill_pools[i]
            found = _first_fit(
                tree,
                tree_off[q],
                size[q],
                pool_hosts,
                pool_ptr[q],
                u,
                unit_demand,
                unit_group,
                g_ptr,
                g_members,
                g_level,
                g_limit,
                unit_host,
                domains,
                stack,
            )
            i += 1
        if found >= 0:
            unit_host[u] = found
            _adjust(tree, tree_off[host_pool[found]], host_leaf[found], unit_demand[u], -1.0)
    return unit_host


@njit(cache=True)
def _adjust(tree: np.ndarray, base: int, leaf: int, demand: np.ndarray, sign: float) -> None:
    """Add ``sign * demand`` to a leaf's free capacity and refresh the maxima above it."""
    for r in range(tree.shape[1]):
        tree[leaf, r] += sign * demand[r]
    node = leaf - base
    while node > 1:
        node //= 2
        _pull(tree, base, node)


@njit(cache=True)
def _pull(tree: np.ndarray, base: int, node: int) -> None:
    """Set an inner node of the tree at ``base`` to the element-wise max of its children."""
    for r in range(tree.shape[1]):
        tree[base + node, r] = max(tree[base + 2 * node, r], tree[base + 2 * node + 1, r])


def place(
    vms: Arrivals,
    demand: np.ndarray,
    region: np.ndarray,
    models: dict[int, set],
    hosts: Fleet,
    level: np.ndarray,
    limit: np.ndarray,
    horizon: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Host of every VM at the end of the horizon (-1: left, or never found room), by
    replaying arrivals and departures with first fit per pool (a region's CPU hosts, or its
    GPU hosts of one model); a unit whose region is full spills to the same kind of pool in
    the other regions, in region order (its users stay where they are). An affinity pair is
    placed as one unit."""
    n = len(vms)
    second = np.zeros(n, dtype=bool)
    paired = np.flatnonzero(vms.pair >= 0)
    second[paired[1::2]] = True
    unit = np.cumsum(~second) - 1
    first = np.flatnonzero(~second)
    n_units = len(first)
    unit_demand = np.zeros((n_units, demand.shape[1]))
    np.add.at(unit_demand, unit, demand)
    pool_key = np.where(hosts.capacity[:, 4] > 0, hosts.gpu_model, "cpu").astype(object)
    names = sorted({(int(r), str(k)) for r, k in zip(hosts.region, pool_key, strict=True)})
    index = {p: i for i, p in enumerate(names)}
    host_pool = np.array([index[(int(r), str(k))] for r, k in zip(hosts.region, pool_key, strict=True)])
    ordered = hosts.order[hosts.usable[hosts.order]]
    pool_hosts = ordered[np.argsort(host_pool[ordered], kind="stable")].astype(np.int64)
    pool_ptr = np.zeros(len(names) + 1, dtype=np.int64)
    np.cumsum(np.bincount(host_pool[ordered], minlength=len(names)), out=pool_ptr[1:])
    unit_pool = np.empty(n_units, dtype=np.int64)
    for u, i in enumerate(first):
        r = int(region[i])
        if vms.gpus[i] > 0:
            model = vms.model[i] or sorted(models[r])[int(rng.integers(len(models[r])))]
            unit_pool[u] = index[(r, model)]
        else:
            unit_pool[u] = index.get((r, "cpu"), 0)
    unit_group = vms.group[first]
    g_ptr, g_members = group_csr(unit_group, len(level))
    domains = np.vstack([np.arange(len(hosts.region)), hosts.rack_code, hosts.zone_code]).astype(np.int64)
    arrive = vms.arrive[first]
    depart = arrive + vms.life[first]
    leaves = depart <= horizon
    ev_unit = np.concatenate([np.arange(n_units), np.flatnonzero(leaves)])
    ev_time = np.concatenate([arrive, depart[leaves]])
    ev_arrive = np.concatenate([np.ones(n_units, dtype=bool), np.zeros(int(leaves.sum()), dtype=bool)])
    order = np.lexsort((ev_arrive, ev_time))
    spill = [
        [q for q, other in enumerate(names) if other[1] == mine[1] and q != k] for k, mine in enumerate(names)
    ]
    spill_ptr = np.cumsum([0] + [len(x) for x in spill]).astype(np.int64)
    spill_pools = np.asarray([q for x in spill for q in x], dtype=np.int64)
    unit_host = replay(
        ev_unit[order],
        ev_arrive[order],
        unit_demand,
        unit_pool,
        unit_group,
        g_ptr,
        g_members,
        level,
        limit,
        domains,
        hosts.capacity,
        pool_ptr,
        pool_hosts,
        spill_ptr,
        spill_pools,
    )
    return unit_host[unit]
