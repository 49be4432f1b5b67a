"""Deadlocks: units that wait on each other, broken by a staging host or a temporary move.

When a wave admits nothing, every pending unit is stuck: its destination lacks room
(``capacity``), its replica group is at its limit in the destination's domain (``spread``),
or its VM is not yet on the source (a return leg). Unit ``a`` *waits on* unit ``b`` when
``b`` leaving would help ``a``: ``b`` moves a VM off ``a``'s full destination, or a member
of ``a``'s group out of the full domain, or ``b`` is the earlier leg of ``a``'s VM.

In each wait cycle (a strongly connected component of that graph) one fix is applied,
the cheapest first:

1. *staging* (+1 move per VM): a unit of the cycle goes to a staging host now and to its
   destination later; chosen among the units with the fewest VMs, then the least memory,
   whose staging host lets another unit of the cycle start;
2. *temporary move* (+2 moves): a VM that the target keeps on a full destination steps
   aside to another host and comes back once the cycle has moved.

A staging host is an active, not forbidden host that has room now, the GPU model and the
spread the VMs need; hosts that keep room for the moves still due to arrive there are
preferred, then the source's rack, zone and region (cheaper links), then the most room.
Units left stuck are blocked, each with the reason and what it waits on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from cluster_opt.model import SpreadLevel
from cluster_opt.plan.moves import RETURN, STAGING, TEMPORARY, Units
from cluster_opt.plan.waves import (
    FAIL_CAPACITY,
    FAIL_SOURCE,
    FAIL_SPREAD,
    OK,
    MoveTable,
    WaveState,
    spread_ok,
)


@dataclass
class Stuck:
    """Why a pending unit cannot start, and the pending units whose leaving would help."""

    code: int
    host: int = -1  # capacity: the full destination; spread: the arriving VM's destination
    resource: int = -1
    vm: int = -1  # spread / source: the member concerned
    waits_on: list[int] = field(default_factory=list)


@dataclass
class Fixes:
    """What one round of cycle breaking did."""

    pending: np.ndarray  # the new pending order
    extra_moves: int


class _Batch:
    """New legs of one round, appended to the move and unit tables in one go, and where
    their units go in the pending order."""

    def __init__(self, units: Units, moves: MoveTable) -> None:
        self.units, self.moves = units, moves
        self.rows: list[tuple] = []
        self.sizes: list[int] = []
        self.after: dict[int, list[int]] = {}  # pending unit -> new units right after it
        self.front: list[int] = []

    def unit(self, vm, src, dst, bw, role, origin) -> int:
        """A new unit of the given moves (sequences); returns its future id."""
        self.rows.extend(zip(vm, src, dst, bw, role, origin, strict=True))
        self.sizes.append(len(vm))
        return len(self.units) + len(self.sizes) - 1

    def flush(self, pending: np.ndarray) -> np.ndarray:
        if self.rows:
            cols = list(zip(*self.rows, strict=True))
            start = len(self.moves)
            self.moves.append(*cols)
            self.units.extend(start, self.sizes)
        order = list(self.front)
        for u in pending.tolist():
            order.append(u)
            order.extend(self.after.get(u, ()))
        return np.array(order, dtype=np.int64)


class CycleBreaker:
    """Diagnoses stuck units and breaks their wait cycles. See the module docstring."""

    def __init__(self, state: WaveState, units: Units, moves: MoveTable) -> None:
        self.state = state
        self.units = units
        self.moves = moves
        c = state.cluster
        self.c = c
        self.usable = c.usable & ~state.forbidden
        self.scale = np.where(c.hosts.capacity.max(axis=0) > 0, c.hosts.capacity.max(axis=0), 1.0)
        self.mem = c.resource_index("mem_gb")
        self.tol = 1e-9 * np.maximum(c.hosts.capacity, 1.0)
        self.host_model = c.hosts.gpu_model.astype(np.int64)
        self.vm_model = c.vms.gpu_model.astype(np.int64)

    # -- diagnosis -----------------------------------------------------------------------
    def _next_leg(self, pending: np.ndarray) -> tuple[dict[int, int], dict[int, list[int]]]:
        """vm -> pending unit of its next move; host -> pending units moving a VM off it."""
        s, mv = self.state, self.moves
        next_unit: dict[int, int] = {}
        leaving: dict[int, list[int]] = {}
        for u in pending.tolist():
            for m in self.units.of(u).tolist():
                v, src = int(mv.vm[m]), int(mv.src[m])
                if s.loc[v] == src:
                    next_unit[v] = u
                    if src >= 0:
                        leaving.setdefault(src, []).append(u)
        return next_unit, leaving

    def diagnose(self, pending: np.ndarray) -> dict[int, Stuck]:
        """Why each pending unit is stuck, and the wait-on edges. O(P k (R + g))."""
        s, mv = self.state, self.moves
        next_unit, leaving = self._next_leg(pending)
        free = s.free()
        out: dict[int, Stuck] = {}
        for u in pending.tolist():
            code = self.state.probe(u, self.units, mv)
            ms = self.units.of(u)
            if code == FAIL_SOURCE:
                v = next(int(mv.vm[m]) for m in ms if s.loc[mv.vm[m]] != mv.src[m])
                waits = [next_unit[v]] if v in next_unit else []
                out[u] = Stuck(code, vm=v, waits_on=waits)
            elif code == FAIL_CAPACITY:
                host, res = self._full_host(ms, free)
                out[u] = Stuck(
                    code, host=host, resource=res, waits_on=[w for w in leaving.get(host, []) if w != u]
                )
            elif code == FAIL_SPREAD:
                v, host = self._spread_member(ms)
                out[u] = Stuck(code, host=host, vm=v, waits_on=self._spread_waits(v, host, next_unit, u))
            else:
                out[u] = Stuck(code)
        return out

    def _need(self, ms: np.ndarray) -> dict[int, np.ndarray]:
        mv = self.moves
        need: dict[int, np.ndarray] = {}
        for m in ms.tolist():
            d = int(mv.dst[m])
            if d >= 0:
                need[d] = need.get(d, 0) + self.state.demand[mv.vm[m]]
        return need

    def _full_host(self, ms: np.ndarray, free: np.ndarray) -> tuple[int, int]:
        """The destination and resource with the largest shortfall (scaled)."""
        best = (-np.inf, -1, -1)
        for d, need in self._need(ms).items():
            short = (need - free[d]) / self.scale
            r = int(np.argmax(short))
            best = max(best, (float(short[r]), d, r))
        return best[1], best[2]

    def _spread_member(self, ms: np.ndarray) -> tuple[int, int]:
        s, mv = self.state, self.moves
        for m in ms.tolist():
            v, d = int(mv.vm[m]), int(mv.dst[m])
            if not spread_ok(
                v,
                d,
                s.loc,
                s.inflight,
                s.x0,
                s.vm_group,
                s.g_ptr,
                s.g_members,
                s.g_level,
                s.g_limit,
                s.domains,
            ):
                return v, d
        m = int(ms[0])
        return int(mv.vm[m]), int(mv.dst[m])

    def _spread_waits(self, v: int, host: int, next_unit: dict[int, int], u: int) -> list[int]:
        s = self.state
        g = s.vm_group[v]
        if g < 0 or host < 0:
            return []
        dom = s.domains[s.g_level[g]]
        out = []
        for w in s.g_members[s.g_ptr[g] : s.g_ptr[g + 1]].tolist():
            if w != v and s.loc[w] >= 0 and dom[s.loc[w]] == dom[host] and next_unit.get(w, u) != u:
                out.append(next_unit[w])
        return out

    # -- cycle breaking -----------------------------------------------------------------
    def break_cycles(self, pending: np.ndarray, stageable: list[bool], budget: int | None) -> Fixes:
        """One round: at most one fix per wait cycle, within ``budget`` extra moves (None =
        no limit). ``stageable[u]`` is False for units that are already legs of a fix.
        O(C (H R + P)) for C cycles."""
        stuck = self.diagnose(pending)
        cycles = [scc for scc in strongly_connected(stuck) if len(scc) > 1]
        extra = 0
        room = self.state.free()
        arriving = self._arriving(pending)
        batch = _Batch(self.units, self.moves)
        for scc in cycles:
            fix = self._stage_one(scc, stuck, stageable, room, arriving)
            if fix is None:
                fix = self._temporary(scc, stuck, room, arriving)
            if fix is None:
                continue
            cost, apply = fix
            if budget is not None and extra + cost > budget:
                break
            apply(batch, stageable)
            extra += cost
        return Fixes(batch.flush(pending), extra)

    def _arriving(self, pending: np.ndarray) -> np.ndarray:
        """float64[H, R]: demand of the pending moves still due to arrive on each host."""
        out = np.zeros_like(self.state.load)
        mv = self.moves
        ms = (
            np.concatenate([self.units.of(u) for u in pending.tolist()]) if len(pending) else np.zeros(0, int)
        )
        ms = ms[mv.dst[ms] >= 0]
        np.add.at(out, mv.dst[ms], self.state.demand[mv.vm[ms]])
        return out

    def _stage_one(self, scc, stuck, stageable, room, arriving):
        mv = self.moves
        candidates = []
        for b in scc:
            ms = self.units.of(b)
            dsts = set(mv.dst[ms].tolist())
            if not stageable[b] or len(dsts) != 1 or (mv.src[ms] < 0).any() or -1 in dsts:
                continue
            candidates.append((len(ms), float(self.state.demand[mv.vm[ms], self.mem].sum()), b))
        for _, _, b in sorted(candidates):
            ms = self.units.of(b)
            vms = mv.vm[ms]
            avoid = np.unique(np.concatenate([mv.src[ms], mv.dst[ms]]))
            t = self.staging_host(vms, int(mv.src[ms[0]]), avoid, room, arriving)
            if t < 0 or not self._helps(vms, t, [a for a in scc if b in stuck[a].waits_on]):
                continue
            room[t] -= self.state.demand[vms].sum(axis=0)
            return len(ms), self._staging_fix(b, t)
        return None

    def _temporary(self, scc, stuck, room, arriving):
        """A VM that stays on a cycle member's full destination steps aside (+2 moves)."""
        s, mv = self.state, self.moves
        moving = np.zeros(self.c.n_vms, dtype=bool)
        moving[mv.vm] = True
        for a in scc:
            info = stuck[a]
            if info.code != FAIL_CAPACITY:
                continue
            d = info.host
            need = self._need(self.units.of(a))[d]
            free = room[d]
            on = np.flatnonzero((s.loc == d) & ~moving & self.c.vms.migratable & (self.c.vms.affinity < 0))
            fits = on[((free + s.demand[on]) >= need).all(axis=1)] if len(on) else on
            for z in fits[np.argsort(s.demand[fits, self.mem], kind="stable")].tolist()[:8]:
                t = self.staging_host(np.array([z]), d, np.array([d]), room, arriving)
                if t >= 0 and self._helps(np.array([z]), t, [a]):
                    room[t] -= s.demand[z]
                    return 2, self._temporary_fix(a, z, d, t)
        return None

    def _helps(self, vms: np.ndarray, t: int, waiting: list[int]) -> bool:
        """Whether some unit of ``waiting`` could start once ``vms`` sit on host ``t``."""
        s = self.state
        src = s.loc[vms].copy()
        d = s.demand[vms]
        np.subtract.at(s.load, src, d)
        np.add.at(s.load, np.full(len(vms), t), d)
        s.loc[vms] = t
        try:
            return any(s.probe(a, self.units, self.moves) == OK for a in waiting)
        finally:
            s.loc[vms] = src
            np.subtract.at(s.load, np.full(len(vms), t), d)
            np.add.at(s.load, src, d)

    def staging_host(
        self, vms: np.ndarray, src: int, avoid: np.ndarray, room: np.ndarray, arriving: np.ndarray
    ) -> int:
        """A host that can take ``vms`` now (see the module docstring), or -1. ``room`` is
        the free capacity left by this round's earlier fixes. O(H (R + k g)) for k VMs in
        replica groups of size g (numba)."""
        s = self.state
        return int(
            _best_staging_host(
                np.asarray(vms, dtype=np.int64),
                src,
                np.asarray(avoid, dtype=np.int64),
                room,
                arriving,
                self.tol,
                self.scale,
                self.usable,
                self.host_model,
                self.vm_model,
                s.rack,
                s.zone,
                s.region,
                s.demand,
                s.loc,
                s.x0,
                s.vm_group,
                s.g_ptr,
                s.g_members,
                s.g_level,
                s.g_limit,
                s.domains,
            )
        )

    # -- applying fixes ------------------------------------------------------------------
    def _staging_fix(self, b: int, t: int):
        def apply(batch: _Batch, stageable: list[bool]) -> None:
            mv = self.moves
            ms = self.units.of(b)
            final = mv.dst[ms].copy()
            mv.dst[ms] = t
            mv.role[ms] = STAGING
            n = len(ms)
            b2 = batch.unit(mv.vm[ms], [t] * n, final, mv.bw[ms], [RETURN] * n, mv.origin[ms])
            batch.after.setdefault(b, []).append(b2)
            stageable[b] = False
            stageable.append(False)

        return apply

    def _temporary_fix(self, a: int, z: int, d: int, t: int):
        def apply(batch: _Batch, stageable: list[bool]) -> None:
            bw = self.state.settings.migration_gbps
            batch.front.append(batch.unit([z], [d], [t], [bw], [TEMPORARY], [-1]))
            batch.after.setdefault(a, []).append(batch.unit([z], [t], [d], [bw], [TEMPORARY], [-1]))
            stageable.extend([False, False])

        return apply

    # -- explanations --------------------------------------------------------------------
    def explain(self, pending: np.ndarray) -> dict[int, str]:
        """A reason for every unit left pending: what blocks it and what it waits on."""
        stuck = self.diagnose(pending)
        in_cycle = {u for scc in strongly_connected(stuck) if len(scc) > 1 for u in scc}
        c, s, mv = self.c, self.state, self.moves
        free = s.free()
        out = {}
        for u, info in stuck.items():
            if info.code == FAIL_CAPACITY and info.host >= 0:
                r, h = info.resource, info.host
                need = self._need(self.units.of(u))[h][r]
                text = (
                    f"{c.hosts.ids[h]} lacks {c.resources[r]}: needs {need:g}, "
                    f"{max(free[h, r], 0.0):g} free of {c.hosts.capacity[h, r]:g}"
                )
            elif info.code == FAIL_SPREAD:
                g = int(s.vm_group[info.vm])
                level = SpreadLevel(int(s.g_level[g]))
                where = _domain_name(c, level, info.host)
                text = (
                    f"replica group {c.anti_affinity.names[g]} allows {int(s.g_limit[g])} per "
                    f"{level.name.lower()} and {where} is full"
                )
            elif info.code == FAIL_SOURCE:
                text = f"{c.vms.ids[info.vm]} has not reached this move's source (its earlier leg is blocked)"
            else:
                text = "cannot start"
            if info.waits_on:
                ids = sorted({str(c.vms.ids[mv.vm[m]]) for w in info.waits_on for m in self.units.of(w)})
                shown = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
                text += f"; waits for blocked move(s) of {shown}"
            elif info.code in (FAIL_CAPACITY, FAIL_SPREAD):
                text += "; no pending move frees it"
            if u in in_cycle:
                text += "; wait cycle with no host able to stage any of its VMs"
            out[u] = text
        return out


