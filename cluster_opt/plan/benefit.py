"""What each move is worth: per-move change of every objective term, and forced moves.

The evaluator scores whole assignments; a plan needs the share of each move. Terms that
are sums over VMs split exactly: ``latency_ms``, the VM part of ``hourly_cost``,
``migrations``, ``migration_gb`` and ``unplaced`` change by the moved VM's own before/after
values. Host terms (``energy_watts``, ``active_hosts`` and the powered-host part of
``hourly_cost``) change only on hosts that moves touch; each such host's change between
the start and the target is shared among the moves into and out of it in proportion to
their CPU demand (equally when none has CPU). The shares of all moves of a target then add
up to the evaluator's change of those terms. ``imbalance`` is a mean over powered hosts that
does not split; it appears only in the plan's before/after totals.

``benefit`` is minus the weighted change (score units, $/h with the default weights), so
the migration cost is already subtracted: a move pays for itself when its benefit is > 0.

A move is *forced* when its VM breaks a hard rule where it is: its host is not active or
is being drained, lacks the VM's GPU model or is over capacity, or its replica group is over
its limit there. Forced moves go first and are never dropped by the budgets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cluster_opt.evaluate import Problem
from cluster_opt.evaluate.kernels import loads_and_counts
from cluster_opt.evaluate.terms.power import host_watts
from cluster_opt.model import HostState, SpreadLevel

#: Terms that split over moves, in report order.
VM_TERMS = ("latency_ms", "hourly_cost", "migrations", "migration_gb", "unplaced")
HOST_TERMS = ("energy_watts", "active_hosts")


@dataclass
class MoveValues:
    """Per-move values for the moves of a target (``vm``, ``src``, ``dst`` given)."""

    terms: tuple[str, ...]
    units: tuple[str, ...]
    delta: np.ndarray  # float64[M, T] change of each term (after - before), raw units
    weights: np.ndarray  # float64[T]
    benefit: np.ndarray  # float64[M] = -(delta @ weights)
    forced: np.ndarray  # bool[M]
    forced_reason: list[str | None]

    def reasons(self, idx: np.ndarray) -> list[str]:
        """Why moves ``idx`` are in the plan: the hard rule that forces them, else the
        objective terms they improve, largest weighted gain first (the amounts are in
        ``delta``). Built once per distinct answer. O(n T log T)."""
        idx = np.asarray(idx, dtype=np.int64)
        gains = self.delta[idx] * self.weights
        cost_terms = np.isin(self.terms, ("migrations", "migration_gb"))
        improves = (gains < -1e-12) & ~cost_terms
        order = np.argsort(np.where(improves, gains, np.inf), axis=1, kind="stable")[:, :3]
        top = np.where(np.take_along_axis(improves, order, axis=1), order, -1)
        keys, inverse = np.unique(top, axis=0, return_inverse=True)
        texts = []
        for key in keys:
            names = [self.terms[k] for k in key if k >= 0]
            texts.append(
                "improves " + ", ".join(names) if names else "required by the target (no objective gain)"
            )
        out = [texts[k] for k in inverse.reshape(-1)]
        for j in np.flatnonzero(self.forced[idx]).tolist():
            out[j] = f"forced: {self.forced_reason[idx[j]]}"
        return out


def _weights(problem: Problem) -> dict[str, float]:
    return {t.name: float(w) for t, w in zip(problem.terms, problem.weights, strict=True)}


def move_values(
    problem: Problem,
    x0: np.ndarray,
    target: np.ndarray,
    vm: np.ndarray,
    forbidden: np.ndarray | None = None,
) -> MoveValues:
    """Values of the moves ``vm`` (VMs whose host differs between ``x0`` and ``target``).

    O(V R + M) for V VMs and M moves.
    """
    c = problem.cluster
    names = set(problem.term_names)
    weights = _weights(problem)
    src = x0[vm].astype(np.int64)
    dst = target[vm].astype(np.int64)
    terms = [t for t in (*VM_TERMS, *HOST_TERMS) if t in names]
    delta = np.zeros((len(vm), len(terms)))
    col = {t: k for k, t in enumerate(terms)}
    moved = src >= 0
    if "latency_ms" in col:
        lat = problem.term("latency_ms")
        before = np.where(moved, lat.table[lat.user[vm], lat.region[np.maximum(src, 0)]], 0.0)
        after = np.where(dst >= 0, lat.table[lat.user[vm], lat.region[np.maximum(dst, 0)]], 0.0)
        delta[:, col["latency_ms"]] = (after - before) / lat.n
    if "hourly_cost" in col:
        cost = problem.term("hourly_cost").cost
        zone = c.hosts.zone
        before = np.where(moved, cost[vm, zone[np.maximum(src, 0)]], 0.0)
        after = np.where(dst >= 0, cost[vm, zone[np.maximum(dst, 0)]], 0.0)
        delta[:, col["hourly_cost"]] = after - before
    if "migrations" in col:
        delta[:, col["migrations"]] = moved
    if "migration_gb" in col:
        delta[:, col["migration_gb"]] = np.where(moved, c.vms.demand[vm, c.resource_index("mem_gb")], 0.0)
    if "unplaced" in col:
        delta[:, col["unplaced"]] = (dst < 0).astype(float) - (src < 0)
    host = _host_changes(problem, x0, target)
    share = _host_shares(
        c.vms.demand[vm, c.resource_index(problem.config.power_resource)], src, dst, c.n_hosts
    )
    for name, per_host in host.items():
        if name in col:
            delta[:, col[name]] += share(per_host)
    w = np.array([weights[t] for t in terms])
    forced, why = forced_moves(problem, x0, vm, src, forbidden)
    units = tuple(problem.term(t).unit for t in terms)
    return MoveValues(tuple(terms), units, delta, w, -(delta @ w), forced, why)


def _host_changes(problem: Problem, x0: np.ndarray, target: np.ndarray) -> dict[str, np.ndarray]:
    """Per-host change (target - start) of the host terms, and of the powered-host price
    (added to ``hourly_cost``). O(V R + H)."""
    c = problem.cluster
    pop = np.stack([x0, target]).astype(np.int32)
    load, count = loads_and_counts(pop, c.vms.demand, c.n_hosts)
    active = count > 0
    out = {
        "active_hosts": (active[1].astype(float) - active[0]),
        "hourly_cost": c.prices.host_hourly * (active[1].astype(float) - active[0]),
    }
    if "energy_watts" in problem.term_names:
        term = problem.term("energy_watts")
        cap = c.hosts.capacity[:, term.resource]
        util = np.where(cap > 0, load[:, :, term.resource] / np.where(cap > 0, cap, 1.0), 0.0)
        watts = np.where(active, host_watts(term.curves, util), 0.0)
        out["energy_watts"] = watts[1] - watts[0]
    return out


def _host_shares(cpu: np.ndarray, src: np.ndarray, dst: np.ndarray, n_hosts: int):
    """A function mapping a per-host change to per-move shares (by CPU of the moves
    touching each host). O(M + H)."""
    ends = np.concatenate([src, dst])
    move = np.concatenate([np.arange(len(src)), np.arange(len(dst))])
    keep = ends >= 0
    ends, move = ends[keep], move[keep]
    w = cpu[move]
    total = np.bincount(ends, weights=w, minlength=n_hosts)
    count = np.bincount(ends, minlength=n_hosts)
    frac = np.where(total[ends] > 0, w / np.where(total[ends] > 0, total[ends], 1.0), 1.0 / count[ends])

    def share(per_host: np.ndarray) -> np.ndarray:
        return np.bincount(move, weights=frac * per_host[ends], minlength=len(src))

    return share


def forced_moves(
    problem: Problem, x0: np.ndarray, vm: np.ndarray, src: np.ndarray, forbidden: np.ndarray | None
) -> tuple[np.ndarray, list[str | None]]:
    """Which moves take a VM away from a hard-rule violation, and which rule. O(V R + M g)."""
    c = problem.cluster
    h = c.hosts
    s = np.maximum(src, 0)
    moved = src >= 0
    state = np.where(moved, h.state[s], HostState.ACTIVE)
    drained = moved & (forbidden[s] if forbidden is not None else False)
    need = c.vms.gpu_model[vm]
    gpu = moved & (need >= 0) & (h.gpu_model[s] != need)
    load = loads_and_counts(x0[None, :].astype(np.int32), c.vms.demand, c.n_hosts)[0][0]
    cap = h.capacity
    over_host = (load > cap + 1e-9 * np.maximum(cap, 1.0)).any(axis=1)
    over = moved & over_host[s]
    spread = moved & _over_spread(problem, x0)[vm]
    why: list[str | None] = [None] * len(vm)
    for i in np.flatnonzero((state != HostState.ACTIVE) | drained | gpu | over | spread):
        host = str(h.ids[s[i]])
        if drained[i]:
            why[i] = f"drain of {host}"
        elif state[i] != HostState.ACTIVE:
            why[i] = f"host_state: {host} is {HostState(int(state[i])).name.lower()}"
        elif gpu[i]:
            why[i] = f"gpu_model: {host} lacks GPU model {c.gpu_models[need[i]]}"
        elif over[i]:
            r = int(np.argmax((load[s[i]] - cap[s[i]]) / np.maximum(cap[s[i]], 1e-9)))
            why[i] = f"capacity: {host} is over its {c.resources[r]}"
        else:
            g = c.vms.anti_affinity[vm[i]]
            why[i] = f"anti_affinity: replica group {c.anti_affinity.names[g]} is over its limit there"
    return np.array([w is not None for w in why], dtype=bool), why


def _over_spread(problem: Problem, x0: np.ndarray) -> np.ndarray:
    """bool[V]: VMs whose replica group has more members than allowed in their domain."""
    c = problem.cluster
    out = np.zeros(c.n_vms, dtype=bool)
    groups = c.vms.anti_affinity
    placed = np.flatnonzero((groups >= 0) & (x0 >= 0))
    if not len(placed):
        return out
    g = groups[placed].astype(np.int64)
    level = c.anti_affinity.level[g].astype(np.int64)
    dom = problem.domains[level, x0[placed]]
    n_dom = max(c.n_domains(lv) for lv in SpreadLevel)
    key = g * n_dom + dom
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    out[placed] = counts[inverse] > c.anti_affinity.max_per_domain[g]
    return out
