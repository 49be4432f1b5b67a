"""Delta evaluation: the change of the evaluator's score when one VM moves, in O(R + m)
(R resources, m the size of the VM's anti-affinity and affinity groups), in numba.

The score of the batch evaluator splits into parts a single move touches locally:

* per-VM costs ``unary(v, h)``: zone price and user latency of ``v`` on ``h``'s zone,
  migration costs when ``h`` is not ``v``'s current host (migrations, migration_gb,
  unmigratable), GPU model and host state violations, and ``unplaced`` when ``h = -1``;
* per-host costs of its load: power-on price (active_hosts, the hourly host price), the
  power curve at the utilisation of the power resource (energy_watts), capacity
  overload, and whether it mixes spot with other VMs (spot_mixing, from a per-host count
  of spot VMs kept in the state);
* imbalance, a mean over active hosts, kept as a running sum and count;
* group rules, by scanning the members of the VM's groups: anti-affinity excess per
  domain, and affinity groups split over hosts.

:func:`apply_move` moves one VM, updates the state and returns the (soft, hard) change of
the score; compound moves are sequences of it and are undone by applying the reverse moves.
:class:`DeltaModel` builds the arrays from a :class:`~cluster_opt.evaluate.Problem` for the
built-in terms; a term with a non-zero weight that it does not know raises ValueError.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np
from numba import njit

from cluster_opt.evaluate import Problem
from cluster_opt.evaluate.context import CAPACITY_RTOL
from cluster_opt.evaluate.terms.cost import vm_zone_cost
from cluster_opt.model.codes import POWER_POINTS, Pricing

#: Terms the delta evaluator reproduces exactly.
SUPPORTED = frozenset(
    {
        "capacity",
        "anti_affinity",
        "affinity",
        "gpu_model",
        "host_state",
        "unmigratable",
        "unplaced",
        "active_hosts",
        "energy_watts",
        "hourly_cost",
        "latency_ms",
        "migrations",
        "migration_gb",
        "imbalance",
        "consolidation",
        "spot_mixing",
    }
)

# Static arrays of a problem (weights folded in). A namedtuple so numba kernels take one argument.
Model = namedtuple(
    "Model",
    [
        "cap",  # float64[H, R]
        "demand",  # float64[V, R]
        "cap_tol",  # float64[H, R] capacity + the evaluator's slack
        "over_w",  # float64[H, R] weight of one unit of overload (per host: searches may adapt it)
        "over_hard",  # bool
        "zone_cost",  # float64[V, Z] weighted price + latency of v in zone z
        "host_zone",  # int64[H]
        "move_soft",  # float64[V] soft cost when v leaves its current host
        "move_hard",  # float64[V] hard cost when v leaves its current host
        "current",  # int64[V]
        "unplaced_w",  # float64[2] (soft, hard) cost of an unplaced VM
        "bad_host_soft",  # float64[V, 2]: [GPU model mismatch, host not active] soft weights
        "bad_host_hard",  # float64[V, 2]
        "vm_model",  # int64[V]
        "host_model",  # int64[H]
        "host_bad",  # bool[H] host not active
        "on_cost",  # float64[H] soft cost of a powered host (active_hosts + hourly price)
        "watts",  # float64[H, POWER_POINTS] weighted power curve (0 when energy is off)
        "power_res",  # int64
        "cons_w",  # float64 weight of consolidation (1 - squared mean utilisation per powered host)
        "cap_has",  # float64[H] number of resources with positive capacity
        "imb_w",  # float64
        "imb_res",  # int64[k]
        "imb_has",  # bool[H, k]
        "vm_group",  # int64[V]
        "g_ptr",
        "g_members",
        "g_level",
        "g_limit",
        "domains",  # int64[3, H]
        "aa_w",  # float64[2] (soft, hard) per excess replica
        "vm_aff",  # int64[V]
        "a_ptr",
        "a_members",
        "aff_w",  # float64[2] (soft, hard) per extra host of a split group
        "is_spot",  # int64[V] 1 for a spot VM, else 0
        "spot_w",  # float64 weight of a host running spot and non-spot VMs
    ],
)

# Mutable state of one assignment.
State = namedtuple("State", ["x", "load", "count", "head", "nxt", "prv", "acc", "spot"])
# acc: float64[4] = soft score, hard score, imbalance spread sum, active host count
# spot: int64[H] spot VMs per host (count - spot are the others)


@dataclass(frozen=True)
class DeltaModel:
    """The numba model of a problem's score. ``DeltaModel.of(problem)`` caches it."""

    model: Model

    @classmethod
    def of(cls, problem: Problem) -> DeltaModel:
        cached = getattr(problem, "_delta_model", None)
        if cached is None:
            cached = cls(_build(problem))
            problem._delta_model = cached  # type: ignore[attr-defined]
        return cached

    def state(self, x: np.ndarray) -> State:
        """A fresh state for assignment ``x`` with its score. O(V R + H R)."""
        m = self.model
        n_hosts = m.cap.shape[0]
        s = State(
            x=np.array(x, dtype=np.int64),
            load=np.zeros_like(m.cap),
            count=np.zeros(n_hosts, dtype=np.int64),
            head=np.full(n_hosts, -1, dtype=np.int64),
            nxt=np.full(len(x), -1, dtype=np.int64),
            prv=np.full(len(x), -1, dtype=np.int64),
            acc=np.zeros(4),
            spot=np.zeros(n_hosts, dtype=np.int64),
        )
        init_state(m, s)
        return s


