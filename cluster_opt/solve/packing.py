"""numba kernels of constraint-aware bin packing: placing units (a VM, or the members of an
affinity group that must share a host) on hosts under every hard rule.

A unit fits a host when the host is allowed (usable, not forbidden), has the GPU model each
member needs, has the free capacity in every resource, and placing the members keeps each
member's anti-affinity group within its per-domain limit. First fit uses a segment tree over
the hosts in preference order whose nodes hold the element-wise maximum free capacity below
them, so the first host with room is found in O(R log H) unless many hosts with room fail a
group or GPU rule. Best, worst and dot-product fit scan the hosts already in use (O(H_open R)
per unit) and open a new host by first fit only when none of them fits.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Relative slack when comparing demand with free capacity (as the evaluator does).
TOL = 1e-9
#: Looser slack for the tree's pruning test: a false "may fit" is checked at the leaf.
TREE_TOL = 1e-6

FIRST, BEST, WORST, DOT = 0, 1, 2, 3
CHOICES = {"first": FIRST, "best": BEST, "worst": WORST, "dot": DOT}


@njit(cache=True)
def group_ok(v, h, x, vm_group, g_ptr, g_members, g_level, g_limit, domains) -> bool:
    """True when VM ``v`` on host ``h`` keeps its anti-affinity group within its limit,
    counting the other members as placed in ``x``. O(group size)."""
    g = vm_group[v]
    if g < 0:
        return True
    dom = domains[g_level[g]]
    d = dom[h]
    same = 0
    for i in range(g_ptr[g], g_ptr[g + 1]):
        m = g_members[i]
        if m != v and x[m] >= 0 and dom[x[m]] == d:
            same += 1
    return same < g_limit[g]


@njit(cache=True)
def _room(free, h, need, cap) -> bool:
    for r in range(free.shape[1]):  # noqa: SIM110 (numba compiles the loop, not all())
        if free[h, r] < need[r] - TOL * max(cap[h, r], 1.0):
            return False
    return True


@njit(cache=True)
def unit_fits(
    u,
    h,
    unit_ptr,
    unit_members,
    unit_demand,
    x,
    free,
    allowed,
    cap,
    host_model,
    vm_model,
    vm_group,
    g_ptr,
    g_members,
    g_level,
    g_limit,
    domains,
) -> bool:
    """Whether unit ``u`` can go to host ``h`` now. Members are tentatively written into
    ``x`` to count each other in their groups, then restored. O(R + members x group size)."""
    if not allowed[h] or not _room(free, h, unit_demand[u], cap):
        return False
    for i in range(unit_ptr[u], unit_ptr[u + 1]):
        v = unit_members[i]
        if vm_model[v] >= 0 and host_model[h] != vm_model[v]:
            return False
    ok = True
    last = unit_ptr[u]
    for i in range(unit_ptr[u], unit_ptr[u + 1]):
        v = unit_members[i]
        if not group_ok(v, h, x, vm_group, g_ptr, g_members, g_level, g_limit, domains):
            ok = False
            break
        x[v] = h
        last = i + 1
    for i in range(unit_ptr[u], last):
        x[unit_members[i]] = -1
    return ok


@njit(cache=True)
def _pull(tree, node) -> None:
    for r in range(tree.shape[1]):
        tree[node, r] = max(tree[2 * node, r], tree[2 * node + 1, r])


@njit(cache=True)
def build_tree(free, allowed, order):
    """Segment tree over ``order`` (host indices): leaves hold free capacity (-1 for hosts
    not allowed), inner nodes the element-wise maximum. O(H R)."""
    size = 1
    while size < max(order.shape[0], 1):
        size *= 2
    tree = np.full((2 * size, free.shape[1]), -1.0)
    for i in range(order.shape[0]):
        h = order[i]
        if allowed[h]:
            tree[size + i] = free[h]
    for node in range(size - 1, 0, -1):
        _pull(tree, node)
    return tree


@njit(cache=True)
def update_tree(tree, rank, free, h) -> None:
    """Refresh host ``h``'s leaf after its free capacity changed. O(R log H)."""
    if rank[h] < 0:
        return
    node = tree.shape[0] // 2 + rank[h]
    tree[node] = free[h]
    while node > 1:
        node //= 2
        _pull(tree, node)


