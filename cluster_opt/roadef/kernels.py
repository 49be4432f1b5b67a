"""numba kernels for the ROADEF spread and dependency terms over a population ``X[P, V]``.

Both avoid sorting and per-individual allocation by stamping: a cell holds the id of the
last (individual, group) that marked it, so nothing is cleared between groups.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def spread_shortfall(
    x: np.ndarray,
    ptr: np.ndarray,
    members: np.ndarray,
    need: np.ndarray,
    location: np.ndarray,
    n_locations: int,
) -> np.ndarray:
    """Per individual: sum over services s of max(0, need[s] - distinct locations of the
    placed members ``members[ptr[s]:ptr[s+1]]``); ``location[h]`` is host h's location
    code. O(P (V + S))."""
    n_pop = x.shape[0]
    n_serv = ptr.shape[0] - 1
    stamp = np.full(n_locations, -1, dtype=np.int64)
    out = np.zeros(n_pop)
    for p in range(n_pop):
        total = 0
        for s in range(n_serv):
            if need[s] <= 0:
                continue
            tag = p * n_serv + s
            distinct = 0
            for i in range(ptr[s], ptr[s + 1]):
                h = x[p, members[i]]
                if h >= 0 and stamp[location[h]] != tag:
                    stamp[location[h]] = tag
                    distinct += 1
            total += max(0, need[s] - distinct)
        out[p] = total
    return out


@njit(cache=True)
def unmet_dependencies(
    x: np.ndarray,
    service: np.ndarray,
    target_of: np.ndarray,
    dep_ptr: np.ndarray,
    dep_rows: np.ndarray,
    neighborhood: np.ndarray,
    n_neighborhoods: int,
) -> np.ndarray:
    """Per individual: the number of (placed process v, dependency d of v's service) pairs
    where no process of d runs in v's neighborhood. Services that are some service's
    dependency have a row ``target_of[s] >= 0`` of a presence table; ``dep_rows`` lists
    each service's dependencies as such rows (CSR ``dep_ptr``). O(P (V + sum over placed v
    of deg(service v))) time, O(rows x neighborhoods) memory."""
    n_pop, n_vms = x.shape
    n_rows = max(int(target_of.max()) + 1 if target_of.shape[0] else 0, 1)
    present = np.full((n_rows, n_neighborhoods), -1, dtype=np.int64)
    out = np.zeros(n_pop)
    for p in range(n_pop):
        for v in range(n_vms):
            h = x[p, v]
            if h >= 0 and target_of[service[v]] >= 0:
                present[target_of[service[v]], neighborhood[h]] = p
        total = 0
        for v in range(n_vms):
            h = x[p, v]
            if h < 0:
                continue
            s = service[v]
            for j in range(dep_ptr[s], dep_ptr[s + 1]):
                if present[dep_rows[j], neighborhood[h]] != p:
                    total += 1
        out[p] = total
    return out
