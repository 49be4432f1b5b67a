"""Maintenance drains: a minimal-move target that empties hosts, or why it cannot.

Only the VMs on the drained hosts move (the fewest moves that empty them): they are taken
off and re-inserted on the other active hosts by the construction heuristics of
:func:`cluster_opt.solve.construct.insert`, under every hard rule (capacity, GPU model,
spread, affinity groups together), preferring hosts in the VM's own zone, then its own
region. Several heuristics are tried, and then the VMs that found no host are inserted
first; the try that leaves the fewest VMs (then the least memory) behind wins. VMs that
cannot move at all (not migratable, or tied by an affinity group to one that is not) and
VMs that fit nowhere stay where they are: they are the blocking set, each with the
capacity or rule that blocks it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cluster_opt.evaluate import Problem
from cluster_opt.evaluate.kernels import loads_and_counts
from cluster_opt.model import Cluster, SpreadLevel
from cluster_opt.plan.planner import Plan, build_plan
from cluster_opt.plan.settings import PlanSettings
from cluster_opt.solve.construct import insert

#: Heuristics tried for the re-insertion, best fit decreasing first.
HEURISTICS = ("bfd", "ffd", "wfd", "dpd")


@dataclass
class DrainTarget:
    """A drain's target and, when it is partial, what blocks it."""

    hosts: np.ndarray  # int64[D] drained hosts
    target: np.ndarray  # int32[V]; blocking VMs stay on their host
    moving: np.ndarray  # int64[N] VMs the target moves off the drained hosts
    blocking: np.ndarray  # int64[B] VMs that stay on a drained host
    reasons: list[str]  # per blocking VM
    explanation: list[str]  # what blocks, in aggregate
    heuristic: str

    @property
    def complete(self) -> bool:
        return not len(self.blocking)


def drained_hosts(
    cluster: Cluster, hosts: list[str] | None = None, rack: str | None = None, zone: str | None = None
) -> np.ndarray:
    """bool[H] of the hosts named (ids), or of one rack / zone given by its full name
    (``region/zone/rack``, ``region/zone``) or a unique shorter suffix. Raises ValueError
    naming what is unknown or ambiguous."""
    out = np.zeros(cluster.n_hosts, dtype=bool)
    if hosts:
        unknown = [h for h in hosts if h not in cluster.host_index]
        if unknown:
            raise ValueError(f"--hosts: unknown host(s) {', '.join(unknown)}")
        out[[cluster.host_index[h] for h in hosts]] = True
    if rack:
        out |= cluster.hosts.rack == _resolve(cluster.topology.racks, rack, "--rack")
    if zone:
        out |= cluster.hosts.zone == _resolve(cluster.topology.zones, zone, "--zone")
    if not out.any():
        raise ValueError("nothing to drain: give --hosts, --rack or --zone")
    return out


