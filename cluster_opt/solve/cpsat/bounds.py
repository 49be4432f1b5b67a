"""Proven lower bounds on powered hosts and energy from CP-SAT on relaxations.

The relaxation keeps what every feasible assignment that places all VMs must satisfy and
that does not depend on where a host is: capacity (integer sizes rounded the ``relax`` way,
:mod:`.scaling`), host state, GPU model and affinity (a group shares a host). It drops
pinning, anti-affinity and spread, whose rules name particular hosts, racks or zones; then
hosts with the same capacity and GPU model (and power curve, for energy) are
interchangeable, so each such type keeps only as many hosts as an optimal relaxed
solution can use (the hosts of a feasible first-fit-decreasing packing for ``active_hosts``,
one per VM for energy), with symmetry breaking (hosts of a type are switched on in order;
with a single type, the j-th largest VM may only use the first j + 1 hosts).

CP-SAT's proven objective bound on a relaxation is a valid bound for the problem. A subset
of the VMs needs no more hosts than all of them, so on large problems the bound is computed
on the ``max_items`` largest VMs overall and, separately, per GPU model (those VMs can only
use that model's hosts, so the pool bounds add up). The result is never below the
evaluator's closed-form bound (:mod:`cluster_opt.evaluate.bounds`). For pure vector bin
packing with up to ~120 items the relaxation is the problem itself and is usually solved
to optimality within seconds.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np

from cluster_opt.evaluate import Problem
from cluster_opt.evaluate.bounds import active_hosts_bound
from cluster_opt.solve.base import Deadline
from cluster_opt.solve.construct import place
from cluster_opt.solve.cpsat.model import PlacementModel, build_model
from cluster_opt.solve.cpsat.objective import LinearObjective
from cluster_opt.solve.cpsat.scaling import integer_sizes
from cluster_opt.solve.cpsat.search import run_cpsat

#: CP-SAT parameters for proving bounds: LP with cuts at every node (linearization level 2)
#: proved 4 more of 16 sampled vector packing instances (n <= 120, 5 s each) than the
#: default, and one worker running it beat two workers sharing the machine's two cores.
PROOF = {"linearization_level": 2}


@dataclass(frozen=True)
class ProvenBound:
    """A lower bound with how it was obtained. ``closed_form`` is the evaluator's bound;
    ``solved`` means every relaxation was solved to optimality (with all VMs in it and a
    problem without pinned VMs or anti-affinity, ``value`` is then the optimum)."""

    value: float
    closed_form: float
    solved: bool
    items: int  # VMs in the relaxations solved (0: none was)


def relaxed_problem(problem: Problem) -> Problem:
    """``problem`` without pinned VMs, current placement and anti-affinity (same config)."""
    c = problem.cluster
    n = c.n_vms
    vms = replace(
        c.vms,
        current=np.full(n, -1, dtype=np.int32),
        migratable=np.ones(n, dtype=bool),
        anti_affinity=np.full(n, -1, dtype=np.int32),
    )
    return Problem(replace(c, vms=vms), problem.config)


def l2_bound(sizes: np.ndarray, capacity: int) -> int:
    """Martello and Toth's L2 bound for 1-D bin packing of integer ``sizes`` into bins of
    ``capacity``: for each threshold k <= C/2, items above C - k each need a bin, items in
    (C/2, C - k] too, and items in [k, C/2] need the volume the latter leave. Valid per
    resource for identical hosts (a vector packing projects onto each resource).
    O(n log n)."""
    s = np.sort(np.asarray(sizes, dtype=np.int64))
    s = s[s > 0]
    if not len(s) or capacity <= 0:
        return 0
    cum = np.concatenate([[0], np.cumsum(s)])
    half = int(np.searchsorted(s, capacity // 2, side="right"))  # s[:half] <= C/2
    k = np.unique(np.concatenate([[0], s[:half]]))
    j3 = np.searchsorted(s, k, side="left")
    j2 = np.searchsorted(s, capacity - k, side="right")
    room = (j2 - half) * capacity - (cum[j2] - cum[half])
    extra = (cum[half] - cum[j3]) - room
    return int((len(s) - half + np.maximum(0, -(-extra // capacity))).max())


def _l2_identical(problem: Problem, vms: np.ndarray, hosts: np.ndarray) -> int:
    """max over resources of :func:`l2_bound` when ``hosts`` are identical, else 0."""
    cap = problem.cluster.hosts.capacity[hosts]
    if not len(hosts) or not (cap == cap[0]).all():
        return 0
    sizes = integer_sizes(problem, "relax")
    c_int = sizes.capacity[hosts[0]]
    return max((l2_bound(sizes.demand[vms, r], int(c_int[r])) for r in range(len(c_int))), default=0)


def _largest(problem: Problem, vms: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` VMs of ``vms`` with the largest normalised size (max over resources)."""
    size = (problem.cluster.vms.demand[vms] / problem.resource_scale).max(axis=1, initial=0.0)
    return np.sort(vms[np.argsort(-size, kind="stable")[:n]])


