"""The wave builder: capacity-safe ordering of units into waves of concurrent moves.

A wave is a set of moves that run at the same time; the next wave starts when the last
move of the previous one has finished. While a VM moves it counts on its source *and* its
destination (like ROADEF 2012's transient resources), in capacity and in the anti-affinity
domains of its replica group. A unit joins the current wave when, with every unit already
in the wave:

- every destination host stays within ``allowed`` = max(capacity, load at the start) in
  every resource (a host overloaded at the start may not get worse);
- each moved member keeps its replica group within max(limit, count at the start) per
  domain, and no other unit of that replica group is in flight (zero downtime);
- per-host, per-rack and global concurrency limits and the host / rack / zone / region
  link budgets hold;
- its VMs are on the move's source (a return leg waits for its staging leg).

Units are scanned in priority order in every wave (greedy list scheduling); a wave ends
when no pending unit fits. When a wave admits nothing, the remaining units are stuck: see
:mod:`cluster_opt.plan.cycles`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from cluster_opt.evaluate import Problem
from cluster_opt.evaluate.kernels import loads_and_counts
from cluster_opt.plan.moves import Units
from cluster_opt.plan.settings import PlanSettings

#: Slack when comparing a load with what a host allows (the evaluator's 1e-9 relative).
CAPACITY_RTOL = 1e-9

OK, FAIL_CAPACITY, FAIL_SPREAD, FAIL_BUSY, FAIL_LIMIT, FAIL_SOURCE = 0, 1, 2, 3, 4, 5


# The kernels take their arrays in five bundles (tuples), unpacked where used:
#   plan  = (u_ptr, u_moves, m_vm, m_src, m_dst, m_bw)      units (CSR over moves) and moves
#   state = (demand, load, allowed, loc, inflight, x0)      per-VM and per-host state
#   grp   = (vm_group, g_ptr, g_members, g_level, g_limit, domains, g_busy, g_st)
#   net   = (rack, zone, region, limits, budgets)           topology, concurrency, links
#   cnt   = (host_n, host_bw, host_st, rack_n, rack_bw, rack_st, zone_n, zone_bw, zone_st,
#            reg_n, reg_bw, reg_st)                          per-wave counters, valid where
#                                                            the stamp equals the wave


@njit(cache=True)
def _fresh(stamp, i, wave, count, bw):
    if stamp[i] != wave:
        stamp[i] = wave
        count[i] = 0
        bw[i] = 0.0


@njit(cache=True)
def _over(stamp, wave, used, more, limit):
    """Whether ``more`` on top of a per-wave counter (``used``, valid when ``stamp`` is
    this wave) exceeds ``limit``. Scalars only: cheap in the hot loop."""
    return (used if stamp == wave else 0) + more > limit


@njit(cache=True)
def _cross(code, stamp, count, bw, s, d, wave, delta):
    """Add ``delta`` Gbit/s to both ends' links when the move crosses domains at this level."""
    if code[s] != code[d]:
        _fresh(stamp, code[s], wave, count, bw)
        _fresh(stamp, code[d], wave, count, bw)
        bw[code[s]] += delta
        bw[code[d]] += delta


@njit(cache=True)
def _apply(u, sign, wave, plan, state, net, cnt):
    """Add (sign +1) or remove (sign -1) unit ``u``'s in-flight footprint: load on the
    destinations, concurrency counts and link bandwidth."""
    u_ptr, u_moves, m_vm, m_src, m_dst, m_bw = plan
    demand, load, _, _, inflight, _ = state
    rack, zone, region, _, _ = net
    host_n, host_bw, host_st, rack_n, rack_bw, rack_st, zone_n, zone_bw, zone_st, reg_n, reg_bw, reg_st = cnt
    for i in range(u_ptr[u], u_ptr[u + 1]):
        m = u_moves[i]
        v, s, d, b = m_vm[m], m_src[m], m_dst[m], m_bw[m]
        if d >= 0:
            inflight[v] = d if sign > 0 else -1
            for r in range(load.shape[1]):
                load[d, r] += sign * demand[v, r]
        for h in (s, d):
            if h >= 0:
                _fresh(host_st, h, wave, host_n, host_bw)
                host_n[h] += sign
        if s >= 0:
            _fresh(rack_st, rack[s], wave, rack_n, rack_bw)
            rack_n[rack[s]] += sign
        if d >= 0 and (s < 0 or rack[d] != rack[s]):
            _fresh(rack_st, rack[d], wave, rack_n, rack_bw)
            rack_n[rack[d]] += sign
        if s >= 0 and d >= 0 and b > 0:
            host_bw[s] += sign * b
            host_bw[d] += sign * b
            _cross(rack, rack_st, rack_n, rack_bw, s, d, wave, sign * b)
            _cross(zone, zone_st, zone_n, zone_bw, s, d, wave, sign * b)
            _cross(region, reg_st, reg_n, reg_bw, s, d, wave, sign * b)


