"""Moves between two assignments and the units they are scheduled in.

A *move* is one VM going from ``src`` to ``dst`` (host indices, -1 = nowhere): a live
migration (both placed), a placement of a pending VM (``src`` -1) or an eviction (``dst``
-1). A *unit* is the set of moves that must run in the same wave: the moves of the members
of one affinity group (they must share a host, so they travel together), or a single move.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cluster_opt.model import Cluster, HostState

MIGRATE, PLACE, EVICT = 0, 1, 2
KIND_NAMES = ("migrate", "place", "evict")

#: Why a move is in the plan: it reaches the target; it parks a VM on a staging host to
#: break a wait cycle; it moves a VM that stays in the target aside for a while; or it brings
#: a staged or temporarily moved VM to its final host.
TARGET, STAGING, TEMPORARY, RETURN = 0, 1, 2, 3
ROLE_NAMES = ("target", "staging", "temporary", "return")


def move_kind(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """int8[M]: MIGRATE, PLACE or EVICT of each move."""
    return np.where(src < 0, PLACE, np.where(dst < 0, EVICT, MIGRATE)).astype(np.int8)


def changed_vms(x0: np.ndarray, target: np.ndarray) -> np.ndarray:
    """int64[M]: VMs whose host differs between the two assignments, ascending. O(V)."""
    return np.flatnonzero(np.asarray(x0) != np.asarray(target)).astype(np.int64)


@dataclass
class Units:
    """CSR of units over move indices: unit ``u`` runs moves ``moves[ptr[u]:ptr[u+1]]``."""

    ptr: np.ndarray  # int64[U + 1]
    moves: np.ndarray  # int64[...]

    def __len__(self) -> int:
        return len(self.ptr) - 1

    def of(self, u: int) -> np.ndarray:
        return self.moves[self.ptr[u] : self.ptr[u + 1]]

    def extend(self, start: int, sizes: list[int]) -> None:
        """Append units made of the consecutive moves ``start, start + 1, ...``, of the
        given sizes."""
        total = int(sum(sizes))
        self.moves = np.concatenate([self.moves, np.arange(start, start + total, dtype=np.int64)])
        self.ptr = np.concatenate([self.ptr, self.ptr[-1] + np.cumsum(sizes, dtype=np.int64)])

    def unit_of_move(self, n_moves: int) -> np.ndarray:
        """int64[n_moves]: the unit of each move (-1 for moves in no unit)."""
        out = np.full(n_moves, -1, dtype=np.int64)
        out[self.moves] = np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.ptr))
        return out

    def reduce(self, values: np.ndarray) -> np.ndarray:
        """Per-unit sums of a per-move array."""
        if not len(self):
            return np.zeros(0, dtype=values.dtype)
        return np.add.reduceat(values[self.moves], self.ptr[:-1]) if len(self.moves) else values[:0]


def affinity_units(cluster: Cluster, vm: np.ndarray) -> Units:
    """Units for moves of ``vm`` (int64[M]): members of one affinity group form one unit,
    every other move its own unit; units in order of their first move. O(M log M)."""
    n_aff = len(cluster.affinity_groups)
    aff = cluster.vms.affinity[vm].astype(np.int64)
    key = np.where(aff >= 0, aff, n_aff + np.arange(len(vm), dtype=np.int64))
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    unit = rank[inverse]
    moves = np.argsort(unit, kind="stable")
    ptr = np.zeros(len(first) + 1, dtype=np.int64)
    np.cumsum(np.bincount(unit, minlength=len(first)), out=ptr[1:])
    return Units(ptr, moves.astype(np.int64))


def static_blocks(
    cluster: Cluster, vm: np.ndarray, src: np.ndarray, dst: np.ndarray, forbidden: np.ndarray
) -> list[str | None]:
    """Per move, why it can never run whatever the order (None when it can): a VM that is
    not migratable, a destination that is not active, forbidden (being drained) or lacks
    the GPU model, or that is too small for the VM on its own. O(M R)."""
    h, v = cluster.hosts, cluster.vms
    out: list[str | None] = [None] * len(vm)
    moving = src >= 0
    d = np.maximum(dst, 0)
    placed = dst >= 0
    pinned = moving & ~v.migratable[vm]
    inactive = placed & (h.state[d] != HostState.ACTIVE)
    drained = placed & forbidden[d]
    need = v.gpu_model[vm]
    gpu = placed & (need >= 0) & (h.gpu_model[d] != need)
    big = placed & (v.demand[vm] > h.capacity[d] * (1 + 1e-9) + 1e-9).any(axis=1)
    for i in np.flatnonzero(pinned | inactive | drained | gpu | big):
        host = str(h.ids[d[i]])
        if pinned[i]:
            out[i] = "VM is not migratable"
        elif inactive[i]:
            out[i] = f"destination {host} is {HostState(int(h.state[d[i]])).name.lower()}"
        elif drained[i]:
            out[i] = f"destination {host} is being drained"
        elif gpu[i]:
            have = cluster.gpu_models[h.gpu_model[d[i]]] if h.gpu_model[d[i]] >= 0 else "none"
            out[i] = f"destination {host} has GPU model {have}; VM needs {cluster.gpu_models[need[i]]}"
        else:
            r = int(np.argmax(v.demand[vm[i]] - h.capacity[d[i]]))
            out[i] = (
                f"VM needs {v.demand[vm[i], r]:g} {cluster.resources[r]}; "
                f"{host} has {h.capacity[d[i], r]:g} in all"
            )
    return out


def affinity_splits(cluster: Cluster, x0: np.ndarray, target: np.ndarray) -> np.ndarray:
    """bool[A]: affinity groups that the target spreads over more hosts than the start
    does (at least 1 allowed): their moves cannot run without splitting the group. O(V log V)."""
    aff = cluster.vms.affinity
    n_aff = len(cluster.affinity_groups)
    return _hosts_used(aff, target, n_aff) > np.maximum(_hosts_used(aff, x0, n_aff), 1)


def _hosts_used(aff: np.ndarray, x: np.ndarray, n_groups: int) -> np.ndarray:
    keep = (aff >= 0) & (x >= 0)
    pairs = np.unique(np.stack([aff[keep], x[keep]]), axis=1) if keep.any() else np.zeros((2, 0), int)
    return np.bincount(pairs[0], minlength=n_groups)
