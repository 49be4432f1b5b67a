"""Local-search moves on a delta-evaluation state (numba): shift, swap and "empty a host".

Each move applies single-VM moves with :func:`~cluster_opt.solve.delta.apply_move`,
recording them in an undo buffer, and returns the total (soft, hard) change; the caller
accepts it or calls :func:`undo`. Complexity per move: O(R + m) for shift and swap (m the
group sizes), O(n (c R + m)) for emptying a host of n VMs with c candidate targets.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from cluster_opt.solve.delta import apply_move

SHIFT, SWAP, EMPTY = 0, 1, 2


@njit(cache=True, _nrt=False)
def undo(m, s, buf_v, buf_h, n) -> None:
    """Reverse the first ``n`` recorded single-VM moves (latest first)."""
    for i in range(n - 1, -1, -1):
        apply_move(m, s, buf_v[i], buf_h[i])


@njit(cache=True, _nrt=False)
def _do(m, s, v, h, buf_v, buf_h, n, acc):
    """Apply one single-VM move, record its origin, add its change to ``acc[0:2]``."""
    buf_v[n] = v
    buf_h[n] = s.x[v]
    ds, dh = apply_move(m, s, v, h)
    acc[0] += ds
    acc[1] += dh
    return n + 1


@njit(cache=True, _nrt=False)
def _target(s, usable, n_vms):
    """A random target host: half the time the host of a random VM (busy hosts, where
    packing happens), else a uniformly random usable host."""
    if np.random.random() < 0.5:
        h = s.x[np.random.randint(n_vms)]
        if h >= 0:
            return h
    return usable[np.random.randint(usable.shape[0])]


@njit(cache=True, _nrt=False)
def shift(m, s, movable, usable, buf_v, buf_h, acc):
    """Move a random movable VM, with the rest of its affinity group, to a random host.
    Returns the number of single moves recorded (0 = nothing to do)."""
    v = movable[np.random.randint(movable.shape[0])]
    h = _target(s, usable, s.x.shape[0])
    if h == s.x[v]:
        return 0
    a = m.vm_aff[v]
    if a < 0:
        return _do(m, s, v, h, buf_v, buf_h, 0, acc)
    n = 0
    for i in range(m.a_ptr[a], m.a_ptr[a + 1]):
        o = m.a_members[i]
        if s.x[o] != h:
            n = _do(m, s, o, h, buf_v, buf_h, n, acc)
    return n


@njit(cache=True, _nrt=False)
def swap(m, s, movable, buf_v, buf_h, acc):
    """Exchange the hosts of two random placed movable VMs outside affinity groups."""
    v = movable[np.random.randint(movable.shape[0])]
    w = movable[np.random.randint(movable.shape[0])]
    hv = s.x[v]
    hw = s.x[w]
    if hv < 0 or hw < 0 or hv == hw or m.vm_aff[v] >= 0 or m.vm_aff[w] >= 0:
        return 0
    n = _do(m, s, v, hw, buf_v, buf_h, 0, acc)
    return _do(m, s, w, hv, buf_v, buf_h, n, acc)


@njit(cache=True, _nrt=False)
def _fits(m, s, h, v) -> bool:
    for r in range(s.load.shape[1]):  # noqa: SIM110 (numba compiles the loop, not all())
        if s.load[h, r] + m.demand[v, r] > m.cap_tol[h, r]:
            return False
    return True


@njit(cache=True, _nrt=False)
def empty_host(m, s, pinned, candidates, buf_v, buf_h, acc):
    """Pick the emptiest of a few busy hosts and move each of its VMs to the tightest of
    ``candidates`` random busy hosts where it fits (affinity partners follow each other).
    Returns the moves recorded, or -n when it gave up after n moves (the caller undoes)."""
    n_vms = s.x.shape[0]
    src = -1
    for _ in range(4):
        h = s.x[np.random.randint(n_vms)]
        if h >= 0 and (src < 0 or s.count[h] < s.count[src]):
            src = h
    if src < 0 or s.count[src] > buf_v.shape[0] // 2:
        return 0
    n = 0
    while s.head[src] >= 0:
        v = s.head[src]
        if pinned[v]:
            return -n
        dst = -1
        a = m.vm_aff[v]
        if a >= 0:  # follow a partner that already left
            for i in range(m.a_ptr[a], m.a_ptr[a + 1]):
                o = m.a_members[i]
                if o != v and s.x[o] >= 0 and s.x[o] != src:
                    dst = s.x[o]
        if dst < 0:
            best = np.inf
            for _ in range(candidates):
                h = s.x[np.random.randint(n_vms)]
                if h < 0 or h == src or not _fits(m, s, h, v):
                    continue
                slack = 0.0
                for r in range(s.load.shape[1]):
                    if m.cap[h, r] > 0:
                        slack += (m.cap[h, r] - s.load[h, r] - m.demand[v, r]) / m.cap[h, r]
                if slack < best:
                    best = slack
                    dst = h
        if dst < 0:
            return -n
        n = _do(m, s, v, dst, buf_v, buf_h, n, acc)
    return n


@njit(cache=True, _nrt=False)
def _overload(m, s, h) -> float:
    total = 0.0
    for r in range(s.load.shape[1]):
        if s.load[h, r] > m.cap_tol[h, r]:
            total += (s.load[h, r] - m.cap_tol[h, r]) * m.over_w[h, r]
    return total


@njit(cache=True, _nrt=False)
def _added_overload(m, s, h, v) -> float:
    total = 0.0
    for r in range(s.load.shape[1]):
        after = s.load[h, r] + m.demand[v, r]
        if after > m.cap_tol[h, r]:
            total += (after - max(s.load[h, r], m.cap_tol[h, r])) * m.over_w[h, r]
    return total


@njit(cache=True, _nrt=False)
def relieve(m, s, movable_mask, focus, usable, samples, buf_v, buf_h, acc):
    """Min-conflicts move: of ``samples`` random hosts from ``focus`` (hosts that were
    overloaded recently) take the most overloaded and move a random movable VM of it to
    the one of ``samples`` random hosts where it adds the least overload, or swap it with a
    random VM of such a host. O(samples R + VMs on the host)."""
    if focus.shape[0] == 0:
        return 0
    src = -1
    worst = 0.0
    for _ in range(samples):
        h = focus[np.random.randint(focus.shape[0])]
        o = _overload(m, s, h)
        if o > worst:
            worst = o
            src = h
    if src < 0:
        return 0
    k = np.random.randint(s.count[src])
    v = s.head[src]
    for _ in range(k):
        v = s.nxt[v]
    if not movable_mask[v] or m.vm_aff[v] >= 0:
        return 0
    dst = -1
    least = np.inf
    for _ in range(samples):
        h = _target(s, usable, s.x.shape[0])
        if h == src:
            continue
        o = _added_overload(m, s, h, v)
        if o < least:
            least = o
            dst = h
    if dst < 0:
        return 0
    if least == 0.0 or s.count[dst] == 0 or np.random.random() < 0.5:
        return _do(m, s, v, dst, buf_v, buf_h, 0, acc)
    w = s.head[dst]  # swap with a random VM of the destination
    for _ in range(np.random.randint(s.count[dst])):
        w = s.nxt[w]
    if not movable_mask[w] or m.vm_aff[w] >= 0:
        return 0
    n = _do(m, s, v, dst, buf_v, buf_h, 0, acc)
    return _do(m, s, w, src, buf_v, buf_h, n, acc)