@njit(cache=True)
def spread_ok(v, d, loc, inflight, x0, vm_group, g_ptr, g_members, g_level, g_limit, domains):
    """Whether VM ``v`` arriving on host ``d`` keeps its replica group within max(limit,
    count at the start) in ``d``'s domain, counting every member located or arriving there
    once. O(group size)."""
    g = vm_group[v]
    if g < 0 or d < 0:
        return True
    dom = domains[g_level[g]]
    target = dom[d]
    count = 0
    start = 0
    for i in range(g_ptr[g], g_ptr[g + 1]):
        w = g_members[i]
        here = (loc[w] >= 0 and dom[loc[w]] == target) or (inflight[w] >= 0 and dom[inflight[w]] == target)
        if here or w == v:
            count += 1
        if x0[w] >= 0 and dom[x0[w]] == target:
            start += 1
    return count <= max(g_limit[g], start)


@njit(cache=True)
def _check(u, wave, plan, state, grp, net, cnt):
    """Why unit ``u`` (already applied tentatively) cannot be in the wave, or OK: a VM not
    on its move's source yet, another unit of its replica group in flight, a destination
    over what it allows, a replica group over its spread, a concurrency limit or a link
    budget exceeded. Exact; O(k (R + g))."""
    u_ptr, u_moves, m_vm, m_src, m_dst, _ = plan
    _, load, allowed, loc, inflight, x0 = state
    vm_group, g_ptr, g_members, g_level, g_limit, domains, g_busy, g_st = grp
    rack, zone, region, limits, budgets = net
    host_n, host_bw, _, rack_n, rack_bw, _, _, zone_bw, _, _, reg_bw, _ = cnt
    for i in range(u_ptr[u], u_ptr[u + 1]):
        m = u_moves[i]
        v, s, d = m_vm[m], m_src[m], m_dst[m]
        if loc[v] != s:
            return FAIL_SOURCE
        g = vm_group[v]
        if g >= 0 and g_st[g] == wave and g_busy[g] != u:
            return FAIL_BUSY
        if d >= 0:
            for r in range(load.shape[1]):
                if load[d, r] > allowed[d, r]:
                    return FAIL_CAPACITY
        if not spread_ok(v, d, loc, inflight, x0, vm_group, g_ptr, g_members, g_level, g_limit, domains):
            return FAIL_SPREAD
        for h in (s, d):
            if h >= 0 and (
                host_n[h] > limits[0]
                or host_bw[h] > budgets[0]
                or rack_n[rack[h]] > limits[1]
                or rack_bw[rack[h]] > budgets[1]
            ):
                return FAIL_LIMIT
        if s >= 0 and d >= 0 and zone[s] != zone[d]:  # counters only fresh when crossed
            if zone_bw[zone[s]] > budgets[2] or zone_bw[zone[d]] > budgets[2]:
                return FAIL_LIMIT
            if region[s] != region[d] and (reg_bw[region[s]] > budgets[3] or reg_bw[region[d]] > budgets[3]):
                return FAIL_LIMIT
    return OK