@njit(cache=True)
def _best_staging_host(
    vms,
    src,
    avoid,
    room,
    arriving,
    tol,
    scale,
    usable,
    host_model,
    vm_model,
    rack,
    zone,
    region,
    demand,
    loc,
    x0,
    vm_group,
    g_ptr,
    g_members,
    g_level,
    g_limit,
    domains,
):
    """The staging host: allowed, with room, GPU model and spread for every VM of ``vms``;
    highest rank (keeps room for the moves due there, same rack, zone, region as ``src``),
    then the most room (scaled, smallest over resources)."""
    n_res = room.shape[1]
    need = np.zeros(n_res)
    for v in vms:
        for r in range(n_res):
            need[r] += demand[v, r]
    best, best_rank, best_score = -1, -1, -np.inf
    for h in range(room.shape[0]):
        if not usable[h]:
            continue
        skip = False
        for a in avoid:
            if a == h:
                skip = True
        for r in range(n_res):
            if room[h, r] + tol[h, r] < need[r]:
                skip = True
        if skip:
            continue
        for v in vms:
            if vm_model[v] >= 0 and host_model[h] != vm_model[v]:
                skip = True
            g = vm_group[v]
            if g >= 0 and not skip:
                dom = domains[g_level[g]]
                count, start = 1, 0
                for i in range(g_ptr[g], g_ptr[g + 1]):
                    w = g_members[i]
                    if w != v and loc[w] >= 0 and dom[loc[w]] == dom[h]:
                        count += 1
                    if x0[w] >= 0 and dom[x0[w]] == dom[h]:
                        start += 1
                skip = count > max(g_limit[g], start)
        if skip:
            continue
        keeps, score = 8, np.inf
        for r in range(n_res):
            head = room[h, r] - arriving[h, r]
            if head + tol[h, r] < need[r]:
                keeps = 0
            score = min(score, head / scale[r])
        rank = keeps + 4 * (rack[h] == rack[src]) + 2 * (zone[h] == zone[src]) + (region[h] == region[src])
        if rank > best_rank or (rank == best_rank and score > best_score):
            best, best_rank, best_score = h, rank, score
    return best


def _domain_name(cluster, level: SpreadLevel, host: int) -> str:
    if level is SpreadLevel.HOST:
        return f"host {cluster.hosts.ids[host]}"
    if level is SpreadLevel.RACK:
        return f"rack {cluster.topology.racks[cluster.hosts.rack[host]]}"
    return f"zone {cluster.topology.zones[cluster.hosts.zone[host]]}"


def strongly_connected(stuck: dict[int, Stuck]) -> list[list[int]]:
    """Strongly connected components of the wait-on graph (Tarjan, iterative). O(N + E)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    edges_of = {u: [w for w in info.waits_on if w in stuck] for u, info in stuck.items()}
    for root in stuck:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            edges = edges_of[node]
            if i < len(edges):
                work.append((node, i + 1))
                w = edges[i]
                if w not in index:
                    work.append((w, 0))
                elif w in on_stack:
                    low[node] = min(low[node], index[w])
                continue
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                out.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out