def _build(problem: Problem) -> Model:
    c = problem.cluster
    unknown = sorted(
        t.name
        for t, w in zip(problem.terms, problem.weights, strict=True)
        if w > 0 and t.name not in SUPPORTED
    )
    if unknown:
        raise ValueError(
            f"no delta evaluation for term(s) {unknown}: set their weight to 0 or use a batch solver"
        )
    hard_objectives = sorted(
        t.name
        for t, w, h in zip(problem.terms, problem.weights, problem.hard, strict=True)
        if w > 0 and h and t.kind == "objective"
    )
    if hard_objectives:
        raise ValueError(f"no delta evaluation for objective term(s) made hard: {hard_objectives}")
    w = {t.name: float(wt) for t, wt in zip(problem.terms, problem.weights, strict=True)}
    hard = {t.name: bool(h) for t, h in zip(problem.terms, problem.hard, strict=True)}

    def get(name: str) -> float:
        return w.get(name, 0.0)

    def split(name: str) -> np.ndarray:
        """(soft, hard) weight of a term."""
        return np.array([0.0, get(name)] if hard.get(name, False) else [get(name), 0.0])

    n_vms, n_hosts = c.n_vms, c.n_hosts
    cap = np.ascontiguousarray(c.hosts.capacity, dtype=np.float64)
    demand = np.ascontiguousarray(c.vms.demand, dtype=np.float64)
    # per-VM zone costs: price and latency
    lat_table = np.vstack([c.topology.latency_ms, np.zeros((1, len(c.topology.regions)))])
    user = np.where(c.vms.user_region >= 0, c.vms.user_region, len(c.topology.regions))
    n_users = max(int((c.vms.user_region >= 0).sum()), 1)
    zone_cost = get("hourly_cost") * vm_zone_cost(demand, c.vms.pricing, c.prices.unit)
    if get("latency_ms"):
        zone_cost += get("latency_ms") / n_users * lat_table[user][:, c.topology.zone_region]
    mem = demand[:, c.resource_index("mem_gb")] if "mem_gb" in c.resources else np.zeros(n_vms)
    pinned = (~c.vms.migratable).astype(np.float64)
    um = split("unmigratable")
    move_soft = get("migrations") + get("migration_gb") * mem + um[0] * pinned
    move_hard = um[1] * pinned
    gpu, state = split("gpu_model"), split("host_state")
    bad_soft = np.tile([gpu[0], state[0]], (n_vms, 1))
    bad_hard = np.tile([gpu[1], state[1]], (n_vms, 1))
    power_res = c.resource_index(problem.config.power_resource)
    imb_res = np.array([c.resource_index(r) for r in problem.config.imbalance_resources], dtype=np.int64)
    g_ptr, g_members = problem.anti_affinity_csr
    a_ptr, a_members = problem.affinity_csr
    over_w = np.tile(get("capacity") / problem.resource_scale, (n_hosts, 1)).astype(np.float64)
    return Model(
        cap=cap,
        demand=demand,
        cap_tol=cap + CAPACITY_RTOL * np.maximum(cap, 1.0),
        over_w=over_w,
        over_hard=bool(hard.get("capacity", False)),
        zone_cost=np.ascontiguousarray(zone_cost),
        host_zone=c.hosts.zone.astype(np.int64),
        move_soft=np.ascontiguousarray(move_soft, dtype=np.float64),
        move_hard=np.ascontiguousarray(move_hard, dtype=np.float64),
        current=c.vms.current.astype(np.int64),
        unplaced_w=split("unplaced"),
        bad_host_soft=np.ascontiguousarray(bad_soft),
        bad_host_hard=np.ascontiguousarray(bad_hard),
        vm_model=c.vms.gpu_model.astype(np.int64),
        host_model=c.hosts.gpu_model.astype(np.int64),
        host_bad=~c.usable,
        on_cost=get("active_hosts") + get("hourly_cost") * c.prices.host_hourly.astype(np.float64),
        watts=np.ascontiguousarray(get("energy_watts") * c.power.watts[c.hosts.power_curve]),
        power_res=power_res,
        cons_w=get("consolidation"),
        cap_has=(cap > 0).sum(axis=1).astype(np.float64),
        imb_w=get("imbalance"),
        imb_res=imb_res,
        imb_has=np.ascontiguousarray(cap[:, imb_res] > 0),
        vm_group=c.vms.anti_affinity.astype(np.int64),
        g_ptr=g_ptr,
        g_members=g_members,
        g_level=c.anti_affinity.level.astype(np.int64),
        g_limit=c.anti_affinity.max_per_domain.astype(np.int64),
        domains=np.ascontiguousarray(problem.domains),
        aa_w=split("anti_affinity"),
        vm_aff=c.vms.affinity.astype(np.int64),
        a_ptr=a_ptr,
        a_members=a_members,
        aff_w=split("affinity"),
        is_spot=(c.vms.pricing == Pricing.SPOT).astype(np.int64),
        spot_w=get("spot_mixing"),
    )