@njit(cache=True)
def first_fit(
    tree,
    order,
    u,
    unit_ptr,
    unit_members,
    unit_demand,
    x,
    free,
    allowed,
    cap,
    host_model,
    vm_model,
    vm_group,
    g_ptr,
    g_members,
    g_level,
    g_limit,
    domains,
    stack,
) -> int:
    """The first host in ``order`` that fits unit ``u``, or -1. O(R log H) per host tried."""
    size = tree.shape[0] // 2
    need = unit_demand[u]
    top = 0
    stack[0] = 1
    while top >= 0:
        node = stack[top]
        top -= 1
        fits = True
        for r in range(tree.shape[1]):
            if tree[node, r] < need[r] - TREE_TOL * max(abs(need[r]), 1.0):
                fits = False
                break
        if not fits:
            continue
        if node >= size:
            i = node - size
            if i < order.shape[0]:
                h = order[i]
                if unit_fits(
                    u,
                    h,
                    unit_ptr,
                    unit_members,
                    unit_demand,
                    x,
                    free,
                    allowed,
                    cap,
                    host_model,
                    vm_model,
                    vm_group,
                    g_ptr,
                    g_members,
                    g_level,
                    g_limit,
                    domains,
                ):
                    return h
            continue
        stack[top + 1] = 2 * node + 1
        stack[top + 2] = 2 * node
        top += 2
    return -1


@njit(cache=True)
def _fit_score(choice, free, cap, h, need) -> float:
    """Lower is better. best: squared residual after placing, as fractions of the host's
    capacity; worst: its negative; dot: minus the dot product of demand and free capacity
    (both as fractions of the host's capacity)."""
    s = 0.0
    for r in range(free.shape[1]):
        if cap[h, r] <= 0:
            continue
        if choice == DOT:
            s -= (need[r] / cap[h, r]) * (free[h, r] / cap[h, r])
        else:
            f = (free[h, r] - need[r]) / cap[h, r]
            s += f * f
    return -s if choice == WORST else s


@njit(cache=True)
def place_units(
    units,
    choice,
    unit_ptr,
    unit_members,
    unit_demand,
    unit_fixed,
    unit_gpu,
    x,
    free,
    count,
    allowed,
    cap,
    host_model,
    host_has_gpu,
    vm_model,
    vm_group,
    g_ptr,
    g_members,
    g_level,
    g_limit,
    domains,
    order,
    rank,
) -> int:
    """Place ``units`` in the given sequence by the ``choice`` rule, updating ``x``,
    ``free`` and ``count`` in place; returns how many units found no host.

    A unit with ``unit_fixed[u] >= 0`` may only go to that host (a pinned VM, or the rest
    of an affinity group already on a host). Hosts in use are ``count > 0``; best, worst and
    dot fit choose among them (hosts with GPUs only for units that need GPUs) and open a new
    host by first fit when none fits. O(U R log H) for first fit, O(U H_open R) otherwise.
    """
    tree = build_tree(free, allowed, order)
    stack = np.empty(2 * 64 + 2, dtype=np.int64)
    open_hosts = np.empty(cap.shape[0], dtype=np.int64)
    n_open = 0
    if choice != FIRST:
        for i in range(order.shape[0]):
            if count[order[i]] > 0:
                open_hosts[n_open] = order[i]
                n_open += 1
    # smallest demand per resource among the units still to place: an open host without
    # that much free in some resource can take none of them and leaves the scan
    n_res = cap.shape[1]
    least = np.empty((units.shape[0] + 1, n_res))
    least[units.shape[0]] = np.inf
    for k in range(units.shape[0] - 1, -1, -1):
        for r in range(n_res):
            least[k, r] = min(least[k + 1, r], unit_demand[units[k], r])
    failed = 0
    for k in range(units.shape[0]):
        u = units[k]
        h = -1
        if unit_fixed[u] >= 0:
            f = unit_fixed[u]
            if unit_fits(
                u,
                f,
                unit_ptr,
                unit_members,
                unit_demand,
                x,
                free,
                allowed,
                cap,
                host_model,
                vm_model,
                vm_group,
                g_ptr,
                g_members,
                g_level,
                g_limit,
                domains,
            ):
                h = f
        else:
            if choice != FIRST:
                best = np.inf
                i = 0
                while i < n_open:
                    o = open_hosts[i]
                    i += 1
                    if not _room(free, o, least[k], cap):
                        i -= 1
                        n_open -= 1
                        open_hosts[i] = open_hosts[n_open]
                        continue
                    if host_has_gpu[o] and not unit_gpu[u]:
                        continue
                    if not _room(free, o, unit_demand[u], cap):
                        continue
                    s = _fit_score(choice, free, cap, o, unit_demand[u])
                    if s < best and unit_fits(
                        u,
                        o,
                        unit_ptr,
                        unit_members,
                        unit_demand,
                        x,
                        free,
                        allowed,
                        cap,
                        host_model,
                        vm_model,
                        vm_group,
                        g_ptr,
                        g_members,
                        g_level,
                        g_limit,
                        domains,
                    ):
                        best = s
                        h = o
            if h < 0:
                h = first_fit(
                    tree,
                    order,
                    u,
                    unit_ptr,
                    unit_members,
                    unit_demand,
                    x,
                    free,
                    allowed,
                    cap,
                    host_model,
                    vm_model,
                    vm_group,
                    g_ptr,
                    g_members,
                    g_level,
                    g_limit,
                    domains,
                    stack,
                )
        if h < 0:
            failed += 1
            continue
        for i in range(unit_ptr[u], unit_ptr[u + 1]):
            x[unit_members[i]] = h
        for r in range(free.shape[1]):
            free[h, r] -= unit_demand[u, r]
        if count[h] == 0 and choice != FIRST:
            open_hosts[n_open] = h
            n_open += 1
        count[h] += unit_ptr[u + 1] - unit_ptr[u]
        update_tree(tree, rank, free, h)
    return failed


