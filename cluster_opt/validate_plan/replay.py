"""Replay a plan wave by wave from the snapshot's placement and report every broken rule.

Written apart from the planner on purpose (it imports only the model and the snapshot
I/O), so that a planner bug cannot hide itself. During a wave every moving VM counts on its
source and on its destination. Limits that the start already breaks are not held against
the plan, but may not get worse: a host may carry at most max(capacity, its load at the
start), a replica group max(limit, its members at the start) per domain, an affinity group
max(1, its hosts at the start).

Rules (ids used in reports): ``schema``, ``unknown-vm``, ``unknown-host``, ``no-op``,
``duplicate-vm``, ``source``, ``unmigratable``, ``host-state``, ``forbidden-host``,
``gpu-model``, ``capacity``, ``anti-affinity``, ``replica-in-flight``, ``affinity``,
``concurrency-host``, ``concurrency-rack``, ``concurrency-global``, ``bandwidth``
(per-move rate), ``bandwidth-host``, ``bandwidth-rack``, ``bandwidth-zone``,
``bandwidth-region``, ``timing``, ``window``, ``summary``, ``final-state``, ``drain``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cluster_opt.model import Cluster, HostState, SpreadLevel
from cluster_opt.validate_plan.document import PlanArrays, Violation, parse

#: Slack on capacity sums (relative to the capacity, at least an absolute 1e-6).
CAPACITY_SLACK = 1e-6
#: Slack on times and bandwidth sums.
TIME_SLACK = 1e-6


@dataclass
class Report:
    """The outcome of a check: safe when no rule is broken."""

    violations: list[Violation]
    moves: int
    waves: int

    @property
    def safe(self) -> bool:
        return not self.violations

    def by_rule(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for v in self.violations:
            out[v.rule] = out.get(v.rule, 0) + 1
        return out


def _members_by_code(codes: np.ndarray):
    """A function: code -> the VMs with that code (ascending). O(V log V) once."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]

    def members(code: int) -> np.ndarray:
        lo, hi = np.searchsorted(sorted_codes, [code, code + 1])
        return order[lo:hi]

    return members


def _limit(value: Any) -> float:
    return float("inf") if value is None else float(value)