# --- per-VM part -------------------------------------------------------------------------
@njit(cache=True, _nrt=False)
def unary(m, v, h):
    """(soft, hard) cost of VM ``v`` on host ``h`` (-1 = unplaced). O(1)."""
    soft = 0.0
    hard = 0.0
    if h < 0:
        soft += m.unplaced_w[0]
        hard += m.unplaced_w[1]
    else:
        soft += m.zone_cost[v, m.host_zone[h]]
        if m.vm_model[v] >= 0 and m.host_model[h] != m.vm_model[v]:
            soft += m.bad_host_soft[v, 0]
            hard += m.bad_host_hard[v, 0]
        if m.host_bad[h]:
            soft += m.bad_host_soft[v, 1]
            hard += m.bad_host_hard[v, 1]
    if m.current[v] >= 0 and h != m.current[v]:
        soft += m.move_soft[v]
        hard += m.move_hard[v]
    return soft, hard


# --- per-host part -----------------------------------------------------------------------
@njit(cache=True, _nrt=False)
def _watts(m, h, load):
    c = m.cap[h, m.power_res]
    u = load[m.power_res] / c if c > 0 else 0.0
    u = min(max(u, 0.0), 1.0)
    seg = POWER_POINTS - 1
    xx = u * seg
    i = min(int(xx), seg - 1)
    lo = m.watts[h, i]
    return lo + (xx - i) * (m.watts[h, i + 1] - lo)


@njit(cache=True, _nrt=False)
def host_cost(m, h, load, count):
    """(soft, hard) cost of host ``h`` with ``load`` float[R] and ``count`` VMs, without
    imbalance. O(R)."""
    soft = 0.0
    if count > 0:
        soft += m.on_cost[h] + _watts(m, h, load)
        if m.cons_w > 0:
            fill = 0.0
            for r in range(load.shape[0]):
                if m.cap[h, r] > 0:
                    fill += min(max(load[r] / m.cap[h, r], 0.0), 1.0)
            fill /= max(m.cap_has[h], 1.0)
            soft += m.cons_w * (1.0 - fill * fill)
    over = 0.0
    for r in range(load.shape[0]):
        if load[r] > m.cap_tol[h, r]:
            over += (load[r] - m.cap_tol[h, r]) * m.over_w[h, r]
    if m.over_hard:
        return soft, over
    return soft + over, 0.0