@njit(cache=True)
def bin_centric(
    units,
    choice,
    unit_ptr,
    unit_members,
    unit_demand,
    unit_fixed,
    x,
    free,
    count,
    allowed,
    cap,
    host_model,
    vm_model,
    vm_group,
    g_ptr,
    g_members,
    g_level,
    g_limit,
    domains,
    order,
) -> int:
    """Bin-centric packing: take hosts in ``order``; fill each with the best-scoring unit
    that fits (dot product with the free capacity, or the smallest residual), until none
    fits; then the next host. Fixed units are placed first. Returns units left unplaced.
    O(U^2 R) in the worst case: meant for instances of up to a few thousand units."""
    n = units.shape[0]
    left = np.ones(n, dtype=np.bool_)
    failed = 0
    for k in range(n):
        u = units[k]
        f = unit_fixed[u]
        if f < 0:
            continue
        left[k] = False
        if unit_fits(
            u,
            f,
            unit_ptr,
            unit_members,
            unit_demand,
            x,
            free,
            allowed,
            cap,
            host_model,
            vm_model,
            vm_group,
            g_ptr,
            g_members,
            g_level,
            g_limit,
            domains,
        ):
            _commit(u, f, unit_ptr, unit_members, unit_demand, x, free, count)
        else:
            failed += 1
    remaining = 0
    for k in range(n):
        if left[k]:
            remaining += 1
    for i in range(order.shape[0]):
        if remaining == 0:
            break
        h = order[i]
        while remaining > 0:
            pick = -1
            best = np.inf
            for k in range(n):
                if not left[k]:
                    continue
                u = units[k]
                if not _room(free, h, unit_demand[u], cap):
                    continue
                s = _fit_score(choice, free, cap, h, unit_demand[u])
                if s < best and unit_fits(
                    u,
                    h,
                    unit_ptr,
                    unit_members,
                    unit_demand,
                    x,
                    free,
                    allowed,
                    cap,
                    host_model,
                    vm_model,
                    vm_group,
                    g_ptr,
                    g_members,
                    g_level,
                    g_limit,
                    domains,
                ):
                    best = s
                    pick = k
            if pick < 0:
                break
            left[pick] = False
            remaining -= 1
            _commit(units[pick], h, unit_ptr, unit_members, unit_demand, x, free, count)
    return failed + remaining


@njit(cache=True)
def _commit(u, h, unit_ptr, unit_members, unit_demand, x, free, count) -> None:
    for i in range(unit_ptr[u], unit_ptr[u + 1]):
        x[unit_members[i]] = h
    for r in range(free.shape[1]):
        free[h, r] -= unit_demand[u, r]
    count[h] += unit_ptr[u + 1] - unit_ptr[u]
