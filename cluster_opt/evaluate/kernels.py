"""numba kernels for the batch evaluator: aggregations over a population ``X[P, V]``.

Each kernel sums in VM index order, so results equal a plain Python loop bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def loads_and_counts(x: np.ndarray, demand: np.ndarray, n_hosts: int) -> tuple[np.ndarray, np.ndarray]:
    """load[P, H, R] (summed demand per host) and count[P, H] (VMs per host).

    Unplaced VMs (x < 0) are skipped. O(P V R).
    """
    n_pop, n_vms = x.shape
    n_res = demand.shape[1]
    load = np.zeros((n_pop, n_hosts, n_res))
    count = np.zeros((n_pop, n_hosts), dtype=np.int32)
    for p in range(n_pop):
        for v in range(n_vms):
            h = x[p, v]
            if h >= 0:
                count[p, h] += 1
                for r in range(n_res):
                    load[p, h, r] += demand[v, r]
    return load, count


@njit(cache=True)
def _members_domains(
    x_row: np.ndarray, members: np.ndarray, lo: int, hi: int, dom: np.ndarray, buf: np.ndarray
) -> int:
    n = 0
    for i in range(lo, hi):
        h = x_row[members[i]]
        if h >= 0:
            buf[n] = dom[h]
            n += 1
    return n


@njit(cache=True)
def spread_excess(
    x: np.ndarray,
    ptr: np.ndarray,
    members: np.ndarray,
    level: np.ndarray,
    limit: np.ndarray,
    domains: np.ndarray,
) -> np.ndarray:
    """Per individual: sum over groups g and domains d of max(0, members of g in d - limit[g]).

    ``ptr``/``members``: CSR of group members; ``domains[level, h]``: domain of host h at a
    spread level. O(P M log m) for M grouped VMs and groups of size m.
    """
    n_pop = x.shape[0]
    n_groups = ptr.shape[0] - 1
    buf = np.empty(max(np.max(np.diff(ptr)) if n_groups else 0, 1), dtype=np.int64)
    out = np.zeros(n_pop)
    for p in range(n_pop):
        total = 0
        for g in range(n_groups):
            n = _members_domains(x[p], members, ptr[g], ptr[g + 1], domains[level[g]], buf)
            if n <= limit[g]:
                continue
            s = np.sort(buf[:n])
            run = 1
            for i in range(1, n):
                if s[i] == s[i - 1]:
                    run += 1
                else:
                    total += max(0, run - limit[g])
                    run = 1
            total += max(0, run - limit[g])
        out[p] = total
    return out


@njit(cache=True)
def split_groups(x: np.ndarray, ptr: np.ndarray, members: np.ndarray, host_ids: np.ndarray) -> np.ndarray:
    """Per individual: sum over groups of (distinct hosts used by placed members - 1).

    ``host_ids`` is ``arange(H)`` (the host-level domain). O(P M log m).
    """
    n_pop = x.shape[0]
    n_groups = ptr.shape[0] - 1
    buf = np.empty(max(np.max(np.diff(ptr)) if n_groups else 0, 1), dtype=np.int64)
    out = np.zeros(n_pop)
    for p in range(n_pop):
        total = 0
        for g in range(n_groups):
            n = _members_domains(x[p], members, ptr[g], ptr[g + 1], host_ids, buf)
            if n <= 1:
                continue
            s = np.sort(buf[:n])
            for i in range(1, n):
                if s[i] != s[i - 1]:
                    total += 1
        out[p] = total
    return out
