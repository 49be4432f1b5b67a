"""A ROADEF/EURO 2012 machine reassignment instance as numpy arrays (see docs/roadef.md).

Every number of the model file is an integer; all arrays hold integers (int64 where sums
and products are taken, int32 for indices and the dense machine-move cost matrix) so that
costs can be computed exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Instance:
    """The model file's content; R resources, M machines, S services, P processes, B balance
    objectives. Indices are 0-based as in the files."""

    name: str
    transient: np.ndarray  # bool[R]
    load_weight: np.ndarray  # int64[R] WL(r)
    neighborhood: np.ndarray  # int32[M]
    location: np.ndarray  # int32[M]
    capacity: np.ndarray  # int64[M, R] C(m, r)
    safety_capacity: np.ndarray  # int64[M, R] SC(m, r)
    machine_move_cost: np.ndarray  # int32[M, M] MMC(from, to)
    spread_min: np.ndarray  # int64[S]
    dependency_ptr: np.ndarray  # int64[S + 1] CSR: service s depends on dependency[ptr[s]:ptr[s+1]]
    dependency: np.ndarray  # int32[D]
    service: np.ndarray  # int32[P]
    requirement: np.ndarray  # int64[P, R] Req(p, r)
    process_move_cost: np.ndarray  # int64[P] PMC(p)
    balance_resources: np.ndarray  # int32[B, 2] (r1, r2)
    balance_target: np.ndarray  # int64[B]
    balance_weight: np.ndarray  # int64[B] WB(b)
    process_move_weight: int  # W_PMC
    service_move_weight: int  # W_SMC
    machine_move_weight: int  # W_MMC

    @property
    def n_resources(self) -> int:
        return len(self.transient)

    @property
    def n_machines(self) -> int:
        return len(self.neighborhood)

    @property
    def n_services(self) -> int:
        return len(self.spread_min)

    @property
    def n_processes(self) -> int:
        return len(self.service)

    @property
    def n_balances(self) -> int:
        return len(self.balance_target)

    def validate_assignment(self, x: np.ndarray, what: str = "assignment") -> np.ndarray:
        """``x`` as int64[P] after checking its shape and that every machine index is in
        ``[0, M)`` (the official checker aborts otherwise); ValueError naming ``what``. O(P)."""
        arr = np.asarray(x)
        if arr.shape != (self.n_processes,) or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(
                f"{what} must be integers of shape ({self.n_processes},); got {arr.dtype} {arr.shape}"
            )
        if arr.size and (arr.min() < 0 or arr.max() >= self.n_machines):
            bad = int(np.flatnonzero((arr < 0) | (arr >= self.n_machines))[0])
            raise ValueError(f"{what}: process {bad} on machine {arr[bad]}, outside [0, {self.n_machines})")
        return arr.astype(np.int64)

    def load_lower_bound(self) -> int:
        """sum_r WL(r) max(0, sum_p Req(p, r) - sum_m SC(m, r)): no assignment has a lower
        load cost (the usage of a resource over all machines is fixed). O(P R + M R)."""
        excess = self.requirement.sum(axis=0) - self.safety_capacity.sum(axis=0)
        return int(np.maximum(excess, 0) @ self.load_weight)

    def balance_lower_bound(self) -> int:
        """sum_b WB(b) max(0, target_b sum_m A(m, r1) - sum_m A(m, r2)) with A = C - U summed
        over machines (fixed by the instance). O(P R + M R)."""
        free = self.capacity.sum(axis=0) - self.requirement.sum(axis=0)
        r1, r2 = self.balance_resources[:, 0], self.balance_resources[:, 1]
        excess = self.balance_target * free[r1] - free[r2]
        return int(np.maximum(excess, 0) @ self.balance_weight)