def _host_types(problem: Problem, hosts: np.ndarray, with_curve: bool) -> np.ndarray:
    """int64[len(hosts)]: type id of each host (same capacity, GPU model[, power curve])."""
    c = problem.cluster
    cols = [c.hosts.capacity[hosts], c.hosts.gpu_model[hosts, None].astype(np.float64)]
    if with_curve:
        cols.append(c.power.watts[c.hosts.power_curve[hosts]])
    return np.unique(np.hstack(cols), axis=0, return_inverse=True)[1].ravel()


def _first_per_type(types: np.ndarray, limit: int) -> np.ndarray:
    """Positions of the first ``limit`` entries of each type, in their order."""
    order = np.argsort(types, kind="stable")
    sorted_types = types[order]
    rank = np.arange(len(order)) - np.searchsorted(sorted_types, sorted_types)
    return np.sort(order[rank < limit])


def _symmetry(model: PlacementModel, types: np.ndarray, single: bool) -> None:
    """Hosts of a type on in order; with one type, VM unit j (by decreasing size) only on the
    first j + 1 hosts."""
    w, y = model.writer, model.y
    for t in np.unique(types):
        ys = y[types == t]
        ys = ys[ys >= 0]
        for a, b in itertools.pairwise(ys):
            w.linear([a, b], [1, -1], lo=0)
    if not single:
        return
    units = model.pairs.units
    size = (units.demand / model.problem.resource_scale).max(axis=1, initial=0.0)
    rank = np.empty(len(units), dtype=np.int64)
    rank[np.argsort(-size, kind="stable")] = np.arange(len(units))
    for p in np.flatnonzero(model.pairs.host > rank[model.pairs.unit]):
        w.linear([model.x[p]], [1], 0, 0)