@njit(cache=True)
def run_waves(pending, n_pending, wave, u_wave, plan, state, grp, net, cnt, parked):
    """Build waves from ``pending[:n_pending]`` (unit ids in priority order) until every unit
    is placed in a wave or a wave admits nothing. Writes ``u_wave``, updates the state
    (``load``, ``loc``) and compacts ``pending``; returns (units left, next wave).

    Each unit goes through a fast filter (necessary conditions), then a tentative apply
    and the exact :func:`_check`. A unit that found its destination full is parked until a
    VM leaves that host (``parked`` = (host per unit, host version then, version per
    host)), so it is not re-checked in every wave. O(W P (k R + k g)) for W waves, P pending units of k moves
    and replica groups of size g, stopping a wave early when the global limit is hit.
    """
    u_ptr, u_moves, m_vm, m_src, m_dst, m_bw = plan
    demand, load, allowed, loc, inflight, _ = state
    vm_group, _, _, _, _, _, g_busy, g_st = grp
    rack, zone, region, limits, budgets = net
    host_n, host_bw, host_st, rack_n, rack_bw, rack_st, _, zone_bw, zone_st, _, reg_bw, reg_st = cnt
    park_host, park_ver, host_ver = parked
    admitted = np.empty(n_pending, dtype=np.int64)
    while n_pending > 0:
        n_admitted = 0
        total = 0
        for i in range(n_pending):
            u = pending[i]
            size = u_ptr[u + 1] - u_ptr[u]
            if total + size > limits[2]:
                if total >= limits[2]:
                    break
                continue
            if park_host[u] >= 0 and host_ver[park_host[u]] == park_ver[u]:
                continue
            # fast filter, each move alone against what the wave has left (written out
            # here: helper calls with array arguments cost more than the checks)
            fits = True
            for j in range(u_ptr[u], u_ptr[u + 1]):
                m = u_moves[j]
                v, s, d, b = m_vm[m], m_src[m], m_dst[m], m_bw[m]
                if s >= 0 and d >= 0 and b > 0:
                    rs, rd, zs, zd, ks, kd = region[s], region[d], zone[s], zone[d], rack[s], rack[d]
                    fits = not (
                        (
                            rs != rd
                            and (
                                _over(reg_st[rs], wave, reg_bw[rs], b, budgets[3])
                                or _over(reg_st[rd], wave, reg_bw[rd], b, budgets[3])
                            )
                        )
                        or (
                            zs != zd
                            and (
                                _over(zone_st[zs], wave, zone_bw[zs], b, budgets[2])
                                or _over(zone_st[zd], wave, zone_bw[zd], b, budgets[2])
                            )
                        )
                        or (
                            ks != kd
                            and (
                                _over(rack_st[ks], wave, rack_bw[ks], b, budgets[1])
                                or _over(rack_st[kd], wave, rack_bw[kd], b, budgets[1])
                            )
                        )
                    )
                for h in (s, d):
                    if fits and h >= 0:
                        fits = not (
                            _over(host_st[h], wave, host_n[h], 1, limits[0])
                            or _over(host_st[h], wave, host_bw[h], b, budgets[0])
                            or _over(rack_st[rack[h]], wave, rack_n[rack[h]], 1, limits[1])
                        )
                if fits and d >= 0:
                    for r in range(load.shape[1]):
                        if load[d, r] + demand[v, r] > allowed[d, r]:
                            fits = False
                            park_host[u] = d  # full: wait until a VM leaves d
                            park_ver[u] = host_ver[d]
                            break
                if not fits:
                    break
            if not fits:
                continue
            _apply(u, 1, wave, plan, state, net, cnt)
            if _check(u, wave, plan, state, grp, net, cnt) != OK:
                _apply(u, -1, wave, plan, state, net, cnt)
                continue
            for j in range(u_ptr[u], u_ptr[u + 1]):
                g = vm_group[m_vm[u_moves[j]]]
                if g >= 0:
                    g_busy[g] = u
                    g_st[g] = wave
            u_wave[u] = wave
            admitted[n_admitted] = u
            n_admitted += 1
            total += size
        if n_admitted == 0:
            break
        for k in range(n_admitted):  # the wave ends: sources are released
            u = admitted[k]
            for j in range(u_ptr[u], u_ptr[u + 1]):
                m = u_moves[j]
                v, s = m_vm[m], m_src[m]
                if s >= 0:
                    for r in range(load.shape[1]):
                        load[s, r] -= demand[v, r]
                    host_ver[s] += 1
                loc[v] = m_dst[m]
                inflight[v] = -1
        kept = 0
        for i in range(n_pending):
            if u_wave[pending[i]] < 0:
                pending[kept] = pending[i]
                kept += 1
        n_pending = kept
        wave += 1
    return n_pending, wave


@njit(cache=True)
def probe(u, wave, plan, state, grp, net, cnt):
    """Why unit ``u`` cannot join wave ``wave`` now (OK when it can); changes nothing."""
    _apply(u, 1, wave, plan, state, net, cnt)
    why = _check(u, wave, plan, state, grp, net, cnt)
    _apply(u, -1, wave, plan, state, net, cnt)
    return why


@dataclass
class MoveTable:
    """Growable per-move arrays (staging adds moves while the plan is built)."""

    vm: np.ndarray  # int64[M]
    src: np.ndarray  # int64[M]
    dst: np.ndarray  # int64[M]
    bw: np.ndarray  # float64[M] Gbit/s of a live migration, 0 otherwise
    role: np.ndarray  # int8[M] moves.TARGET ...
    origin: np.ndarray  # int64[M] the target move a staging/return leg serves, else itself

    def __len__(self) -> int:
        return len(self.vm)

    def append(self, vm, src, dst, bw, role, origin) -> np.ndarray:
        """Append moves; returns their indices."""
        start = len(self)
        self.vm = np.append(self.vm, np.asarray(vm, dtype=np.int64))
        self.src = np.append(self.src, np.asarray(src, dtype=np.int64))
        self.dst = np.append(self.dst, np.asarray(dst, dtype=np.int64))
        self.bw = np.append(self.bw, np.asarray(bw, dtype=np.float64))
        self.role = np.append(self.role, np.asarray(role, dtype=np.int8))
        self.origin = np.append(self.origin, np.asarray(origin, dtype=np.int64))
        return np.arange(start, len(self), dtype=np.int64)


