"""Interchangeable VMs: the same placement with the fewest moves.

Two VMs are interchangeable when every attribute the evaluator and the rules read is
equal: demand, tenant, GPU model, pricing, user region, replica group, affinity group and
migratable (priority is read by neither). Exchanging the hosts of interchangeable VMs leaves every host's
load, every group's spread and every term except migrations unchanged, so a search that
moves VM a to b's host and b to a's host (annealing's swap does, at a cost and for no
gain) asks the migration planner for a swap that is at best two wasted migrations and at
worst a wait cycle no staging host can break (two replicas trading the only two racks they
may use). :func:`fewest_moves` undoes such exchanges before a solution leaves the search.
"""

from __future__ import annotations

import weakref

import numpy as np

from cluster_opt.evaluate import Evaluator, Problem
from cluster_opt.model import Cluster
from cluster_opt.solve.base import Solution

#: class ids per cluster, computed once (clusters are immutable)
_CLASSES: weakref.WeakKeyDictionary[Cluster, np.ndarray] = weakref.WeakKeyDictionary()


def interchangeable_classes(cluster: Cluster) -> np.ndarray:
    """int64[V]: a class id per VM, equal for interchangeable VMs; computed once per
    cluster. O(V (R + 7) log V)."""
    cached = _CLASSES.get(cluster)
    if cached is None:
        v = cluster.vms
        columns = (v.tenant, v.gpu_model, v.pricing, v.user_region, v.anti_affinity, v.affinity, v.migratable)
        key = np.column_stack([v.demand, *(np.asarray(c, dtype=np.float64) for c in columns)])
        cached = np.unique(key, axis=0, return_inverse=True)[1].reshape(-1).astype(np.int64)
        _CLASSES[cluster] = cached
    return cached


def fewest_moves(cluster: Cluster, x: np.ndarray) -> np.ndarray:
    """``x`` (int[V]) with the target places of interchangeable moving VMs handed out again
    so that as many as possible stay on their host, then in their rack, zone and region
    (-1 = pending counts as a place of its own). Within each class the multiset of target
    places is unchanged; at each level the number matched is the maximum, the sum over
    domains of min(VMs there now, open places there). Only VMs that ``x`` moves are
    touched. O(M log M) for M moving VMs (after the classes, once per cluster)."""
    x = np.asarray(x)
    start = cluster.vms.current.astype(np.int64)
    movers = np.flatnonzero(x != start)
    if len(movers) < 2:
        return x
    cls = interchangeable_classes(cluster)[movers]
    now, due = start[movers], x[movers].astype(np.int64)
    h = cluster.hosts
    # place -> domain at each level, index -1 (pending) its own domain; last: the class alone
    levels = [np.append(d, -1) for d in (np.arange(cluster.n_hosts), h.rack, h.zone, h.region)]
    levels.append(np.zeros(cluster.n_hosts + 1, np.int64))
    owner = np.full(len(movers), -1, dtype=np.int64)  # mover -> the mover whose target it takes
    for domain in levels:
        dom = domain.astype(np.int64) + 1
        width = int(dom.max()) + 1
        people = np.flatnonzero(owner < 0)
        taken = np.zeros(len(movers), dtype=bool)
        taken[owner[owner >= 0]] = True
        slots = np.flatnonzero(~taken)
        a, b = _pair(cls[people] * width + dom[now[people]], cls[slots] * width + dom[due[slots]])
        owner[people[a]] = slots[b]
    if np.array_equal(owner, np.arange(len(movers))):
        return x
    out = x.copy()
    out[movers] = due[owner]
    return out


def _pair(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices (i, j) pairing ``left[i] == right[j]``, each index at most once and as many
    pairs as possible: the k-th occurrence of a key on the left with its k-th on the right.
    O(n log n)."""
    n = max(len(left), len(right)) + 1
    orders = [np.argsort(k, kind="stable") for k in (left, right)]
    codes = [k[o] * n + _rank_in_runs(k[o]) for k, o in zip((left, right), orders, strict=True)]
    _, i, j = np.intersect1d(codes[0], codes[1], assume_unique=True, return_indices=True)
    return orders[0][i], orders[1][j]


def _rank_in_runs(sorted_keys: np.ndarray) -> np.ndarray:
    """int64[n]: the position of each element within its run of equal keys. O(n)."""
    n = len(sorted_keys)
    first = np.ones(n, dtype=bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    starts = np.flatnonzero(first)
    return np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))


def settled(problem: Problem, solution: Solution) -> Solution:
    """``solution`` with :func:`fewest_moves` applied, scored again when it changed."""
    x = fewest_moves(problem.cluster, solution.x)
    if x is solution.x or np.array_equal(x, solution.x):
        return solution
    ev = Evaluator(problem).batch(np.asarray(x, dtype=np.int32)[None])
    return Solution(x.astype(solution.x.dtype), float(ev.score[0]), bool(ev.feasible[0]))