@njit(cache=True, _nrt=False)
def spread(m, h, load):
    """Imbalance of host ``h``: max - min clipped utilisation over the resources it has
    (0 with fewer than two). O(k)."""
    hi = -1.0
    lo = 2.0
    n = 0
    for j in range(m.imb_res.shape[0]):
        if m.imb_has[h, j]:
            r = m.imb_res[j]
            u = min(max(load[r] / m.cap[h, r], 0.0), 1.0)
            hi = max(hi, u)
            lo = min(lo, u)
            n += 1
    return hi - lo if n >= 2 else 0.0


# --- groups ------------------------------------------------------------------------------
@njit(cache=True, _nrt=False)
def _aa_change(m, x, v, h_from, h_to):
    """Change of the anti-affinity excess when ``v`` moves. O(group size)."""
    g = m.vm_group[v]
    if g < 0:
        return 0.0
    dom = m.domains[m.g_level[g]]
    d_from = dom[h_from] if h_from >= 0 else -1
    d_to = dom[h_to] if h_to >= 0 else -1
    if d_from == d_to:
        return 0.0
    n_from = 0
    n_to = 0
    for i in range(m.g_ptr[g], m.g_ptr[g + 1]):
        o = m.g_members[i]
        if o == v or x[o] < 0:
            continue
        d = dom[x[o]]
        if d == d_from:
            n_from += 1
        elif d == d_to:
            n_to += 1
    limit = m.g_limit[g]
    change = 0.0
    if d_from >= 0 and n_from + 1 > limit:
        change -= 1.0
    if d_to >= 0 and n_to + 1 > limit:
        change += 1.0
    return change


@njit(cache=True, _nrt=False)
def _aff_change(m, x, v, h_from, h_to):
    """Change of (distinct hosts - 1)^+ of ``v``'s affinity group when it moves. O(m^2)."""
    a = m.vm_aff[v]
    if a < 0 or h_from == h_to:
        return 0.0
    distinct = 0
    alone_from = True
    alone_to = True
    lo, hi = m.a_ptr[a], m.a_ptr[a + 1]
    for i in range(lo, hi):
        o = m.a_members[i]
        h = x[o]
        if h < 0:
            continue
        first = True  # count each host once: at its first member
        for j in range(lo, i):
            if x[m.a_members[j]] == h:
                first = False
                break
        if first:
            distinct += 1
        if o != v:
            if h == h_from:
                alone_from = False
            if h == h_to:
                alone_to = False
    after = distinct
    if h_from >= 0 and alone_from:
        after -= 1
    if h_to >= 0 and alone_to:
        after += 1
    return float(max(after - 1, 0) - max(distinct - 1, 0))


# --- state updates -----------------------------------------------------------------------
@njit(cache=True, _nrt=False)
def _link(s, v, h):
    s.prv[v] = -1
    s.nxt[v] = s.head[h]
    if s.head[h] >= 0:
        s.prv[s.head[h]] = v
    s.head[h] = v


@njit(cache=True, _nrt=False)
def _unlink(s, v, h):
    if s.prv[v] >= 0:
        s.nxt[s.prv[v]] = s.nxt[v]
    else:
        s.head[h] = s.nxt[v]
    if s.nxt[v] >= 0:
        s.prv[s.nxt[v]] = s.prv[v]
    s.nxt[v] = -1
    s.prv[v] = -1


@njit(cache=True, _nrt=False)
def _mixed(s, h):
    """1.0 when host ``h`` runs spot and non-spot VMs, else 0.0. O(1)."""
    return 1.0 if s.spot[h] > 0 and s.count[h] > s.spot[h] else 0.0


