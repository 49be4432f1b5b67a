"""numba kernels for the batch evaluator: aggregations over a population ``X[P, V]``.

Each kernel sums in VM index order, so results equal a plain Python loop bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Groups up to this size are sorted in place by insertion (no allocation).
_SMALL = 32


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
def gather_sum(x: np.ndarray, table: np.ndarray, vm_row: np.ndarray, host_col: np.ndarray) -> np.ndarray:
    """Per individual: sum over placed VMs v of ``table[vm_row[v], host_col[x[p, v]]]``.

    Serves every per-VM, per-host-attribute cost (zone prices, region latency). O(P V).
    """
    n_pop, n_vms = x.shape
    out = np.zeros(n_pop)
    for p in range(n_pop):
        total = 0.0
        for v in range(n_vms):
            h = x[p, v]
            if h >= 0:
                total += table[vm_row[v], host_col[h]]
        out[p] = total
    return out


@njit(cache=True)
def moved_sum(x: np.ndarray, current: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Per individual: sum of ``weight[v]`` over VMs with a current host that ``x`` puts
    elsewhere (or leaves unplaced). O(P V)."""
    n_pop, n_vms = x.shape
    out = np.zeros(n_pop)
    for p in range(n_pop):
        total = 0.0
        for v in range(n_vms):
            if current[v] >= 0 and x[p, v] != current[v]:
                total += weight[v]
        out[p] = total
    return out


@njit(cache=True)
def _sorted_domains(
    x_row: np.ndarray, members: np.ndarray, lo: int, hi: int, dom: np.ndarray, buf: np.ndarray
) -> int:
    """Domains of the placed members ``members[lo:hi]`` into ``buf[:n]``, sorted; returns n."""
    n = 0
    for i in range(lo, hi):
        h = x_row[members[i]]
        if h >= 0:
            buf[n] = dom[h]
            n += 1
    if n > _SMALL:
        buf[:n] = np.sort(buf[:n])
        return n
    for i in range(1, n):
        value = buf[i]
        j = i - 1
        while j >= 0 and buf[j] > value:
            buf[j + 1] = buf[j]
            j -= 1
        buf[j + 1] = value
    return n


def _largest(ptr: np.ndarray) -> int:
    return int(max(np.max(np.diff(ptr)) if len(ptr) > 1 else 0, 1))


@njit(cache=True)
def _spread_excess(x, ptr, members, level, limit, domains, buf):
    n_pop = x.shape[0]
    out = np.zeros(n_pop)
    for p in range(n_pop):
        total = 0
        for g in range(ptr.shape[0] - 1):
            if ptr[g + 1] - ptr[g] <= limit[g]:
                continue
            n = _sorted_domains(x[p], members, ptr[g], ptr[g + 1], domains[level[g]], buf)
            run = 1
            for i in range(1, n + 1):
                if i < n and buf[i] == buf[i - 1]:
                    run += 1
                else:
                    total += max(0, run - limit[g])
                    run = 1
        out[p] = total
    return out


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
    spread level. O(P M m) for M grouped VMs in groups of size m <= 32 (sorted in place),
    O(P M log m) beyond.
    """
    return _spread_excess(x, ptr, members, level, limit, domains, np.empty(_largest(ptr), dtype=np.int64))


@njit(cache=True)
def _split_groups(x, ptr, members, host_ids, buf):
    n_pop = x.shape[0]
    out = np.zeros(n_pop)
    for p in range(n_pop):
        total = 0
        for g in range(ptr.shape[0] - 1):
            n = _sorted_domains(x[p], members, ptr[g], ptr[g + 1], host_ids, buf)
            for i in range(1, n):
                if buf[i] != buf[i - 1]:
                    total += 1
        out[p] = total
    return out


def split_groups(x: np.ndarray, ptr: np.ndarray, members: np.ndarray, host_ids: np.ndarray) -> np.ndarray:
    """Per individual: sum over groups of (distinct hosts used by placed members - 1).

    ``host_ids`` is ``arange(H)`` (the host-level domain). Same complexity as
    :func:`spread_excess`.
    """
    return _split_groups(x, ptr, members, host_ids, np.empty(_largest(ptr), dtype=np.int64))
