"""The CP-SAT model of placing some VMs on some hosts while every other VM stays put.

A model covers a *neighbourhood*: the free VMs (placed by the model) and the hosts they may
use. VMs outside it keep their host in the base assignment; those on the model's hosts count
as constant load, constant anti-affinity members and constant costs. With every movable VM
free and every host in it, the model is the whole problem.

Variables and constraints (U units = VMs or affinity groups, P candidate pairs, m hosts):

* ``x[p]`` boolean per candidate (unit, host) pair (see :mod:`.candidates`); ``u[k]``
  "unit k unplaced" unless every VM must be placed; exactly one of them per unit.
* ``y[h]`` "host on" for hosts with candidates and no fixed VM (those are on anyway);
  capacity per resource ``sum demand x <= room y`` in integer units (:mod:`.scaling`), and
  ``sum x <= P_h y``.
* anti-affinity: per group and domain (host, rack or zone) at most ``max_per_domain``
  members, counting the fixed ones; affinity is exact by construction (one boolean per
  group and host); pinned VMs are never free.
* energy of a host with candidates, ``w[h]`` in milliwatts, from the load ``l`` of the
  power resource: ``envelope`` adds ``w >= line`` for every edge of the lower convex hull of
  the curve's 11 points, exact for convex curves and below the curve otherwise (so the
  model's bound stays valid); ``piecewise`` picks one of the 10 segments with booleans
  ``b[h, k]`` (``sum_k b = y``) and is exact for any curve.

Objective: pair costs (price, latency, migration), unplaced costs, host price and
``active_hosts`` weight per ``y``, energy weight per watt, plus the constant part of the
fixed VMs and hosts of the neighbourhood, so that with the whole problem in the model the
objective is the evaluator's score without the terms listed in
:attr:`LinearObjective.ignored` (imbalance).

Building is O(P R + G log G) for G group-member pairs; the model holds P + U + m (+ 11 m
for piecewise energy) variables.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from cluster_opt.evaluate import Problem
from cluster_opt.model.codes import POWER_POINTS
from cluster_opt.solve.cpsat.candidates import Pairs, candidate_pairs, unit_members
from cluster_opt.solve.cpsat.objective import LinearObjective
from cluster_opt.solve.cpsat.proto import ModelWriter
from cluster_opt.solve.cpsat.scaling import IntegerSizes, Rounding, integer_sizes
from cluster_opt.solve.rules import PlacementRules

Energy = Literal["envelope", "piecewise"]
SEGMENTS = POWER_POINTS - 1
#: Energy variables are in milliwatts.
MILLI = 1000.0


def lower_hull(watts: np.ndarray) -> list[tuple[int, int]]:
    """Edges (i, j) of the lower convex hull of the points (k, watts[k]), k = 0..10 (the
    convex envelope of the curve). O(points)."""
    hull: list[int] = []
    for k in range(len(watts)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            # drop b when it lies on or above the segment a -> k
            if (watts[b] - watts[a]) * (k - a) >= (watts[k] - watts[a]) * (b - a):
                hull.pop()
            else:
                break
        hull.append(k)
    return list(itertools.pairwise(hull))


@dataclass
class PlacementModel:
    """A built model with the index arrays that map it back to an assignment."""

    problem: Problem
    objective: LinearObjective
    writer: ModelWriter
    vms: np.ndarray  # int64[n] free VMs
    hosts: np.ndarray  # int64[m] hosts of the model
    x_fixed: np.ndarray  # int32[V] the base assignment with the free VMs unplaced
    pairs: Pairs
    x: np.ndarray  # int64[P] variable of each pair
    u: np.ndarray  # int64[U] "unplaced" variable of each unit, -1 when it must be placed
    y: np.ndarray  # int64[m] "on" variable, -1 when the host is on anyway or unused
    energy: Energy
    offset: float
    sizes: IntegerSizes
    rounding: Rounding
    fixed_load: np.ndarray  # int64[m, R]
    w: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # int64[m] watts or -1
    load: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # int64[m] load or -1
    segments: np.ndarray = field(default_factory=lambda: np.zeros((0, SEGMENTS), dtype=np.int64))

    @property
    def n_variables(self) -> int:
        return self.writer.n_vars

    @property
    def watts_rounding(self) -> float:
        """Most the integer milliwatt variables can add to the objective (each rounds its
        host's power up by less than a milliwatt): subtract it from a bound."""
        return self.objective.weights["energy_watts"] * int((self.w >= 0).sum()) / MILLI

    def decode(self, values: np.ndarray) -> np.ndarray:
        """int32[V]: the base assignment with the free VMs where ``values`` (one int per model
        variable, e.g. a CP-SAT response's solution) puts them. O(V + P)."""
        out = self.x_fixed.copy()
        chosen = np.flatnonzero(np.asarray(values)[self.x] > 0)
        rows, members = unit_members(self.pairs.units, self.pairs.unit[chosen])
        out[members] = self.hosts[self.pairs.host[chosen]][rows]
        return out

    def set_hint(self, x: np.ndarray) -> None:
        """Hint the assignment ``x`` int[V] (its free VMs' hosts): every variable gets a
        value; units whose hinted host is not a candidate are hinted unplaced. O(P log P)."""
        p, m = self.pairs, len(self.hosts)
        pos = np.full(self.problem.cluster.n_hosts, -1, dtype=np.int64)
        pos[self.hosts] = np.arange(m)
        first = p.units.members[p.units.ptr[:-1]]
        want = np.asarray(x)[first]
        want_pos = np.where(want >= 0, pos[np.maximum(want, 0)], -1)
        key = p.unit * m + p.host
        target = np.arange(len(first)) * m + want_pos
        at = np.minimum(np.searchsorted(key, target), max(len(key) - 1, 0))
        hit = (want_pos >= 0) & (len(key) > 0) & (key[at] == target if len(key) else False)
        xv = np.zeros(len(p), dtype=np.int64)
        xv[at[hit]] = 1
        variables, values = [self.x], [xv]
        if (self.u >= 0).any():
            has = self.u >= 0
            variables.append(self.u[has])
            values.append((~hit[has]).astype(np.int64))
        load = self.fixed_load + _host_load(p, xv, m)
        on_var = self.y >= 0
        on = np.bincount(p.host, weights=xv, minlength=m) > 0
        variables.append(self.y[on_var])
        values.append(on[on_var].astype(np.int64))
        if len(self.w):
            has_w = self.w >= 0
            watts, seg = _hint_energy(self, load, on | ~on_var)
            variables += [self.w[has_w], self.load[has_w]]
            values += [watts[has_w], load[has_w, self.objective.power_resource]]
            if self.energy == "piecewise":
                picked = (np.arange(SEGMENTS)[None, :] == seg[:, None]) & (on | ~on_var)[:, None]
                variables.append(self.segments[has_w].ravel())
                values.append(picked[has_w].astype(np.int64).ravel())
        self.writer.hint(np.concatenate(variables), np.concatenate(values))


def _host_load(p: Pairs, xv: np.ndarray, m: int) -> np.ndarray:
    """int64[m, R]: scaled load the chosen pairs put on each model host."""
    chosen = xv > 0
    out = np.zeros((m, p.demand.shape[1]), dtype=np.int64)
    np.add.at(out, p.host[chosen], p.demand[p.unit[chosen]])
    return out


def _hint_energy(model: PlacementModel, load: np.ndarray, on: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(milliwatts int64[m], segment int64[m]) that satisfy the energy constraints for the
    given scaled loads of the powered hosts."""
    r = model.objective.power_resource
    cap = model.sizes.capacity[model.hosts, r]
    pts = (np.floor if model.rounding == "relax" else np.rint)(model.objective.curves[model.hosts] * MILLI)
    pts = pts.astype(np.int64)
    seg = np.where(cap > 0, np.minimum(SEGMENTS * load[:, r] // np.maximum(cap, 1), SEGMENTS - 1), 0)
    watts = np.zeros(len(cap), dtype=np.int64)
    for i in np.flatnonzero(on & (model.w >= 0)):
        edges = lower_hull(pts[i]) if model.energy == "envelope" else [(seg[i], seg[i] + 1)]
        need = 0
        for a, b in edges:
            num = cap[i] * ((b - a) * pts[i, a] - a * (pts[i, b] - pts[i, a])) + SEGMENTS * (
                pts[i, b] - pts[i, a]
            ) * int(load[i, r])
            need = max(need, -((-num) // (cap[i] * (b - a))))
        watts[i] = need
    return watts, seg


def build_model(
    problem: Problem,
    vms: np.ndarray,
    hosts: np.ndarray,
    base: np.ndarray,
    *,
    objective: LinearObjective | None = None,
    limit: int | None = None,
    energy: Energy = "envelope",
    rounding: Rounding = "safe",
    groups: bool = True,
    hint: np.ndarray | None = None,
) -> PlacementModel:
    """Build the model placing ``vms`` on ``hosts`` around ``base`` (int[V]): VMs not in
    ``vms`` keep their host in ``base``, except that pinned VMs are always on their current
    host.

    ``objective`` defaults to the problem's; ``limit`` caps candidate hosts per unit (the
    hinted and current hosts are always kept); ``groups=False`` drops anti-affinity (a
    relaxation, for bounds); ``hint`` (int[V]) is set as the solution hint.
    """
    obj = objective or LinearObjective.of(problem)
    c = problem.cluster
    sizes = integer_sizes(problem, rounding)
    vms = np.unique(np.asarray(vms, dtype=np.int64))
    hosts = np.unique(np.asarray(hosts, dtype=np.int64))
    m = len(hosts)
    x_fixed = np.array(base, dtype=np.int32, copy=True)
    rules = PlacementRules.of(problem)
    x_fixed[rules.pinned] = rules.current[rules.pinned]
    x_fixed[vms] = -1
    pos = np.full(c.n_hosts, -1, dtype=np.int64)
    pos[hosts] = np.arange(m)
    fixed_vms = np.flatnonzero((x_fixed >= 0) & (pos[np.maximum(x_fixed, 0)] >= 0))
    fixed_at = pos[x_fixed[fixed_vms]]
    fixed_load = np.zeros((m, c.n_resources), dtype=np.int64)
    np.add.at(fixed_load, fixed_at, sizes.demand[fixed_vms])
    forced_on = np.bincount(fixed_at, minlength=m) > 0
    room = np.maximum(sizes.capacity[hosts] - fixed_load, 0)
    keep = (c.vms.current,) if hint is None else (np.asarray(hint), c.vms.current)
    pairs = candidate_pairs(problem, obj, vms, hosts, x_fixed, room, sizes.demand, limit, keep)

    w = ModelWriter()
    n_units = len(pairs.units)
    x = w.bools(len(pairs))
    per_unit = np.bincount(pairs.unit, minlength=n_units)
    needs_u = (per_unit == 0) | (not obj.place_all)
    u = np.full(n_units, -1, dtype=np.int64)
    u[needs_u] = w.bools(int(needs_u.sum()))
    used = np.bincount(pairs.host, minlength=m) > 0
    y = np.full(m, -1, dtype=np.int64)
    y_hosts = used & ~forced_on
    y[y_hosts] = w.bools(int(y_hosts.sum()))

    # one host (or unplaced) per unit; a unit without candidates can only stay unplaced
    ptr = np.concatenate([[0], np.cumsum(per_unit)])
    for k in range(n_units):
        if per_unit[k] == 0:
            w.linear([u[k]], [1], 1, 1)
            continue
        lits = x[ptr[k] : ptr[k + 1]].tolist()
        w.exactly_one([*lits, int(u[k])] if u[k] >= 0 else lits)

    by_host = np.argsort(pairs.host, kind="stable")
    h_ptr = np.searchsorted(pairs.host[by_host], np.arange(m + 1))
    for j in np.flatnonzero(used):
        idx = by_host[h_ptr[j] : h_ptr[j + 1]]
        dem = pairs.demand[pairs.unit[idx]]
        for r in np.flatnonzero(dem.sum(axis=0) > room[j]):
            if y[j] >= 0:
                w.linear(np.append(x[idx], y[j]), np.append(dem[:, r], -room[j, r]), hi=0)
            else:
                w.linear(x[idx], dem[:, r], hi=int(room[j, r]))
        if y[j] >= 0:
            w.linear(np.append(x[idx], y[j]), np.append(np.ones(len(idx), dtype=np.int64), -len(idx)), hi=0)
    if groups:
        _anti_affinity(problem, w, pairs, x, hosts, x_fixed)

    obj_vars = [x, u[u >= 0], y[y >= 0]]
    unit_unplaced = np.bincount(
        np.repeat(np.arange(n_units), np.diff(pairs.units.ptr)),
        weights=obj.unplaced_cost(pairs.units.members),
        minlength=n_units,
    )
    obj_coefs = [pairs.cost, unit_unplaced[u >= 0], obj.host_fixed[hosts][y >= 0]]
    offset = float(obj.host_fixed[hosts][forced_on].sum())
    offset += float(obj.pair_cost(fixed_vms, x_fixed[fixed_vms]).sum())

    model = PlacementModel(
        problem, obj, w, vms, hosts, x_fixed, pairs, x, u, y, energy, 0.0, sizes, rounding, fixed_load
    )
    if obj.weights["energy_watts"] > 0:
        e_vars, e_coefs, e_offset = _energy(model, used, forced_on, by_host, h_ptr, fixed_vms, fixed_at)
        obj_vars += e_vars
        obj_coefs += e_coefs
        offset += e_offset
    model.offset = offset
    w.minimize(np.concatenate(obj_vars), np.concatenate(obj_coefs), offset)
    if hint is not None:
        model.set_hint(hint)
    return model


def _anti_affinity(
    problem: Problem, w: ModelWriter, pairs: Pairs, x: np.ndarray, hosts: np.ndarray, x_fixed: np.ndarray
) -> None:
    """Per (group, domain) reachable by free members: free members there + fixed members
    there <= max_per_domain, written only where it could be exceeded. O(G log G)."""
    rules = PlacementRules.of(problem)
    rows, member = unit_members(pairs.units, pairs.unit)
    group = rules.vm_group[member]
    keep = group >= 0
    if not keep.any():
        return
    rows, group = rows[keep], group[keep]
    n_dom = int(rules.domains.max()) + 1
    dom = rules.domains[rules.g_level[group], hosts[pairs.host[rows]]]
    key = group * n_dom + dom
    # fixed members of the same groups, by (group, domain)
    gs = np.unique(group)
    starts, ends = rules.g_ptr[gs], rules.g_ptr[gs + 1]
    lens = ends - starts
    mem = rules.g_members[
        np.repeat(starts, lens) + np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
    ]
    mem_g = np.repeat(gs, lens)
    placed = x_fixed[mem] >= 0
    fixed_key = mem_g[placed] * n_dom + rules.domains[rules.g_level[mem_g[placed]], x_fixed[mem[placed]]]
    f_keys, f_counts = np.unique(fixed_key, return_counts=True)
    # (key, pair) with multiplicity: two members of one unit in one group count twice
    kp, mult = np.unique(np.stack([key, rows]), axis=1, return_counts=True)
    bounds = np.flatnonzero(np.diff(kp[0], prepend=-1, append=-1))
    for a, b in itertools.pairwise(bounds):
        k = kp[0, a]
        g = k // n_dom
        at = np.searchsorted(f_keys, k)
        fixed = int(f_counts[at]) if at < len(f_keys) and f_keys[at] == k else 0
        cap = int(rules.g_limit[g]) - fixed
        if mult[a:b].sum() > cap:
            w.linear(x[kp[1, a:b]], mult[a:b], hi=max(cap, 0))


def _energy(
    model: PlacementModel,
    used: np.ndarray,
    forced_on: np.ndarray,
    by_host: np.ndarray,
    h_ptr: np.ndarray,
    fixed_vms: np.ndarray,
    fixed_at: np.ndarray,
) -> tuple[list[np.ndarray], list[np.ndarray], float]:
    """Energy variables and constraints (per host with candidates: its scaled load of the
    power resource ``l``, its milliwatts ``w`` and, piecewise, its segment booleans); returns
    (objective vars, coefficients, constant)."""
    obj, w, p = model.objective, model.writer, model.pairs
    weight = obj.weights["energy_watts"]
    r = obj.power_resource
    hosts, m = model.hosts, len(model.hosts)
    cap = model.sizes.capacity[hosts, r]
    # milliwatts: rounded down for bounds (the curve stays below the evaluator's)
    pts = (np.floor if model.rounding == "relax" else np.rint)(obj.curves[hosts] * MILLI).astype(np.int64)
    # hosts with fixed VMs only: constant power at their (float) utilisation
    only_fixed = forced_on & ~used
    c = model.problem.cluster
    load = np.bincount(fixed_at, weights=c.vms.demand[fixed_vms, r], minlength=m)
    real_cap = c.hosts.capacity[hosts, r]
    util = np.where(real_cap > 0, load / np.where(real_cap > 0, real_cap, 1.0), 0.0)
    offset = weight * float(obj.watts(hosts[only_fixed], util[only_fixed]).sum())
    # hosts without the power resource draw idle power whenever on
    flat = used & (cap == 0)
    offset += weight * float(obj.curves[hosts[flat & forced_on], 0].sum())
    vars_, coefs = [model.y[flat & ~forced_on]], [weight * obj.curves[hosts[flat & ~forced_on], 0]]
    varying = used & (cap > 0)
    n_var = int(varying.sum())
    model.w = np.full(m, -1, dtype=np.int64)
    model.w[varying] = w.ints(np.zeros(n_var), pts[varying].max(axis=1))
    base = model.fixed_load[:, r]
    model.load = np.full(m, -1, dtype=np.int64)
    model.load[varying] = w.ints(base[varying], np.maximum(cap, base)[varying])
    if model.energy == "piecewise":
        model.segments = np.full((m, SEGMENTS), -1, dtype=np.int64)
    for j in np.flatnonzero(varying):
        idx = by_host[h_ptr[j] : h_ptr[j + 1]]
        load, watts, c_j = int(model.load[j]), int(model.w[j]), int(cap[j])
        w.linear(
            np.append(model.x[idx], load),
            np.append(p.demand[p.unit[idx], r], -1),
            -int(base[j]),
            -int(base[j]),
        )
        on = [int(model.y[j])] if model.y[j] >= 0 else []  # else the host is on anyway
        if model.energy == "envelope":
            for a, b in lower_hull(pts[j]):
                d = int(pts[j, b] - pts[j, a])
                intercept = c_j * ((b - a) * int(pts[j, a]) - a * d)
                w.linear(
                    [watts, load, *on],
                    [c_j * (b - a), -SEGMENTS * d, *[-intercept] * len(on)],
                    lo=0 if on else intercept,
                )
            continue
        seg = w.bools(SEGMENTS)
        model.segments[j] = seg
        w.linear([*seg, *on], [1] * SEGMENTS + [-1] * len(on), 1 - len(on), 1 - len(on))
        for k in range(SEGMENTS):
            d = int(pts[j, k + 1] - pts[j, k])
            enforce = [int(seg[k])]
            w.linear([load], [SEGMENTS], k * c_j, (k + 1) * c_j, enforce=enforce)
            w.linear([watts, load], [c_j, -SEGMENTS * d], lo=c_j * (int(pts[j, k]) - k * d), enforce=enforce)
    vars_.append(model.w[varying])
    coefs.append(np.full(int(varying.sum()), weight / MILLI))
    return vars_, coefs, offset
