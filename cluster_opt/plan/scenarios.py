"""Random but feasible targets, for planner tests and benchmarks ("what if these N VMs
moved?"): each chosen VM goes to a random active host that still has room for it in the
target, has its GPU model and keeps its replica group within its limit."""

from __future__ import annotations

import numpy as np
from numba import njit

from cluster_opt.evaluate import Problem
from cluster_opt.evaluate.kernels import loads_and_counts


@njit(cache=True)
def _move_randomly(
    order,
    ptr,
    hosts,
    host_group,
    x,
    free,
    demand,
    vm_model,
    host_model,
    vm_group,
    g_ptr,
    g_members,
    g_level,
    g_limit,
    domains,
    n_moves,
    picks,
):
    """Move VMs of ``order`` to hosts drawn by ``picks`` (uniform [0, 1) per VM and try)
    among the hosts of their group until ``n_moves`` have moved."""
    moved = 0
    for j in range(len(order)):
        v = order[j]
        if moved >= n_moves:
            break
        k = host_group[x[v]]
        lo, hi = ptr[k], ptr[k + 1]
        if hi <= lo:
            continue
        for t in range(picks.shape[1]):
            h = hosts[lo + min(int(picks[j, t] * (hi - lo)), hi - lo - 1)]
            if h == x[v] or (vm_model[v] >= 0 and host_model[h] != vm_model[v]):
                continue
            fits = True
            for r in range(demand.shape[1]):
                if free[h, r] < demand[v, r]:
                    fits = False
            g = vm_group[v]
            if fits and g >= 0:
                dom = domains[g_level[g]]
                same = 0
                for i in range(g_ptr[g], g_ptr[g + 1]):
                    w = g_members[i]
                    if w != v and x[w] >= 0 and dom[x[w]] == dom[h]:
                        same += 1
                fits = same < g_limit[g]
            if fits:
                for r in range(demand.shape[1]):
                    free[x[v], r] += demand[v, r]
                    free[h, r] -= demand[v, r]
                x[v] = h
                moved += 1
                break
    return moved


def random_target(
    problem: Problem, n_moves: int, rng: np.random.Generator, tries: int = 20, same_region: bool = True
) -> np.ndarray:
    """int32[V]: the current placement with up to ``n_moves`` migratable, placed VMs
    (outside affinity groups) moved to random hosts (of their own region when
    ``same_region``), keeping every hard rule that the start keeps.
    O(n_moves x tries x (R + g))."""
    c = problem.cluster
    x = c.current_assignment()
    candidates = np.flatnonzero((x >= 0) & c.vms.migratable & (c.vms.affinity < 0))
    order = rng.permutation(candidates)[: 4 * n_moves].astype(np.int64)
    picks = rng.random((len(order), tries))
    load = loads_and_counts(x[None, :], c.vms.demand, c.n_hosts)[0][0]
    free = c.hosts.capacity - load
    usable = np.flatnonzero(c.usable)
    group = c.hosts.region.astype(np.int64) if same_region else np.zeros(c.n_hosts, dtype=np.int64)
    hosts = usable[np.argsort(group[usable], kind="stable")].astype(np.int64)
    ptr = np.zeros(int(group.max(initial=0)) + 2, dtype=np.int64)
    np.cumsum(np.bincount(group[usable], minlength=len(ptr) - 1), out=ptr[1:])
    g_ptr, g_members = problem.anti_affinity_csr
    _move_randomly(
        order,
        ptr,
        hosts,
        group,
        x,
        free,
        np.ascontiguousarray(c.vms.demand),
        c.vms.gpu_model.astype(np.int64),
        c.hosts.gpu_model.astype(np.int64),
        c.vms.anti_affinity.astype(np.int64),
        g_ptr,
        g_members,
        c.anti_affinity.level.astype(np.int64),
        c.anti_affinity.max_per_domain.astype(np.int64),
        np.ascontiguousarray(problem.domains),
        n_moves,
        picks,
    )
    return x


def swap_target(problem: Problem, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """int32[V]: the current placement with up to ``n_pairs`` pairs of VMs of identical
    demand and GPU model swapping hosts (migratable, outside replica and affinity groups,
    same region, different hosts). Loads do not change, so the target is as feasible as
    the start, but a full host cannot take its new VM before the old one has left: the
    wait cycles that staging breaks. O(V log V)."""
    c = problem.cluster
    x = c.current_assignment()
    v = c.vms
    ok = np.flatnonzero((x >= 0) & v.migratable & (v.affinity < 0) & (v.anti_affinity < 0))
    ok = rng.permutation(ok)
    key = np.column_stack([v.demand[ok], v.gpu_model[ok], c.hosts.region[x[ok]]])
    _, kind = np.unique(key, axis=0, return_inverse=True)
    order = np.argsort(kind.reshape(-1), kind="stable")
    a, b = ok[order[:-1]], ok[order[1:]]
    same_kind = kind.reshape(-1)[order[:-1]] == kind.reshape(-1)[order[1:]]
    pairs = np.flatnonzero(same_kind & (x[a] != x[b]))
    used = np.zeros(c.n_vms, dtype=bool)
    done = 0
    for i in pairs.tolist():
        if done >= n_pairs:
            break
        if used[a[i]] or used[b[i]]:
            continue
        used[a[i]] = used[b[i]] = True
        x[a[i]], x[b[i]] = x[b[i]], x[a[i]]
        done += 1
    return x
