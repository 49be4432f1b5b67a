"""Construction heuristics (FF, BF, WF, FFD, BFD, WFD, dot-product and bin-centric vector
variants), insertion of unplaced VMs, and repair of infeasible assignments.

A heuristic is named ``RULE`` or ``RULE-KEY``:

==========  ==========================================================================
rule        meaning
==========  ==========================================================================
ff, bf, wf  item-centric first / best / worst fit, VMs in snapshot order
ffd, bfd,   the same with VMs sorted by decreasing size
wfd
dpd         item-centric dot product, decreasing: the host in use whose free capacity
            has the largest dot product with the demand
bcs-dp,     bin-centric: fill one host at a time with the VM of largest dot product
bcs-l2      with its free capacity (dp) or the smallest residual (l2)
==========  ==========================================================================

KEY is the size measure for the decreasing sorts, over demand normalised by each
resource's mean host capacity: ``l2`` (default), ``max`` or ``sum``. Every heuristic
respects the evaluator's hard rules (see :mod:`cluster_opt.solve.packing`); a VM that fits
nowhere stays unplaced (-1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from cluster_opt.evaluate import Problem
from cluster_opt.solve import packing
from cluster_opt.solve.rules import PlacementRules

RULES = ("ff", "bf", "wf", "ffd", "bfd", "wfd", "dpd", "bcs-dp", "bcs-l2")
KEYS = ("l2", "max", "sum")
_CHOICE = {"f": "first", "b": "best", "w": "worst", "d": "dot"}


@dataclass(frozen=True)
class Heuristic:
    """A parsed heuristic name (see the module docstring)."""

    choice: str  # first | best | worst | dot
    key: str | None  # None: snapshot order; else sort decreasing by this size measure
    bin_centric: bool = False

    @classmethod
    def parse(cls, name: str) -> Heuristic:
        """Parse ``RULE[-KEY]``; raises ValueError listing the valid names."""
        text = name.strip().lower()
        key = None
        for k in KEYS:
            if text.endswith(f"-{k}") and text != "bcs-l2":
                text, key = text[: -len(k) - 1], k
                break
        if text not in RULES:
            raise ValueError(
                f"unknown heuristic {name!r}; rules: {', '.join(RULES)}, optionally -{'|-'.join(KEYS)}"
            )
        if text.startswith("bcs"):
            return cls("dot" if text == "bcs-dp" else "best", key or "l2", bin_centric=True)
        decreasing = text.endswith("d") and len(text) == 3
        if key is not None and not decreasing:
            raise ValueError(f"heuristic {name!r}: a size key only applies to decreasing rules")
        return cls(_CHOICE[text[0]], (key or "l2") if decreasing else None)


@dataclass(frozen=True)
class Units:
    """VMs grouped into placement units (affinity groups travel together). CSR layout."""

    ptr: np.ndarray  # int64[U + 1]
    members: np.ndarray  # int64[...] VM indices
    demand: np.ndarray  # float64[U, R]
    fixed: np.ndarray  # int64[U] the only host allowed, -1 = any
    gpu: np.ndarray  # bool[U] some member needs GPUs

    def __len__(self) -> int:
        return len(self.ptr) - 1


def make_units(rules: PlacementRules, vms: np.ndarray, x: np.ndarray) -> Units:
    """Units for placing ``vms`` (which must be unplaced in ``x``): one per VM, except
    that the members of one affinity group form one unit, fixed to the host of a member
    already placed or of a pinned member. O(n log n) for n VMs."""
    vms = np.asarray(vms, dtype=np.int64)
    n_aff = len(rules.a_ptr) - 1
    aff = rules.vm_affinity[vms]
    key = np.where(aff >= 0, aff, n_aff + vms)
    order = np.argsort(key, kind="stable")
    members = vms[order]
    _, starts = np.unique(key[order], return_index=True)
    ptr = np.append(starts, len(members)).astype(np.int64)
    demand = (
        np.add.reduceat(rules.demand[members], starts, axis=0)
        if len(members)
        else np.zeros((0, rules.demand.shape[1]))
    )
    gpu = np.logical_or.reduceat(rules.vm_needs_gpu[members], starts) if len(members) else np.zeros(0, bool)
    # fixed host: a pinned member's current host, else the host of a group member already placed
    fixed = np.full(len(starts), -1, dtype=np.int64)
    unit_of = np.repeat(np.arange(len(starts)), np.diff(ptr))
    group_host = np.full(n_aff, -1, dtype=np.int64)
    placed = rules.a_members[x[rules.a_members] >= 0]
    group_host[rules.vm_affinity[placed]] = x[placed]
    grouped = aff[order] >= 0
    fixed[unit_of[grouped]] = group_host[aff[order][grouped]]
    pinned = rules.pinned[members]
    fixed[unit_of[pinned]] = rules.current[members[pinned]]
    return Units(ptr, members, np.ascontiguousarray(demand, dtype=np.float64), fixed, gpu.astype(bool))


def torn_groups(rules: PlacementRules) -> np.ndarray:
    """bool[A]: affinity groups whose pinned members sit on different hosts, so that no
    host can take the whole group without moving a pinned VM. O(M)."""
    n_aff = len(rules.a_ptr) - 1
    pinned = rules.a_members[rules.pinned[rules.a_members]]
    lo = np.full(n_aff, np.iinfo(np.int64).max)
    hi = np.full(n_aff, -1, dtype=np.int64)
    np.minimum.at(lo, rules.vm_affinity[pinned], rules.current[pinned])
    np.maximum.at(hi, rules.vm_affinity[pinned], rules.current[pinned])
    return hi > lo


def unit_sequence(units: Units, key: str | None, scale: np.ndarray) -> np.ndarray:
    """int64[U]: units with a fixed host first, then the rest in snapshot order or by
    decreasing size (stable). O(U log U)."""
    idx = np.arange(len(units), dtype=np.int64)
    if key is None:
        size = np.zeros(len(units))
    else:
        d = units.demand / scale
        size = {"l2": np.sqrt((d * d).sum(axis=1)), "max": d.max(axis=1, initial=0.0), "sum": d.sum(axis=1)}[
            key
        ]
    return idx[np.lexsort((idx, -size, units.fixed < 0))]


@njit(cache=True)
def _free_and_count(x, demand, cap):
    free = cap.copy()
    count = np.zeros(cap.shape[0], dtype=np.int64)
    for v in range(x.shape[0]):
        h = x[v]
        if h >= 0:
            count[h] += 1
            for r in range(cap.shape[1]):
                free[h, r] -= demand[v, r]
    return free, count


def place(
    problem: Problem,
    x: np.ndarray,
    vms: np.ndarray,
    heuristic: str | Heuristic = "bfd",
    forbidden: np.ndarray | None = None,
) -> int:
    """Place the unplaced ``vms`` into ``x`` in place by ``heuristic`` without moving any
    other VM; returns how many units found no host. Complexity: see the heuristic
    (O(n R log H) for first fit, O(n H_open R) for best fit, O(n^2 R) bin-centric)."""
    rules = PlacementRules.of(problem)
    h = heuristic if isinstance(heuristic, Heuristic) else Heuristic.parse(heuristic)
    vms = np.asarray(vms, dtype=np.int64)
    aff = rules.vm_affinity[vms]
    torn = np.isin(aff, np.flatnonzero(torn_groups(rules)))  # they fit nowhere
    n_torn = len(np.unique(aff[torn]))
    units = make_units(rules, vms[~torn], x)
    if not len(units):
        return n_torn
    allowed = rules.usable.copy()
    if forbidden is not None:
        allowed &= ~np.asarray(forbidden, dtype=bool)
    free, count = _free_and_count(x, rules.demand, rules.capacity)
    seq = unit_sequence(units, h.key, rules.scale)
    order = rules.host_order[allowed[rules.host_order]]
    common = (
        units.ptr,
        units.members,
        units.demand,
        units.fixed,
    )
    groups = (rules.vm_group, rules.g_ptr, rules.g_members, rules.g_level, rules.g_limit, rules.domains)
    choice = packing.CHOICES[h.choice]
    if h.bin_centric:
        return n_torn + int(
            packing.bin_centric(
                seq,
                choice,
                *common,
                x,
                free,
                count,
                allowed,
                rules.capacity,
                rules.host_model,
                rules.vm_model,
                *groups,
                order,
            )
        )
    rank = np.full(len(allowed), -1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    return n_torn + int(
        packing.place_units(
            seq,
            choice,
            *common,
            units.gpu,
            x,
            free,
            count,
            allowed,
            rules.capacity,
            rules.host_model,
            rules.host_has_gpu,
            rules.vm_model,
            *groups,
            order,
            rank,
        )
    )


def construct(problem: Problem, heuristic: str = "ffd", forbidden: np.ndarray | None = None) -> np.ndarray:
    """int32[V]: a placement of every VM from scratch (pinned VMs on their current host),
    ignoring the current placement. See :func:`place` for the complexity."""
    x = np.full(problem.cluster.n_vms, -1, dtype=np.int32)
    place(problem, x, np.arange(problem.cluster.n_vms), heuristic, forbidden)
    return x


def insert(
    problem: Problem,
    x: np.ndarray,
    vms: np.ndarray | None = None,
    *,
    heuristic: str = "bfd",
    forbidden: np.ndarray | None = None,
) -> np.ndarray:
    """int32[V]: a copy of ``x`` with ``vms`` (default: every unplaced VM) taken off their
    hosts and re-inserted by ``heuristic`` on hosts that are usable and not ``forbidden``,
    under every hard rule; -1 where no host has room. Other VMs do not move."""
    out = np.array(x, dtype=np.int32, copy=True)
    chosen = np.flatnonzero(out < 0) if vms is None else np.unique(np.asarray(vms, dtype=np.int64))
    out[chosen] = -1
    place(problem, out, chosen, heuristic, forbidden)
    return out


@njit(cache=True)
def _evict_violators(
    x,
    allowed,
    cap,
    demand,
    size_order,
    pinned,
    current,
    host_model,
    vm_model,
    vm_group,
    g_ptr,
    g_members,
    g_level,
    g_limit,
    domains,
    a_ptr,
    a_members,
):
    """Unplace VMs (never pinned ones) until no hard rule is broken: pinned VMs back on
    their host; VMs on hosts not allowed or without their GPU model; split affinity groups
    (all members not pinned); replicas above their group's limit; then VMs on overloaded
    hosts, largest first (``size_order``). O(V R + H R + sum of group sizes squared)."""
    n_vms = x.shape[0]
    for v in range(n_vms):
        if pinned[v]:
            x[v] = current[v]
        elif x[v] >= 0 and (not allowed[x[v]] or (vm_model[v] >= 0 and host_model[x[v]] != vm_model[v])):
            x[v] = -1
    for a in range(a_ptr.shape[0] - 1):
        host = -2
        split = False
        for i in range(a_ptr[a], a_ptr[a + 1]):
            h = x[a_members[i]]
            if h >= 0:
                if host == -2:
                    host = h
                elif h != host:
                    split = True
        if split:
            for i in range(a_ptr[a], a_ptr[a + 1]):
                if not pinned[a_members[i]]:
                    x[a_members[i]] = -1
    for g in range(g_ptr.shape[0] - 1):
        dom = domains[g_level[g]]
        for i in range(g_ptr[g], g_ptr[g + 1]):
            v = g_members[i]
            if x[v] < 0 or pinned[v]:
                continue
            same = 0  # pinned members, and earlier members still placed, in v's domain
            for j in range(g_ptr[g], g_ptr[g + 1]):
                m = g_members[j]
                if m != v and x[m] >= 0 and dom[x[m]] == dom[x[v]] and (pinned[m] or j < i):
                    same += 1
            if same >= g_limit[g]:
                x[v] = -1
    load = np.zeros_like(cap)
    for v in range(n_vms):
        if x[v] >= 0:
            for r in range(cap.shape[1]):
                load[x[v], r] += demand[v, r]
    for v in size_order:
        h = x[v]
        if h < 0 or pinned[v]:
            continue
        over = False
        for r in range(cap.shape[1]):
            if load[h, r] > cap[h, r] + 1e-9 * max(cap[h, r], 1.0):
                over = True
        if over:
            x[v] = -1
            for r in range(cap.shape[1]):
                load[h, r] -= demand[v, r]


def repair(
    problem: Problem,
    x: np.ndarray,
    *,
    heuristic: str = "bfd",
    forbidden: np.ndarray | None = None,
) -> np.ndarray:
    """int32[V]: ``x`` made feasible with few moves: VMs that break a hard rule are taken
    off (see ``_evict_violators``) and re-inserted with every unplaced VM by
    ``heuristic``. VMs that fit nowhere stay unplaced. O(V log V + insertion)."""
    rules = PlacementRules.of(problem)
    out = np.array(x, dtype=np.int32, copy=True)
    allowed = rules.usable.copy()
    if forbidden is not None:
        allowed &= ~np.asarray(forbidden, dtype=bool)
    _evict_violators(
        out,
        allowed,
        rules.capacity,
        rules.demand,
        rules.size_order,
        rules.pinned,
        rules.current,
        rules.host_model,
        rules.vm_model,
        rules.vm_group,
        rules.g_ptr,
        rules.g_members,
        rules.g_level,
        rules.g_limit,
        rules.domains,
        rules.a_ptr,
        rules.a_members,
    )
    place(problem, out, np.flatnonzero(out < 0), heuristic, forbidden)
    return out


__all__ = ["KEYS", "RULES", "Heuristic", "construct", "insert", "place", "repair"]