def _relaxation(
    problem: Problem,
    vms: np.ndarray,
    hosts: np.ndarray,
    name: str,
    deadline: Deadline,
    workers: int,
    seed: int,
    floor: int = 0,
) -> tuple[float, bool]:
    """(proven bound, solved) of term ``name`` for placing ``vms`` on ``hosts`` of the
    relaxed ``problem``; (0, False) when nothing is proven. ``floor`` is a known lower bound
    on the hosts needed (given to CP-SAT as a constraint)."""
    c = problem.cluster
    energy = name == "energy_watts"
    hint = np.full(c.n_vms, -1, dtype=np.int32)
    forbidden = np.ones(c.n_hosts, dtype=bool)
    forbidden[hosts] = False
    failed = place(problem, hint, vms, "ffd", forbidden)
    types = _host_types(problem, hosts, energy)
    limit = len(vms) if energy or failed else int((np.bincount(hint[vms]) > 0).sum())
    keep = _first_per_type(types, max(limit, 1))
    if not failed:  # move the FFD packing onto the kept hosts of each type
        pos_of = {h: i for i, h in enumerate(hosts.tolist())}
        free = {t: list(hosts[keep][types[keep] == t]) for t in np.unique(types[keep]).tolist()}
        target = np.zeros(c.n_hosts, dtype=np.int32)
        for h in np.unique(hint[vms]).tolist():
            target[h] = free[int(types[pos_of[h]])].pop(0)
        hint[vms] = target[hint[vms]]
    model = build_model(
        problem,
        vms,
        hosts[keep],
        np.full(c.n_vms, -1, dtype=np.int32),
        objective=LinearObjective.only(problem, name),
        energy="envelope",
        rounding="relax",
        groups=False,
        hint=None if failed else hint,
    )
    _symmetry(model, types[keep], single=len(np.unique(types)) == 1 and not energy)
    if floor > 0 and not energy:
        on = model.y[model.y >= 0]
        model.writer.linear(on, np.ones(len(on), dtype=np.int64), lo=floor)
    res = run_cpsat(model.writer.model, deadline, workers=workers, seed=seed, parameters=PROOF)
    if res.status == "INFEASIBLE" or not math.isfinite(res.bound):
        return 0.0, False
    return res.bound - model.watts_rounding, res.optimal


def _bound(
    problem: Problem, name: str, closed_form: float, seconds: float, workers: int, seed: int, max_items: int
) -> ProvenBound:
    relaxed = relaxed_problem(problem)
    c = relaxed.cluster
    usable = np.flatnonzero(c.usable)
    jobs = [(np.arange(c.n_vms), usable)]
    if name == "active_hosts":  # one relaxation per GPU model: their bounds add up
        for m in np.unique(c.vms.gpu_model[c.vms.gpu_model >= 0]):
            jobs.append((np.flatnonzero(c.vms.gpu_model == m), usable[c.hosts.gpu_model[usable] == m]))
    elif c.n_vms > max_items:  # energy: only on the whole problem
        return ProvenBound(closed_form, closed_form, False, 0)
    deadline = Deadline(seconds)
    bounds, solved, items = [], True, 0
    for i, (vms, hosts) in enumerate(jobs):
        subset = _largest(relaxed, vms, max_items)
        share = deadline.within(deadline.remaining() / (len(jobs) - i))
        if name == "active_hosts":
            floor = _l2_identical(relaxed, subset, hosts)
            value, ok = _relaxation(relaxed, subset, hosts, name, share, workers, seed, floor)
            bounds.append(max(math.ceil(value - 1e-6), floor, _l2_identical(relaxed, vms, hosts)))
        else:
            value, ok = _relaxation(relaxed, subset, hosts, name, share, workers, seed)
            bounds.append(value)
        solved &= ok and len(subset) == len(vms)
        items = max(items, len(subset))
    value = max(closed_form, bounds[0], sum(bounds[1:]))
    return ProvenBound(float(value), float(closed_form), bool(solved), items)


def lower_bound_active_hosts(
    problem: Problem, seconds: float = 10.0, *, workers: int = 1, seed: int = 0, max_items: int = 300
) -> ProvenBound:
    """A proven lower bound on powered hosts, at least the volume bound
    (:func:`~cluster_opt.evaluate.bounds.active_hosts_bound`), within about ``seconds``.
    O(CP-SAT on at most ``max_items`` VMs per relaxation)."""
    closed = float(active_hosts_bound(problem.cluster))
    return _bound(problem, "active_hosts", closed, seconds, workers, seed, max_items)


def lower_bound_energy(
    problem: Problem, seconds: float = 10.0, *, workers: int = 1, seed: int = 0, max_items: int = 300
) -> ProvenBound:
    """A proven lower bound on watts: CP-SAT on the relaxation with the curves' convex
    envelope (below the curve) when the problem has at most ``max_items`` VMs, never below
    the evaluator's closed-form energy bound."""
    closed = float(problem.lower_bounds.get("energy_watts", 0.0))
    return _bound(problem, "energy_watts", closed, seconds, workers, seed, max_items)
