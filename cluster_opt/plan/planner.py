"""``build_plan``: from the current placement to a target, in waves that are safe at every
step (see :mod:`cluster_opt.plan.waves` for the rules and docs/plan-format.md).

Pipeline: moves between the two assignments -> units (affinity groups together) -> moves
that can never run are blocked (not migratable, bad destination, split affinity group,
larger than a limit) -> budgets (cooldown, stability, min benefit, max migrations) ->
waves in priority order, wait cycles broken by staging or temporary moves -> durations ->
cut at the best prefix that fits the maintenance window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cluster_opt.evaluate import Evaluation, Problem, evaluate
from cluster_opt.plan.benefit import MoveValues, move_values
from cluster_opt.plan.budget import PreviousMoves, select
from cluster_opt.plan.cycles import CycleBreaker
from cluster_opt.plan.moves import (
    MIGRATE,
    RETURN,
    STAGING,
    TARGET,
    TEMPORARY,
    Units,
    affinity_splits,
    affinity_units,
    changed_vms,
    move_kind,
    static_blocks,
)
from cluster_opt.plan.settings import PlanSettings
from cluster_opt.plan.timing import best_prefix, move_seconds, wave_times
from cluster_opt.plan.waves import MoveTable, WaveState

#: Value of a forced move when choosing the best prefix for a window (like a hard term's weight).
FORCED_VALUE = 1e6


@dataclass
class Unmoved:
    """VMs the target wants elsewhere that the plan leaves where they end: ``src`` is where
    the plan leaves them, ``dst`` where the target wanted them."""

    vm: np.ndarray  # int64[N]
    src: np.ndarray  # int64[N]
    dst: np.ndarray  # int64[N]
    reason: list[str]

    def __len__(self) -> int:
        return len(self.vm)


@dataclass
class Plan:
    """An ordered, safe migration plan. Moves are sorted by wave, then priority."""

    vm: np.ndarray  # int64[M]
    src: np.ndarray  # int64[M] -1 = pending VM
    dst: np.ndarray  # int64[M] -1 = eviction
    wave: np.ndarray  # int64[M] 0-based
    start_s: np.ndarray  # float64[M] offset from the plan's start
    seconds: np.ndarray  # float64[M] estimated duration
    gbps: np.ndarray  # float64[M] link bandwidth used while moving
    kind: np.ndarray  # int8[M] moves.MIGRATE / PLACE / EVICT
    role: np.ndarray  # int8[M] moves.TARGET / STAGING / TEMPORARY / RETURN
    forced: np.ndarray  # bool[M]
    benefit: np.ndarray  # float64[M] net benefit, score units ($/h by default)
    reason: list[str]
    wave_seconds: np.ndarray  # float64[W]
    wave_start: np.ndarray  # float64[W]
    start: np.ndarray  # int32[V] the placement the plan starts from
    requested: np.ndarray  # int32[V] the target asked for
    final: np.ndarray  # int32[V] where the plan ends
    blocked: Unmoved  # cannot be done safely
    skipped: Unmoved  # left out by choice: budgets, cooldown, window
    settings: PlanSettings
    forbidden: np.ndarray  # bool[H] hosts that receive nothing (drained)
    before: Evaluation | None = None
    after: Evaluation | None = None
    term_change: dict[str, float] = field(default_factory=dict)  # per-move shares, summed

    @property
    def n_moves(self) -> int:
        return len(self.vm)

    @property
    def n_waves(self) -> int:
        return len(self.wave_seconds)

    @property
    def total_seconds(self) -> float:
        return float(self.wave_seconds.sum())

    @property
    def extra_moves(self) -> int:
        """Moves added to break wait cycles: one per staged VM, two per temporary move."""
        return int(np.isin(self.role, (STAGING, TEMPORARY)).sum())

    @property
    def complete(self) -> bool:
        """Whether the plan ends in the requested target."""
        return bool(np.array_equal(self.final, self.requested))


def build_plan(
    problem: Problem,
    target: np.ndarray,
    settings: PlanSettings | None = None,
    previous: dict[str, Any] | None = None,
    *,
    forbidden: np.ndarray | None = None,
    evaluate_states: bool = True,
) -> Plan:
    """A safe plan from the current placement of ``problem.cluster`` to ``target`` (int[V]).

    ``previous``: the previous run's plan.json object (cooldown and stability);
    ``forbidden``: bool[H] hosts that must not receive VMs (drained). Moves that cannot be
    done safely are returned in ``blocked`` with the reason, and the plan is the safe prefix
    that reaches everything else. ``evaluate_states`` adds before/after evaluations.

    O(M log M + W P k (R + g) + H R) for M moves, W waves, P pending units of k moves,
    replica groups of size g, plus O(C (H R + P)) per round of cycle breaking.
    """
    settings = settings or PlanSettings()
    c = problem.cluster
    x0 = c.current_assignment().astype(np.int64)
    target = _checked_target(target, c.n_vms, c.n_hosts)
    forbidden = np.zeros(c.n_hosts, dtype=bool) if forbidden is None else np.asarray(forbidden, dtype=bool)

    vm = changed_vms(x0, target)
    src, dst = x0[vm], target[vm]
    values = move_values(problem, x0, target, vm, forbidden)
    units = affinity_units(c, vm)
    blocked_unit = _blocked_units(c, units, vm, src, dst, x0, target, forbidden, settings)
    candidates = np.setdiff1d(np.arange(len(units)), np.fromiter(blocked_unit, dtype=np.int64))
    chosen = select(
        c,
        units,
        vm,
        src,
        dst,
        values.benefit,
        values.forced,
        candidates,
        settings,
        PreviousMoves.of(previous, c.meta.get("time")),
    )

    kind = move_kind(src, dst)
    bw = np.where(kind == MIGRATE, settings.migration_gbps, 0.0)
    # the table is edited while cycles are broken: it gets its own arrays
    moves = MoveTable(
        vm.copy(),
        src.copy(),
        dst.copy(),
        bw,
        np.full(len(vm), TARGET, np.int8),
        np.arange(len(vm), dtype=np.int64),
    )
    state = WaveState(problem, settings, x0, forbidden)
    u_wave, left = _schedule(state, units, moves, chosen.order, settings)
    blocked_unit.update(CycleBreaker(state, units, moves).explain(left) if len(left) else {})

    plan_moves = _timed_moves(c, settings, units, moves, u_wave, chosen.benefit, values)
    return _assemble(
        problem,
        settings,
        x0,
        target,
        forbidden,
        values,
        units,
        moves,
        plan_moves,
        blocked_unit,
        chosen.dropped,
        evaluate_states,
    )


def _checked_target(target: np.ndarray, n_vms: int, n_hosts: int) -> np.ndarray:
    t = np.asarray(target)
    if t.shape != (n_vms,) or not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"target must be an integer array of shape ({n_vms},); got {t.dtype} {t.shape}")
    if len(t) and (t.min() < -1 or t.max() >= n_hosts):
        raise ValueError(f"target host indices must be in [-1, {n_hosts}); got [{t.min()}, {t.max()}]")
    return t.astype(np.int64)


def _blocked_units(c, units: Units, vm, src, dst, x0, target, forbidden, settings) -> dict[int, str]:
    """Units that can never run, with the reason. O(M R + V log V)."""
    static = static_blocks(c, vm, src, dst, forbidden)
    bad = units.reduce(np.array([s is not None for s in static], dtype=np.int64)) > 0
    size = np.diff(units.ptr)
    group = c.vms.affinity[vm[units.moves[units.ptr[:-1]]]] if len(units) else np.zeros(0, int)
    split = affinity_splits(c, x0, target)
    split_u = (group >= 0) & split[np.maximum(group, 0)] if len(split) else np.zeros(len(units), bool)
    conc = settings.concurrency
    limit = min(conc.per_host, conc.per_rack, conc.global_)
    migrating = units.reduce((src >= 0).astype(np.int64) * (dst >= 0))
    wide = migrating * settings.migration_gbps > min(settings.links.budgets())
    out: dict[int, str] = {}
    for u in np.flatnonzero(bad | split_u | (size > limit) | wide).tolist():
        ms = units.of(u)
        first = next((m for m in ms.tolist() if static[m] is not None), None)
        if first is not None:
            out[u] = (
                static[first]
                if len(ms) == 1
                else f"affinity group member {c.vms.ids[vm[first]]}: {static[first]}"
            )
        elif split_u[u]:
            out[u] = f"the target splits affinity group {c.affinity_groups[group[u]]} over several hosts"
        elif size[u] > limit:
            out[u] = f"affinity group of {size[u]} VMs moving together exceeds a concurrency limit ({limit})"
        else:
            out[u] = f"affinity group of {size[u]} VMs moving together exceeds a link budget"
    return out


def _schedule(state: WaveState, units: Units, moves: MoveTable, order: np.ndarray, settings: PlanSettings):
    """Waves for the units in ``order``, breaking wait cycles while it helps. Returns
    (wave of every unit, -1 = not scheduled; units left stuck)."""
    u_wave = np.full(len(units), -1, dtype=np.int64)
    stageable = [True] * len(units)
    breaker = CycleBreaker(state, units, moves)
    extra = 0
    pending = order
    while True:
        pending = state.run(pending, u_wave, units, moves)
        if not len(pending) or not settings.staging:
            return u_wave, pending
        budget = None if settings.max_extra_moves is None else settings.max_extra_moves - extra
        fixes = breaker.break_cycles(pending, stageable, budget)
        if fixes.extra_moves == 0:
            return u_wave, pending
        extra += fixes.extra_moves
        pending = fixes.pending
        u_wave = np.append(u_wave, np.full(len(units) - len(u_wave), -1, dtype=np.int64))


@dataclass
class _Timed:
    order: np.ndarray  # move indices in plan order (kept ones)
    wave: np.ndarray
    seconds: np.ndarray
    wave_seconds: np.ndarray
    wave_start: np.ndarray
    benefit: np.ndarray
    deferred: np.ndarray  # move indices cut by the window


def _timed_moves(c, settings, units, moves: MoveTable, u_wave, benefit, values: MoveValues) -> _Timed:
    """Durations, the window cut, and the plan order of the scheduled moves. O(M log M)."""
    unit_of = units.unit_of_move(len(moves))
    wave = u_wave[unit_of]
    done = np.flatnonzero(wave >= 0)
    kind = move_kind(moves.src, moves.dst)
    mem = c.vms.demand[moves.vm, c.resource_index("mem_gb")]
    seconds = move_seconds(settings, mem, kind)
    counts_benefit = np.isin(moves.role, (TARGET, RETURN)) & (moves.origin >= 0)
    origin = np.maximum(moves.origin, 0)
    gain = np.where(counts_benefit, benefit[origin], 0.0)
    value = np.where(counts_benefit & values.forced[origin], FORCED_VALUE, 0.0) + gain
    n_waves = int(wave[done].max()) + 1 if len(done) else 0
    length, _ = wave_times(wave[done], seconds[done], n_waves)
    keep = best_prefix(
        length, np.bincount(wave[done], weights=value[done], minlength=n_waves), settings.window_seconds
    )
    deferred = done[wave[done] >= keep]
    done = done[wave[done] < keep]
    length, start = wave_times(wave[done], seconds[done], keep)
    order = done[np.lexsort((done, unit_of[done], wave[done]))]
    return _Timed(order, wave, seconds, length, start, gain, deferred)


def _assemble(
    problem,
    settings,
    x0,
    target,
    forbidden,
    values,
    units,
    moves,
    timed: _Timed,
    blocked_unit,
    dropped_unit,
    evaluate_states,
) -> Plan:
    c = problem.cluster
    o = timed.order
    final = x0.copy()
    final[moves.vm[o]] = moves.dst[o]  # plan order: a VM's last move wins
    reason = _reasons(c, values, moves, o, target)
    kind = move_kind(moves.src[o], moves.dst[o])
    origin = np.maximum(moves.origin[o], 0)
    forced = (moves.origin[o] >= 0) & values.forced[origin] & np.isin(moves.role[o], (TARGET, RETURN))
    plan = Plan(
        vm=moves.vm[o],
        src=moves.src[o],
        dst=moves.dst[o],
        wave=timed.wave[o],
        start_s=timed.wave_start[timed.wave[o]] if len(o) else np.zeros(0),
        seconds=timed.seconds[o],
        gbps=np.where(kind == MIGRATE, moves.bw[o], 0.0),
        kind=kind,
        role=moves.role[o],
        forced=forced,
        benefit=timed.benefit[o],
        reason=reason,
        wave_seconds=timed.wave_seconds,
        wave_start=timed.wave_start,
        start=x0.astype(np.int32),
        requested=target.astype(np.int32),
        final=final.astype(np.int32),
        blocked=_unmoved(units, moves, blocked_unit, final, target),
        skipped=_skipped(units, moves, dropped_unit, timed.deferred, final, target, settings),
        settings=settings,
        forbidden=forbidden,
    )
    first = moves.vm[: len(values.benefit)]  # the target's own moves come first in the table
    done = final[first] == target[first]
    plan.term_change = {t: float(values.delta[done, k].sum()) for k, t in enumerate(values.terms)}
    if evaluate_states:
        plan.before = evaluate(problem, plan.start)
        plan.after = evaluate(problem, plan.final)
    return plan


def _reasons(c, values: MoveValues, moves: MoveTable, o: np.ndarray, target: np.ndarray) -> list[str]:
    """The reason of each move in ``o``: its target move's reason, or what its leg is for."""
    role, origin = moves.role[o], moves.origin[o]
    out = values.reasons(np.maximum(origin, 0))
    host = c.hosts.ids
    for j in np.flatnonzero(role != TARGET).tolist():
        m = int(o[j])
        if role[j] == STAGING:
            out[j] = f"staging: breaks a wait cycle; continues from {host[moves.dst[m]]} in a later wave"
        elif role[j] == RETURN:
            out[j] = f"from staging; {out[j]}"
        elif moves.dst[m] == target[moves.vm[m]]:
            out[j] = "temporary: returns after making room for a wait cycle"
        else:
            out[j] = f"temporary: makes room on {host[moves.src[m]]} for a wait cycle; comes back later"
    return out


def _unmoved(units: Units, moves: MoveTable, reasons: dict[int, str], final, target) -> Unmoved:
    """One row per VM of the given units that does not end on its target host."""
    rows: dict[int, str] = {}
    for u, text in reasons.items():
        for m in units.of(u).tolist():
            v = int(moves.vm[m])
            if final[v] != target[v]:
                rows.setdefault(v, text)
    vms = np.array(sorted(rows), dtype=np.int64)
    return Unmoved(vms, final[vms], target[vms], [rows[v] for v in vms.tolist()])


def _skipped(units, moves, dropped: dict[int, str], deferred, final, target, settings) -> Unmoved:
    reasons = dict(dropped)
    unit_of = units.unit_of_move(len(moves))
    for u in np.unique(unit_of[deferred]).tolist():
        reasons.setdefault(u, f"outside the maintenance window of {settings.window_seconds:g} s")
    return _unmoved(units, moves, reasons, final, target)