@njit(cache=True, _nrt=False)
def _host_change(m, s, h, v, sign):
    """Add (sign = 1) or remove (-1) VM v's demand on host h; returns the (soft, hard,
    spread-sum, active-count) change, imbalance excluded from soft."""
    before_s, before_h = host_cost(m, h, s.load[h], s.count[h])
    if m.spot_w != 0.0:
        before_s += m.spot_w * _mixed(s, h)
    sp_before = spread(m, h, s.load[h]) if s.count[h] > 0 else 0.0
    was_on = 1.0 if s.count[h] > 0 else 0.0
    for r in range(s.load.shape[1]):
        s.load[h, r] += sign * m.demand[v, r]
    s.count[h] += sign
    s.spot[h] += sign * m.is_spot[v]
    after_s, after_h = host_cost(m, h, s.load[h], s.count[h])
    if m.spot_w != 0.0:
        after_s += m.spot_w * _mixed(s, h)
    sp_after = spread(m, h, s.load[h]) if s.count[h] > 0 else 0.0
    on = 1.0 if s.count[h] > 0 else 0.0
    return after_s - before_s, after_h - before_h, sp_after - sp_before, on - was_on


@njit(cache=True, _nrt=False)
def imbalance_value(m, acc):
    return m.imb_w * acc[2] / max(acc[3], 1.0)


@njit(cache=True, _nrt=False)
def apply_move(m, s, v, h_to):
    """Move VM ``v`` to host ``h_to`` (-1 = unplace), update the state, and return the
    (soft, hard) change of the score. O(R + group sizes)."""
    x = s.x
    h_from = x[v]
    if h_from == h_to:
        return 0.0, 0.0
    u0s, u0h = unary(m, v, h_from)
    u1s, u1h = unary(m, v, h_to)
    d_soft = u1s - u0s
    d_hard = u1h - u0h
    aa = _aa_change(m, x, v, h_from, h_to)
    af = _aff_change(m, x, v, h_from, h_to)
    d_soft += aa * m.aa_w[0] + af * m.aff_w[0]
    d_hard += aa * m.aa_w[1] + af * m.aff_w[1]
    imb_before = imbalance_value(m, s.acc)
    if h_from >= 0:
        ds, dh, dsp, don = _host_change(m, s, h_from, v, -1)
        d_soft += ds
        d_hard += dh
        s.acc[2] += dsp
        s.acc[3] += don
        _unlink(s, v, h_from)
    if h_to >= 0:
        ds, dh, dsp, don = _host_change(m, s, h_to, v, 1)
        d_soft += ds
        d_hard += dh
        s.acc[2] += dsp
        s.acc[3] += don
        _link(s, v, h_to)
    x[v] = h_to
    d_soft += imbalance_value(m, s.acc) - imb_before
    s.acc[0] += d_soft
    s.acc[1] += d_hard
    return d_soft, d_hard


@njit(cache=True)
def init_state(m, s):
    """Fill loads, counts, host lists and the score from ``s.x``. O(V R + H R + groups)."""
    x = s.x
    n_vms = x.shape[0]
    target = x.copy()
    for v in range(n_vms):
        x[v] = -1
    s.load[:] = 0.0
    s.count[:] = 0
    s.spot[:] = 0
    s.head[:] = -1
    s.acc[:] = 0.0
    soft = 0.0
    hard = 0.0
    for v in range(n_vms):
        us, uh = unary(m, v, -1)
        soft += us
        hard += uh
    s.acc[0] = soft
    s.acc[1] = hard
    for h in range(m.cap.shape[0]):
        cs, ch = host_cost(m, h, s.load[h], 0)
        s.acc[0] += cs
        s.acc[1] += ch
    for v in range(n_vms):
        if target[v] >= 0:
            apply_move(m, s, v, target[v])


@njit(cache=True)
def raise_overload_weights(m, s, factor):
    """Breakout: multiply the overload weight of every (host, resource) now over capacity
    by ``factor`` and update the score to match. O(H R)."""
    for h in range(s.load.shape[0]):
        for r in range(s.load.shape[1]):
            over = s.load[h, r] - m.cap_tol[h, r]
            if over > 0:
                change = over * m.over_w[h, r] * (factor - 1.0)
                m.over_w[h, r] *= factor
                if m.over_hard:
                    s.acc[1] += change
                else:
                    s.acc[0] += change