class _Replay:
    def __init__(self, cluster: Cluster, doc: dict[str, Any], plan: PlanArrays, out: list[Violation]):
        self.c = cluster
        self.doc = doc
        self.p = plan
        self.out = out
        settings = doc.get("settings") or {}
        conc = settings.get("concurrency") or {}
        links = settings.get("links") or {}
        self.settings = settings
        self.max_host = _limit(conc.get("per_host"))
        self.max_rack = _limit(conc.get("per_rack"))
        self.max_global = _limit(conc.get("global"))
        self.links = {k: _limit(links.get(f"{k}_gbps")) for k in ("host", "rack", "zone", "region")}
        self.loc = cluster.vms.current.astype(np.int64).copy()
        self.load = self._loads(self.loc)
        cap = cluster.hosts.capacity
        self.allowed = np.maximum(cap, self.load) + CAPACITY_SLACK * np.maximum(cap, 1.0)
        self.levels = {
            SpreadLevel.HOST: np.arange(cluster.n_hosts),
            SpreadLevel.RACK: cluster.hosts.rack.astype(np.int64),
            SpreadLevel.ZONE: cluster.hosts.zone.astype(np.int64),
        }
        self.group_domains = [self.levels[SpreadLevel(int(lv))] for lv in cluster.anti_affinity.level]
        self.group_members = _members_by_code(cluster.vms.anti_affinity)
        self.affinity_members = _members_by_code(cluster.vms.affinity)
        self.group_start = self._group_domain_counts(self.loc)
        self.aff_start = self._affinity_hosts(self.loc)
        names = {str(h): i for i, h in enumerate(cluster.hosts.ids)}
        self.forbidden = np.zeros(cluster.n_hosts, dtype=bool)
        for h in doc.get("forbidden_hosts") or []:
            if str(h) in names:
                self.forbidden[names[str(h)]] = True

    # -- helpers -------------------------------------------------------------------------
    def _loads(self, loc: np.ndarray) -> np.ndarray:
        load = np.zeros_like(self.c.hosts.capacity)
        placed = loc >= 0
        np.add.at(load, loc[placed], self.c.vms.demand[placed])
        return load

    def _group_domain_counts(self, loc: np.ndarray):
        """A function (replica group, domain) -> members there under ``loc``. O(V log V)."""
        groups = self.c.vms.anti_affinity
        vms = np.flatnonzero((groups >= 0) & (loc >= 0))
        levels = np.stack([self.levels[level] for level in SpreadLevel])
        dom = levels[self.c.anti_affinity.level[groups[vms]].astype(np.int64), loc[vms]]
        width = self.c.n_hosts + 1
        keys, counts = np.unique(groups[vms].astype(np.int64) * width + dom, return_counts=True)

        def count(group: int, domain: int) -> int:
            key = group * width + domain
            i = int(np.searchsorted(keys, key))
            return int(counts[i]) if i < len(keys) and keys[i] == key else 0

        return count

    def _affinity_hosts(self, loc: np.ndarray) -> dict[int, int]:
        """affinity group -> distinct hosts its placed members use."""
        hosts: dict[int, set[int]] = {}
        aff = self.c.vms.affinity
        for v in np.flatnonzero((aff >= 0) & (loc >= 0)).tolist():
            hosts.setdefault(int(aff[v]), set()).add(int(loc[v]))
        return {a: len(s) for a, s in hosts.items()}

    def _ids(self, m: int) -> tuple[str, str | None, str | None]:
        h = self.c.hosts.ids
        p = self.p
        return (
            str(self.c.vms.ids[p.vm[m]]),
            None if p.src[m] < 0 else str(h[p.src[m]]),
            None if p.dst[m] < 0 else str(h[p.dst[m]]),
        )

    def flag(self, rule: str, detail: str, wave: int | None, m: int | None = None) -> None:
        ids = self._ids(m) if m is not None else (None, None, None)
        self.out.append(Violation(rule, detail, wave, *ids))

    # -- per-move rules ------------------------------------------------------------------
    def moves_alone(self, w: int, ms: np.ndarray) -> None:
        """Rules of single moves, checked for the whole wave at once. O(k log k)."""
        c, p = self.c, self.p
        v, s, d = p.vm[ms], p.src[ms], p.dst[ms]
        here = self.loc[v]
        dd = np.maximum(d, 0)
        need = c.vms.gpu_model[v]
        rate = float(self.settings.get("migration_gbps", 0.0))
        first = np.zeros(len(ms), dtype=bool)
        first[np.unique(v, return_index=True)[1]] = True
        checks = [
            ("duplicate-vm", ~first, lambda i: "the VM moves twice in one wave"),
            ("no-op", s == d, lambda i: "from and to are the same"),
            (
                "source",
                here != s,
                lambda i: (
                    f"the VM is on {'nowhere' if here[i] < 0 else c.hosts.ids[here[i]]} when the wave starts"
                ),
            ),
            (
                "unmigratable",
                (here >= 0) & ~c.vms.migratable[v] & (d != here),
                lambda i: "the VM is not migratable",
            ),
            (
                "host-state",
                (d >= 0) & (c.hosts.state[dd] != HostState.ACTIVE),
                lambda i: f"destination is {HostState(int(c.hosts.state[d[i]])).name.lower()}",
            ),
            (
                "forbidden-host",
                (d >= 0) & self.forbidden[dd],
                lambda i: "destination is a host that must receive nothing",
            ),
            (
                "gpu-model",
                (d >= 0) & (need >= 0) & (c.hosts.gpu_model[dd] != need),
                lambda i: f"destination lacks GPU model {c.gpu_models[need[i]]}",
            ),
            (
                "bandwidth",
                (s >= 0) & (d >= 0) & (p.gbps[ms] + TIME_SLACK < rate),
                lambda i: (
                    f"a live migration declares {p.gbps[ms[i]]:g} Gbit/s, below migration_gbps {rate:g}"
                ),
            ),
        ]
        for rule, bad, detail in checks:
            for i in np.flatnonzero(bad).tolist():
                self.flag(rule, detail(i), w, int(ms[i]))

    # -- whole-wave rules ----------------------------------------------------------------
    def capacity(self, w: int, ms: np.ndarray) -> None:
        p, c = self.p, self.c
        arriving = ms[p.dst[ms] >= 0]
        during = self.load.copy()
        np.add.at(during, p.dst[arriving], c.vms.demand[p.vm[arriving]])
        over = during > self.allowed
        for h, r in zip(*np.nonzero(over), strict=True):
            movers = arriving[p.dst[arriving] == h]
            cap = c.hosts.capacity[h, r]
            self.flag(
                "capacity",
                f"{c.hosts.ids[h]} carries {during[h, r]:g} {c.resources[r]} during the wave "
                f"(capacity {cap:g}, counting {len(movers)} VM(s) arriving)",
                w,
                int(movers[0]) if len(movers) else None,
            )

    def spread(self, w: int, ms: np.ndarray) -> None:
        p, c = self.p, self.c
        groups = c.vms.anti_affinity
        arriving = ms[(p.dst[ms] >= 0) & (groups[p.vm[ms]] >= 0)]
        for g in np.unique(groups[p.vm[arriving]]).tolist():
            dom = self.group_domains[g]
            members = self.group_members(g)
            present: dict[int, set[int]] = {}
            for v in members[self.loc[members] >= 0].tolist():
                present.setdefault(int(dom[self.loc[v]]), set()).add(v)
            mine = arriving[groups[p.vm[arriving]] == g]
            for m in mine.tolist():
                present.setdefault(int(dom[p.dst[m]]), set()).add(int(p.vm[m]))
            limit = int(c.anti_affinity.max_per_domain[g])
            for m in mine.tolist():
                d = int(dom[p.dst[m]])
                allowed = max(limit, self.group_start(g, d))
                if len(present[d]) > allowed:
                    self.flag(
                        "anti-affinity",
                        f"replica group {c.anti_affinity.names[g]} has {len(present[d])} "
                        f"members in one {SpreadLevel(int(c.anti_affinity.level[g])).name.lower()} "
                        f"during the wave (limit {allowed})",
                        w,
                        m,
                    )

    def in_flight(self, w: int, ms: np.ndarray) -> None:
        p, c = self.p, self.c
        groups = c.vms.anti_affinity[p.vm[ms]]
        aff = c.vms.affinity[p.vm[ms]]
        key = np.where(aff >= 0, aff, -1 - p.vm[ms])  # members of one affinity group move as one
        for g in np.unique(groups[groups >= 0]).tolist():
            sel = groups == g
            if len(np.unique(key[sel])) > 1:
                self.flag(
                    "replica-in-flight",
                    f"{int(sel.sum())} members of replica group "
                    f"{c.anti_affinity.names[g]} move in the same wave",
                    w,
                    int(ms[sel][1]),
                )

    def concurrency(self, w: int, ms: np.ndarray) -> None:
        p, c = self.p, self.c
        hosts = np.concatenate([p.src[ms][p.src[ms] >= 0], p.dst[ms][p.dst[ms] >= 0]])
        per_host = np.bincount(hosts, minlength=c.n_hosts)
        for h in np.flatnonzero(per_host > self.max_host).tolist():
            self.flag(
                "concurrency-host", f"{per_host[h]} moves touch {c.hosts.ids[h]} (limit {self.max_host:g})", w
            )
        rack = c.hosts.rack
        touched = []
        for m in ms.tolist():
            racks = {int(rack[h]) for h in (p.src[m], p.dst[m]) if h >= 0}
            touched.extend(racks)
        per_rack = np.bincount(np.array(touched, dtype=np.int64), minlength=len(c.topology.racks))
        for k in np.flatnonzero(per_rack > self.max_rack).tolist():
            self.flag(
                "concurrency-rack",
                f"{per_rack[k]} moves touch rack {c.topology.racks[k]} (limit {self.max_rack:g})",
                w,
            )
        if len(ms) > self.max_global:
            self.flag("concurrency-global", f"{len(ms)} moves in one wave (limit {self.max_global:g})", w)

    def bandwidth(self, w: int, ms: np.ndarray) -> None:
        p, c = self.p, self.c
        live = ms[(p.src[ms] >= 0) & (p.dst[ms] >= 0)]
        s, d, b = p.src[live], p.dst[live], p.gbps[live]
        levels = {
            "host": (np.arange(c.n_hosts), c.hosts.ids),
            "rack": (c.hosts.rack, c.topology.racks),
            "zone": (c.hosts.zone, c.topology.zones),
            "region": (c.hosts.region, c.topology.regions),
        }
        for name, (code, labels) in levels.items():
            crossing = np.ones(len(live), bool) if name == "host" else code[s] != code[d]
            use = np.bincount(
                np.concatenate([code[s][crossing], code[d][crossing]]),
                weights=np.concatenate([b[crossing], b[crossing]]),
                minlength=len(labels),
            )
            budget = self.links[name]
            for k in np.flatnonzero(use > budget * (1 + TIME_SLACK)).tolist():
                self.flag(
                    f"bandwidth-{name}",
                    f"{use[k]:g} Gbit/s over the {name} link of {labels[k]} (budget {budget:g})",
                    w,
                )

    def finish(self, w: int, ms: np.ndarray) -> None:
        """End of the wave: sources released, VMs on their destinations, affinity kept."""
        p, c = self.p, self.c
        leaving = ms[p.src[ms] >= 0]
        np.subtract.at(self.load, self.loc[p.vm[leaving]].clip(0), c.vms.demand[p.vm[leaving]])
        arriving = ms[p.dst[ms] >= 0]
        np.add.at(self.load, p.dst[arriving], c.vms.demand[p.vm[arriving]])
        self.loc[p.vm[ms]] = p.dst[ms]
        aff = c.vms.affinity
        moved_groups = np.unique(aff[p.vm[ms]])
        for a in moved_groups[moved_groups >= 0].tolist():
            members = self.affinity_members(a)
            used = len(np.unique(self.loc[members][self.loc[members] >= 0]))
            allowed = max(1, self.aff_start.get(a, 0))
            if used > allowed:
                m = int(ms[aff[p.vm[ms]] == a][0])
                self.flag(
                    "affinity",
                    f"affinity group {c.affinity_groups[a]} is on {used} hosts after the "
                    f"wave (allowed {allowed})",
                    w,
                    m,
                )

    def timing(self, waves: list[int]) -> float:
        p = self.p
        clock = 0.0
        for w in waves:
            ms = np.flatnonzero(p.wave == w)
            start = p.wave_start.get(w)
            length = p.wave_seconds.get(w)
            if start is None or length is None:
                self.flag("timing", "the wave is missing from the waves list", w)
                continue
            if abs(start - clock) > TIME_SLACK * max(1.0, clock):
                self.flag(
                    "timing", f"the wave starts at {start:g} s; the previous waves end at {clock:g} s", w
                )
            late = ms[np.abs(p.start_s[ms] - start) > TIME_SLACK * max(1.0, start)]
            for m in late.tolist():
                self.flag(
                    "timing", f"the move starts at {p.start_s[m]:g} s, not with its wave at {start:g} s", w, m
                )
            long = ms[p.seconds[ms] > length * (1 + TIME_SLACK)]
            for m in long.tolist():
                self.flag(
                    "timing", f"the move takes {p.seconds[m]:g} s, longer than its wave ({length:g} s)", w, m
                )
            self._estimate(w, ms)
            clock = start + length
        return clock

    def _estimate(self, w: int, ms: np.ndarray) -> None:
        """Each move's seconds must match the documented estimate."""
        s, p, c = self.settings, self.p, self.c
        try:
            setup = float(s["setup_seconds"])
            factor = float(s["dirty_page_factor"])
        except (KeyError, TypeError, ValueError):
            return
        mem = c.vms.demand[p.vm[ms], list(c.resources).index("mem_gb")]
        live = (p.src[ms] >= 0) & (p.dst[ms] >= 0)
        rate = np.where(p.gbps[ms] > 0, p.gbps[ms], 1.0)
        expect = np.where(live, setup + mem * 8.0 / rate * factor, setup)
        for m in ms[np.abs(p.seconds[ms] - expect) > TIME_SLACK * np.maximum(expect, 1.0)].tolist():
            k = int(np.flatnonzero(ms == m)[0])
            self.flag(
                "timing",
                f"the move is estimated at {p.seconds[m]:g} s; its memory and rate give {expect[k]:g} s",
                w,
                m,
            )


