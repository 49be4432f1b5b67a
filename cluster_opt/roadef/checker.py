"""The exact ROADEF/EURO 2012 solution checker (FORMAT.md sections 4-6), in int64 numpy.

Independent of the evaluator terms (it shares no code with :mod:`cluster_opt.roadef.terms`)
so the two can keep each other honest. It reproduces the official checker: the same
verdict, the first violated rule in the same order (capacity with the transient rule,
conflict, spread, dependency), and the same five weighted cost components to the unit.
Unlike the official checker it also counts every violation and reports the costs of an
invalid solution (the verdict still says it is invalid).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cluster_opt.roadef.instance import Instance

#: Cost components in the official checker's order; each is already multiplied by its weight.
COMPONENTS = ("load", "balance", "process_move", "service_move", "machine_move")
#: Hard constraints in the order the official checker tests them.
CONSTRAINTS = ("capacity", "conflict", "spread", "dependency")


@dataclass(frozen=True)
class CheckResult:
    """Verdict and costs of one solution.

    ``violations`` counts, per constraint: machines over capacity (transient rule
    included), services with two processes on one machine, services below their spread
    minimum, and (service, dependency) pairs with a process lacking the dependency in its
    neighborhood. ``reason`` describes the first violation the official checker reports.
    """

    valid: bool
    reason: str | None
    violations: dict[str, int]
    costs: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.costs.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "reason": self.reason,
            "violations": self.violations,
            "costs": self.costs,
            "total": self.total,
        }


def _distinct(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an int64 array (sort-based; faster here than np.unique's
    hash path). O(n log n)."""
    keys = np.sort(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if keys.size else keys


def _per_machine(machine: np.ndarray, values: np.ndarray, n_machines: int) -> np.ndarray:
    """int64[M, R]: ``values`` rows summed by machine, exactly. O(P R)."""
    out = np.zeros((n_machines, values.shape[1]), dtype=np.int64)
    np.add.at(out, machine, values)
    return out


def _capacity(inst: Instance, x0: np.ndarray, x: np.ndarray, usage: np.ndarray) -> tuple[int, str | None]:
    moved = x != x0
    reserved = _per_machine(x0[moved], inst.requirement[moved], inst.n_machines) * inst.transient
    remaining = inst.capacity - usage - reserved
    bad = remaining < 0
    machines = np.flatnonzero(bad.any(axis=1))
    if not machines.size:
        return 0, None
    m = int(machines[0])
    r = int(np.flatnonzero(bad[m])[0])
    extra = f" + {reserved[m, r]} kept by transient processes moved away" if reserved[m, r] else ""
    reason = (
        f"capacity: machine {m} resource {r}: usage {usage[m, r]}{extra} > capacity {inst.capacity[m, r]}"
    )
    return len(machines), reason


def _conflict(inst: Instance, x: np.ndarray) -> tuple[int, str | None]:
    key = inst.service.astype(np.int64) * inst.n_machines + x
    order = np.argsort(key, kind="stable")
    same = np.flatnonzero(key[order][1:] == key[order][:-1])
    if not same.size:
        return 0, None
    services = _distinct(inst.service[order[same]].astype(np.int64))
    p, q = int(order[same[0]]), int(order[same[0] + 1])
    reason = f"conflict: processes {p} and {q} of service {inst.service[p]} both on machine {x[p]}"
    return len(services), reason


def _spread(inst: Instance, x: np.ndarray) -> tuple[int, str | None]:
    n_loc = int(inst.location.max()) + 1 if inst.n_machines else 1
    pairs = _distinct(inst.service.astype(np.int64) * n_loc + inst.location[x])
    used = np.bincount(pairs // n_loc, minlength=inst.n_services)
    short = np.flatnonzero(used < inst.spread_min)
    if not short.size:
        return 0, None
    s = int(short[0])
    return len(short), f"spread: service {s} runs in {used[s]} location(s), needs {inst.spread_min[s]}"


def _dependency(inst: Instance, x: np.ndarray) -> tuple[int, str | None]:
    n_nbh = int(inst.neighborhood.max()) + 1 if inst.n_machines else 1
    nbh = inst.neighborhood[x].astype(np.int64)
    present = _distinct(inst.service.astype(np.int64) * n_nbh + nbh)  # (service, nbh) with a process
    s, n = present // n_nbh, present % n_nbh
    ptr = inst.dependency_ptr
    deg = ptr[s + 1] - ptr[s]
    first = np.cumsum(deg) - deg
    d = inst.dependency[np.repeat(ptr[s] - first, deg) + np.arange(deg.sum())].astype(np.int64)
    s, n = np.repeat(s, deg), np.repeat(n, deg)
    want = d * n_nbh + n
    at = np.minimum(np.searchsorted(present, want), max(len(present) - 1, 0))
    missing = np.flatnonzero(present[at] != want)
    if not missing.size:
        return 0, None
    pairs = _distinct(s[missing] * max(inst.n_services, 1) + d[missing])
    i = missing[0]
    p = int(np.flatnonzero((inst.service == s[i]) & (nbh == n[i]))[0])
    reason = (
        f"dependency: process {p} of service {s[i]} on machine {x[p]} (neighborhood {n[i]}) "
        f"has no process of service {d[i]} in its neighborhood"
    )
    return len(pairs), reason


def _costs(inst: Instance, x0: np.ndarray, x: np.ndarray, usage: np.ndarray) -> dict[str, int]:
    moved = x != x0
    load = np.maximum(usage - inst.safety_capacity, 0).sum(axis=0) @ inst.load_weight
    free = inst.capacity - usage
    r1, r2 = inst.balance_resources[:, 0], inst.balance_resources[:, 1]
    balance = np.maximum(inst.balance_target * free[:, r1] - free[:, r2], 0).sum(axis=0) @ inst.balance_weight
    per_service = np.bincount(inst.service[moved], minlength=inst.n_services)
    return {
        "load": int(load),
        "balance": int(balance),
        "process_move": inst.process_move_weight * int(inst.process_move_cost[moved].sum()),
        "service_move": inst.service_move_weight * int(per_service.max(initial=0)),
        "machine_move": inst.machine_move_weight * int(inst.machine_move_cost[x0, x].astype(np.int64).sum()),
    }


def check(instance: Instance, initial: np.ndarray, solution: np.ndarray | None = None) -> CheckResult:
    """Verdict and weighted costs of ``solution`` (default: ``initial`` itself, giving the
    initial cost) against the original assignment ``initial``; both int[P] machine indices.

    Raises ValueError for arrays of the wrong shape or machine indices out of range (the
    official checker aborts on those). O(P R + M R + P log P + D') where D' is the number of
    (service, neighborhood, dependency) triples present.
    """
    x0 = instance.validate_assignment(initial, "initial assignment")
    x = x0 if solution is None else instance.validate_assignment(solution, "solution")
    usage = _per_machine(x, instance.requirement, instance.n_machines)
    found = {
        "capacity": _capacity(instance, x0, x, usage),
        "conflict": _conflict(instance, x),
        "spread": _spread(instance, x),
        "dependency": _dependency(instance, x),
    }
    reasons = [why for _, why in found.values() if why is not None]
    return CheckResult(
        valid=not reasons,
        reason=reasons[0] if reasons else None,
        violations={name: count for name, (count, _) in found.items()},
        costs=_costs(instance, x0, x, usage),
    )
