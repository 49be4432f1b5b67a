"""Which moves of the target to keep: cooldown and stability against the previous plan,
``min_benefit_per_move`` and ``max_migrations``. Decisions are per unit (the moves of an
affinity group are kept or dropped together); forced units are never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from cluster_opt.model import Cluster
from cluster_opt.plan.moves import Units
from cluster_opt.plan.settings import PlanSettings


@dataclass
class Selection:
    """Kept units in priority order, per-move benefit after stability penalties, and the
    reason each dropped unit was dropped."""

    order: np.ndarray  # int64[K] kept unit ids, highest priority first
    benefit: np.ndarray  # float64[M] per-move benefit after penalties
    dropped: dict[int, str]


@dataclass
class PreviousMoves:
    """The moves of the previous plan, by VM id: (from host id, to host id)."""

    moves: dict[str, tuple[str | None, str | None]]
    hours_ago: float | None  # None when either snapshot time is unknown

    @classmethod
    def of(cls, previous: dict[str, Any] | None, now: str | None) -> PreviousMoves:
        """From a previous plan.json object and the current snapshot's time (ISO 8601)."""
        if not previous:
            return cls({}, None)
        moves = {str(m["vm"]): (m.get("from"), m.get("to")) for m in previous.get("moves", [])}
        then = previous.get("snapshot_time") or previous.get("created_at")
        hours = None
        if then and now:
            hours = (_time(now) - _time(then)).total_seconds() / 3600.0
        return cls(moves, hours)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def select(
    cluster: Cluster,
    units: Units,
    vm: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    benefit: np.ndarray,
    forced: np.ndarray,
    candidates: np.ndarray,
    settings: PlanSettings,
    previous: PreviousMoves,
) -> Selection:
    """Apply the budgets to the ``candidates`` units (the ones not blocked outright).
    Cooldown and stability concern migrations only (placing a pending VM is no bounce).

    Order: forced units first, then by benefit per move (descending), then unit id.
    O(M + U log U).
    """
    benefit = benefit.astype(np.float64).copy()
    dropped: dict[int, str] = {}
    ids = cluster.vms.ids[vm].astype(str)
    before = np.zeros(len(vm), dtype=bool)
    if previous.moves:
        before = np.isin(ids, list(previous.moves)) & (src >= 0)
        prev_src = np.array(
            [str(previous.moves[i][0]) if b else "" for i, b in zip(ids, before, strict=True)]
        )
        back = before & (dst >= 0) & (cluster.hosts.ids[np.maximum(dst, 0)].astype(str) == prev_src)
        benefit -= settings.stability_penalty * (before.astype(np.float64) + back)
    unit_forced = units.reduce(forced.astype(np.int64)) > 0
    unit_benefit = units.reduce(benefit)
    size = np.diff(units.ptr)
    cooling = previous.hours_ago is None or previous.hours_ago < settings.cooldown_hours
    cool = (
        (units.reduce(before.astype(np.int64)) > 0) & cooling & (settings.cooldown_hours > 0) & ~unit_forced
    )
    low = np.zeros(len(units), dtype=bool)
    if settings.min_benefit_per_move is not None:
        low = (unit_benefit < settings.min_benefit_per_move * size) & ~unit_forced & ~cool
    ago = "" if previous.hours_ago is None else f" {previous.hours_ago:.1f} h ago"
    for u in candidates[cool[candidates]].tolist():
        dropped[u] = f"cooldown: moved by the previous plan{ago} (cooldown {settings.cooldown_hours:g} h)"
    for u in candidates[low[candidates]].tolist():
        dropped[u] = (
            f"benefit {unit_benefit[u] / size[u]:.4g} per move is below min_benefit_per_move "
            f"{settings.min_benefit_per_move:g}"
        )
    kept = candidates[~(cool | low)[candidates]]
    per_move = unit_benefit[kept] / np.maximum(size[kept], 1)
    order = kept[np.lexsort((kept, -per_move, ~unit_forced[kept]))]
    if settings.max_migrations is not None:
        used = 0
        within = []
        for u in order.tolist():
            if unit_forced[u] or used + size[u] <= settings.max_migrations:
                within.append(u)
                used += int(size[u])
            else:
                dropped[u] = f"over the max_migrations budget of {settings.max_migrations}"
        order = np.array(within, dtype=np.int64)
    return Selection(order, benefit, dropped)