def check_plan(cluster: Cluster, doc: dict[str, Any], final: np.ndarray | None = None) -> Report:
    """Replay plan ``doc`` (a plan.json object) on ``cluster`` from its current placement.

    ``final`` is the assignment the plan states it ends in (target.parquet); it is compared
    with the end of the replay when given. O(W (V_g + H R) + M) for W waves and V_g VMs in
    the replica and affinity groups that move.
    """
    out: list[Violation] = []
    plan = parse(doc, cluster, out)
    r = _Replay(cluster, doc, plan, out)
    waves = sorted(set(plan.wave.tolist()))
    listed = sorted(plan.wave_seconds)
    if waves and waves != list(range(1, waves[-1] + 1)):
        out.append(
            Violation("schema", f"waves must be numbered 1, 2, ... without gaps; moves use {waves[:10]}")
        )
    for w in waves:
        ms = np.flatnonzero(plan.wave == w)
        r.moves_alone(w, ms)
        r.capacity(w, ms)
        r.spread(w, ms)
        r.in_flight(w, ms)
        r.concurrency(w, ms)
        r.bandwidth(w, ms)
        r.finish(w, ms)
    total = r.timing(listed if listed else waves)
    summary = doc.get("summary") or {}
    window = (doc.get("settings") or {}).get("window_seconds")
    if window is not None and total > float(window) * (1 + TIME_SLACK):
        out.append(Violation("window", f"the plan takes {total:g} s; the window is {float(window):g} s"))
    _summary(summary, plan, listed, total, len(doc.get("moves") or []), out)
    if final is not None:
        _final(cluster, r.loc, np.asarray(final), out)
    _drain(cluster, doc, r.loc, out)
    return Report(out, len(doc.get("moves") or []), len(listed))


