"""Intermediate arrays shared by the terms while one population is scored."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from cluster_opt.evaluate import kernels

if TYPE_CHECKING:
    from cluster_opt.evaluate.problem import Problem

#: Relative slack when comparing a load with a capacity.
CAPACITY_RTOL = 1e-9


def as_population(x: np.ndarray, n_vms: int, n_hosts: int) -> np.ndarray:
    """Check and convert an assignment int[V] or population int[P, V] to int32[P, V]."""
    arr = np.asarray(x)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_vms:
        raise ValueError(f"assignment must have shape (V,) or (P, V) with V = {n_vms}; got {np.shape(x)}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"assignment must hold integer host indices; got dtype {arr.dtype}")
    if arr.size and (arr.min() < -1 or arr.max() >= n_hosts):
        raise ValueError(f"host indices must be in [-1, {n_hosts}); got [{arr.min()}, {arr.max()}]")
    return np.ascontiguousarray(arr, dtype=np.int32)


class BatchContext:
    """Lazily computed, shared intermediates for scoring ``x[P, V]`` on a problem.

    Terms read what they need; each array is computed at most once per population.
    """

    def __init__(self, problem: Problem, x: np.ndarray) -> None:
        c = problem.cluster
        self.problem = problem
        self.cluster = c
        self.x = as_population(x, c.n_vms, c.n_hosts)
        self.size = self.x.shape[0]
        self._utilisation: dict[int, np.ndarray] = {}

    @cached_property
    def _loads(self) -> tuple[np.ndarray, np.ndarray]:
        return kernels.loads_and_counts(self.x, self.cluster.vms.demand, self.cluster.n_hosts)

    @property
    def load(self) -> np.ndarray:
        """float64[P, H, R]: summed demand of the VMs on each host."""
        return self._loads[0]

    @property
    def count(self) -> np.ndarray:
        """int32[P, H]: VMs on each host."""
        return self._loads[1]

    @cached_property
    def active(self) -> np.ndarray:
        """bool[P, H]: hosts running at least one VM (the others can be powered off)."""
        return self.count > 0

    @cached_property
    def overload(self) -> np.ndarray:
        """float64[P, H, R]: load above capacity (beyond a 1e-9 relative slack)."""
        cap = self.cluster.hosts.capacity[None, :, :]
        return np.maximum(self.load - cap - CAPACITY_RTOL * np.maximum(cap, 1.0), 0.0)

    def utilisation(self, resource: int) -> np.ndarray:
        """float64[P, H], read-only: load / capacity of one resource (0 where the capacity
        is 0). Computed once per resource and shared (energy and imbalance both read cpu)."""
        if resource not in self._utilisation:
            cap = self.cluster.hosts.capacity[:, resource]
            safe = np.where(cap > 0, cap, 1.0)
            u = np.where(cap > 0, self.load[:, :, resource] / safe, 0.0)
            u.flags.writeable = False
            self._utilisation[resource] = u
        return self._utilisation[resource]