def _resolve(names: tuple[str, ...], wanted: str, option: str) -> int:
    matches = [i for i, n in enumerate(names) if n == wanted or n.endswith("/" + wanted)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        shown = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")
        raise ValueError(f"{option} {wanted!r}: no such name; have {shown}")
    raise ValueError(f"{option} {wanted!r} is ambiguous: {', '.join(names[i] for i in matches)}")


def drain_target(
    problem: Problem, drained: np.ndarray, heuristics: tuple[str, ...] = HEURISTICS
) -> DrainTarget:
    """The minimal-move target that empties the ``drained`` hosts (bool[H]), or the best
    partial one. O(len(heuristics) x insertion + B (H R + g)) for B blocking VMs."""
    c = problem.cluster
    x0 = c.current_assignment()
    drained = np.asarray(drained, dtype=bool)
    on = np.flatnonzero((x0 >= 0) & drained[np.maximum(x0, 0)])
    stuck, stuck_reason = _cannot_move(c, on)
    movable = np.setdiff1d(on, stuck)
    mem = c.resource_index("mem_gb")
    best: tuple | None = None
    for name in heuristics:
        tries = [_reinsert(problem, x0, [movable], name, drained)]
        if best is not None and len(best[2]):
            tries.append(_reinsert(problem, x0, [best[2], np.setdiff1d(movable, best[2])], name, drained))
        for x in tries:
            left = movable[x[movable] < 0]
            key = (len(left), float(c.vms.demand[left, mem].sum()))
            if best is None or key < best[0]:
                best = (key, x, left, name)
        if not len(best[2]):
            break
    assert best is not None
    _, x, left, name = best
    explain = _Explainer(problem, x, drained)
    reasons = [stuck_reason[v] for v in stuck.tolist()] + [explain.vm(v) for v in left.tolist()]
    blocking = np.concatenate([stuck, left]).astype(np.int64)
    target = x.copy()
    target[blocking] = x0[blocking]
    moving = movable[target[movable] != x0[movable]]
    return DrainTarget(
        hosts=np.flatnonzero(drained),
        target=target,
        moving=moving,
        blocking=blocking,
        reasons=reasons,
        explanation=explain.aggregate(on, blocking) if len(blocking) else [],
        heuristic=name,
    )


def _reinsert(
    problem: Problem, x0: np.ndarray, batches: list[np.ndarray], heuristic: str, drained
) -> np.ndarray:
    """Take the VMs of ``batches`` off their hosts and insert them again, batch after batch;
    each batch first on hosts of the VM's own zone, then of its own region, then anywhere
    (shorter, cheaper links and the same latency). Never on a ``drained`` host."""
    c = problem.cluster
    x = x0.copy()
    x[np.concatenate(batches)] = -1
    for batch in batches:
        for codes in (c.hosts.zone, c.hosts.region, None):
            left = batch[x[batch] < 0]
            if not len(left):
                break
            if codes is None:
                x = insert(problem, x, left, heuristic=heuristic, forbidden=drained)
                continue
            home = codes[x0[left]]
            for g in np.unique(home).tolist():
                x = insert(problem, x, left[home == g], heuristic=heuristic, forbidden=drained | (codes != g))
    return x


def _cannot_move(c: Cluster, on: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
    """VMs on the drained hosts that may not move: not migratable, or in an affinity group
    with a member that is not."""
    pinned = on[~c.vms.migratable[on]]
    reasons = {int(v): "VM is not migratable" for v in pinned}
    aff = c.vms.affinity
    for a in np.unique(aff[pinned][aff[pinned] >= 0]).tolist():
        anchor = c.vms.ids[pinned[aff[pinned] == a][0]]
        for v in on[(aff[on] == a) & c.vms.migratable[on]].tolist():
            reasons[v] = f"affinity group {c.affinity_groups[a]} is tied to {anchor}, which is not migratable"
    return np.array(sorted(reasons), dtype=np.int64), reasons


class _Explainer:
    """Why VMs fit nowhere outside the drain, against an assignment of the others."""

    def __init__(self, problem: Problem, x: np.ndarray, drained: np.ndarray) -> None:
        c = problem.cluster
        self.problem = problem
        self.c = c
        self.x = x
        self.allowed = c.usable & ~drained
        load = loads_and_counts(x[None, :].astype(np.int32), c.vms.demand, c.n_hosts)[0][0]
        self.free = c.hosts.capacity - load

    def _unit(self, v: int) -> tuple[np.ndarray, str]:
        """The VMs that must share v's host (its unplaced affinity group) and a label."""
        a = self.c.vms.affinity[v]
        if a < 0:
            return np.array([v]), "VM"
        members = np.flatnonzero((self.c.vms.affinity == a) & (self.x < 0))
        return members, f"affinity group {self.c.affinity_groups[a]} ({len(members)} VMs)"

    def vm(self, v: int) -> str:
        """The first rule that leaves no host for VM ``v``. O(H R + g)."""
        c = self.c
        members, label = self._unit(v)
        need = c.vms.demand[members].sum(axis=0)
        hosts = self.allowed.copy()
        where = "outside the drain"
        model = c.vms.gpu_model[members]
        if (model >= 0).any():
            m = int(model[model >= 0][0])
            hosts &= c.hosts.gpu_model == m
            where = f"with GPU model {c.gpu_models[m]}"
            if not hosts.any():
                return f"no active host outside the drain has GPU model {c.gpu_models[m]}"
        room = hosts & (self.free >= need - 1e-9).all(axis=1)
        if not room.any():
            return self._capacity(hosts, need, label, where)
        for w in members.tolist():
            g = c.vms.anti_affinity[w]
            if g >= 0:
                spread = self._spread(g, room)
                if spread:
                    return spread
        return f"{label} fits nowhere {where} under the hard rules"

    def _capacity(self, hosts: np.ndarray, need: np.ndarray, label: str, where: str) -> str:
        c = self.c
        for r in np.flatnonzero(need > 0).tolist():
            most = np.where(hosts, self.free[:, r], -np.inf)
            h = int(np.argmax(most))
            if most[h] < need[r] - 1e-9:
                return (
                    f"no host {where} has {need[r]:g} free {c.resources[r]} for the {label} "
                    f"(most free: {max(most[h], 0.0):g} on {c.hosts.ids[h]})"
                )
        parts = " and ".join(f"{need[r]:g} {c.resources[r]}" for r in np.flatnonzero(need > 0).tolist())
        return f"no host {where} has {parts} free at once for the {label}"

    def _spread(self, g: int, room: np.ndarray) -> str | None:
        """Why replica group ``g`` excludes every host with room, or None."""
        c = self.c
        level = SpreadLevel(int(c.anti_affinity.level[g]))
        dom = c.domain(level)
        limit = int(c.anti_affinity.max_per_domain[g])
        members = np.flatnonzero(c.vms.anti_affinity == g)
        placed = members[self.x[members] >= 0]
        count = np.bincount(dom[self.x[placed]], minlength=c.n_domains(level))
        open_domains = np.unique(dom[room])
        if (count[open_domains] < limit).any():
            return None
        usable = np.unique(dom[self.allowed])
        need = -(-len(members) // limit)
        name = c.anti_affinity.names[g]
        return (
            f"{level.name.lower()} spread of group {name} (max {limit} per {level.name.lower()}) needs "
            f"{need} {level.name.lower()}s, {len(usable)} remain outside the drain"
            if need > len(usable)
            else f"every {level.name.lower()} with room already holds {limit} member(s) of group {name}"
        )

    def aggregate(self, on: np.ndarray, blocking: np.ndarray) -> list[str]:
        """Capacity of the drain against the room left, and the spreads that cannot fit."""
        c = self.c
        demand = c.vms.demand[on].sum(axis=0)
        x0 = c.current_assignment()
        load0 = loads_and_counts(x0[None, :].astype(np.int32), c.vms.demand, c.n_hosts)[0][0]
        room = np.where(self.allowed[:, None], np.maximum(c.hosts.capacity - load0, 0.0), 0.0).sum(axis=0)
        lines = []
        short = [r for r in range(c.n_resources) if demand[r] > room[r] + 1e-9]
        if short:
            lines.append(
                "capacity: the drained hosts carry "
                + ", ".join(f"{demand[r]:,.6g} {c.resources[r]}" for r in short)
                + "; the other active hosts have "
                + ", ".join(f"{room[r]:,.6g}" for r in short)
                + " free"
            )
        groups = np.unique(c.vms.anti_affinity[blocking])
        for g in groups[groups >= 0].tolist():
            level = SpreadLevel(int(c.anti_affinity.level[g]))
            dom = c.domain(level)
            usable = len(np.unique(dom[self.allowed]))
            size = int((c.vms.anti_affinity == g).sum())
            need = -(-size // int(c.anti_affinity.max_per_domain[g]))
            if need > usable:
                lines.append(
                    f"{level.name.lower()} spread of group {c.anti_affinity.names[g]} needs {need} "
                    f"{level.name.lower()}s, {usable} remain"
                )
        lines.append(
            f"{len(blocking)} of {len(on)} VMs on the drained hosts cannot move (listed with their reason)"
        )
        return lines


def plan_drain(
    problem: Problem, drained: np.ndarray, settings: PlanSettings, previous: dict | None = None
) -> tuple[DrainTarget, Plan, dict]:
    """The drain target, the safe plan to it (drained hosts forbidden as destinations), and
    the plan.json ``drain`` section: hosts, whether the plan empties them, and the blocking
    VMs with their reason."""
    c = problem.cluster
    drain = drain_target(problem, drained)
    plan = build_plan(problem, drain.target, settings, previous, forbidden=drained)
    left = np.flatnonzero(np.isin(plan.final, drain.hosts))
    ids, host_ids = c.vms.ids, c.hosts.ids
    section = {
        "hosts": [str(host_ids[h]) for h in drain.hosts],
        "complete": not len(left),
        "vms_to_move": int(len(drain.moving) + len(drain.blocking)),
        "heuristic": drain.heuristic,
        "blocking_vms": [
            {"vm": str(ids[v]), "host": str(host_ids[c.vms.current[v]]), "reason": r}
            for v, r in zip(drain.blocking.tolist(), drain.reasons, strict=True)
        ],
        "explanation": drain.explanation,
        "left_on_drained_hosts": len(left),
    }
    return drain, plan, section