def _summary(summary: dict, plan: PlanArrays, listed: list[int], total: float, n_moves: int, out) -> None:
    claims = {"moves": n_moves, "waves": len(listed)}
    for key, actual in claims.items():
        if key in summary and summary[key] != actual:
            out.append(Violation("summary", f"summary says {summary[key]} {key}; the plan has {actual}"))
    if "estimated_seconds" in summary and abs(float(summary["estimated_seconds"]) - total) > TIME_SLACK * max(
        1.0, total
    ):
        out.append(
            Violation(
                "summary", f"summary says {summary['estimated_seconds']:g} s; the waves add up to {total:g} s"
            )
        )


def _final(cluster: Cluster, loc: np.ndarray, final: np.ndarray, out: list[Violation]) -> None:
    if final.shape != loc.shape:
        out.append(
            Violation("final-state", f"the stated target has {final.shape} entries; expected {loc.shape}")
        )
        return
    wrong = np.flatnonzero(final != loc)
    h = np.asarray([*map(str, cluster.hosts.ids), "nowhere"], dtype=object)
    for v in wrong[:50].tolist():
        out.append(
            Violation(
                "final-state",
                f"the replay leaves the VM on {h[loc[v]]}; the stated target says {h[final[v]]}",
                None,
                str(cluster.vms.ids[v]),
            )
        )
    if len(wrong) > 50:
        out.append(
            Violation("final-state", f"... and {len(wrong) - 50} more VMs differ from the stated target")
        )


def _drain(cluster: Cluster, doc: dict[str, Any], loc: np.ndarray, out: list[Violation]) -> None:
    drain = doc.get("drain")
    if not drain or not drain.get("complete"):
        return
    names = {str(h): i for i, h in enumerate(cluster.hosts.ids)}
    for host in drain.get("hosts") or []:
        h = names.get(str(host))
        left = 0 if h is None else int((loc == h).sum())
        if left:
            out.append(Violation("drain", f"the drain is stated complete but {host} still runs {left} VM(s)"))