class WaveState:
    """The cluster while waves are built: load per host including VMs in flight, where each
    VM is after the last finished wave, and the per-wave counters. ``forbidden`` hosts
    (being drained) never receive VMs."""

    def __init__(self, problem: Problem, settings: PlanSettings, x0: np.ndarray, forbidden: np.ndarray):
        c = problem.cluster
        self.cluster = c
        self.settings = settings
        self.x0 = np.asarray(x0, dtype=np.int64)
        self.forbidden = np.asarray(forbidden, dtype=bool)
        self.demand = np.ascontiguousarray(c.vms.demand, dtype=np.float64)
        self.load = loads_and_counts(self.x0[None, :].astype(np.int32), self.demand, c.n_hosts)[0][0]
        cap = c.hosts.capacity
        self.allowed = np.maximum(cap + CAPACITY_RTOL * np.maximum(cap, 1.0), self.load)
        self.loc = self.x0.copy()
        self.inflight = np.full(c.n_vms, -1, dtype=np.int64)
        self.wave = 0
        self.vm_group = c.vms.anti_affinity.astype(np.int64)
        self.g_ptr, self.g_members = problem.anti_affinity_csr
        self.g_level = c.anti_affinity.level.astype(np.int64)
        self.g_limit = c.anti_affinity.max_per_domain.astype(np.int64)
        self.domains = np.ascontiguousarray(problem.domains)
        self.rack = c.hosts.rack.astype(np.int64)
        self.zone = c.hosts.zone.astype(np.int64)
        self.region = c.hosts.region.astype(np.int64)
        conc = settings.concurrency
        self.limits = np.array([conc.per_host, conc.per_rack, conc.global_], dtype=np.int64)
        self.budgets = np.array(settings.links.budgets(), dtype=np.float64)
        n_groups = len(c.anti_affinity)
        self.g_busy = np.full(n_groups, -1, dtype=np.int64)
        self.g_st = np.full(n_groups, -1, dtype=np.int64)
        self.host_ver = np.zeros(c.n_hosts, dtype=np.int64)
        self.counters = [
            (np.zeros(n, dtype=np.int64), np.zeros(n), np.full(n, -1, dtype=np.int64))
            for n in (c.n_hosts, len(c.topology.racks), len(c.topology.zones), len(c.topology.regions))
        ]

    def _bundles(self, units: Units, moves: MoveTable) -> tuple:
        """The kernels' array bundles (see the comment above ``_fresh``)."""
        (hn, hb, hs), (kn, kb, ks), (zn, zb, zs), (rn, rb, rs) = self.counters
        return (
            (units.ptr, units.moves, moves.vm, moves.src, moves.dst, moves.bw),
            (self.demand, self.load, self.allowed, self.loc, self.inflight, self.x0),
            (
                self.vm_group,
                self.g_ptr,
                self.g_members,
                self.g_level,
                self.g_limit,
                self.domains,
                self.g_busy,
                self.g_st,
            ),
            (self.rack, self.zone, self.region, self.limits, self.budgets),
            (hn, hb, hs, kn, kb, ks, zn, zb, zs, rn, rb, rs),
        )

    def run(self, pending: np.ndarray, u_wave: np.ndarray, units: Units, moves: MoveTable) -> np.ndarray:
        """Schedule ``pending`` (unit ids, priority order) into waves from ``self.wave`` on;
        returns the units still pending when no further wave can start."""
        pending = np.array(pending, dtype=np.int64)
        parked = (
            np.full(len(units), -1, dtype=np.int64),
            np.zeros(len(units), dtype=np.int64),
            self.host_ver,
        )
        left, self.wave = run_waves(
            pending, len(pending), self.wave, u_wave, *self._bundles(units, moves), parked
        )
        return pending[:left].copy()

    def probe(self, u: int, units: Units, moves: MoveTable) -> int:
        """Why unit ``u`` cannot start in the next wave (OK when it can)."""
        return int(probe(u, self.wave, *self._bundles(units, moves)))

    def free(self) -> np.ndarray:
        """float64[H, R]: room left on each host now (between waves)."""
        return self.allowed - self.load
