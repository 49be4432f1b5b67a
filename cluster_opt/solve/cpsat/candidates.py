"""Which (unit, host) pairs a CP-SAT model gets a boolean for.

A *unit* is one VM, or the free members of an affinity group, which must share a host and
so share one boolean per host (see :func:`cluster_opt.solve.construct.make_units`). A unit
may go to a host of the model that is usable, has the GPU model every member requires, is
the unit's fixed host if it has one (a pinned or already placed group member), and has room
for the whole unit next to the VMs that stay. With ``limit`` each unit keeps only its
``limit`` cheapest hosts by a cheap score (the pair's weighted price, latency and move cost
plus a share of the host's power and price proportional to the unit's size) and always the
hosts it is told to keep (its hinted and current hosts), which caps the model at
``limit x units`` booleans on large inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cluster_opt.evaluate import Problem
from cluster_opt.solve.construct import Units, make_units
from cluster_opt.solve.cpsat.objective import LinearObjective
from cluster_opt.solve.rules import PlacementRules

#: Largest member x host block scored at once (bounds memory for big inputs).
BLOCK = 2_000_000


@dataclass(frozen=True)
class Pairs:
    """Candidate pairs, sorted by unit then host: ``unit[p]`` indexes ``units``, ``host[p]``
    indexes the model's host list; ``cost[p]`` is the unit's summed pair cost there."""

    units: Units
    unit: np.ndarray  # int64[P]
    host: np.ndarray  # int64[P]
    cost: np.ndarray  # float64[P]
    demand: np.ndarray  # int64[U, R] scaled demand of each unit

    def __len__(self) -> int:
        return len(self.unit)


def host_unit_cost(objective: LinearObjective, hosts: np.ndarray) -> np.ndarray:
    """float64[m]: a host's price and full-load power per unit of its normalised size (the
    share a VM of normalised size 1 would pay for keeping the host on)."""
    p = objective.problem
    size = (p.cluster.hosts.capacity[hosts] / p.resource_scale).sum(axis=1)
    full = objective.weights["energy_watts"] * objective.curves[hosts, -1]
    return (objective.host_fixed[hosts] + full) / np.maximum(size, 1e-9)


def candidate_pairs(
    problem: Problem,
    objective: LinearObjective,
    vms: np.ndarray,
    hosts: np.ndarray,
    x_fixed: np.ndarray,
    room: np.ndarray,
    demand: np.ndarray,
    limit: int | None = None,
    keep: tuple[np.ndarray, ...] = (),
) -> Pairs:
    """The pairs for placing ``vms`` on ``hosts`` (both int64, hosts distinct).

    ``x_fixed`` int32[V] places every other VM (``vms`` are -1 in it); ``room`` int64[m, R]
    is each host's scaled free capacity next to them; ``demand`` int64[V, R] the scaled VM
    sizes; ``keep`` arrays int[V] of hosts each VM keeps regardless of ``limit``.
    O(n m R) time in blocks of at most BLOCK member-host cells.
    """
    rules = PlacementRules.of(problem)
    units = make_units(rules, vms, x_fixed)
    n_units, m = len(units), len(hosts)
    members = units.members
    starts = units.ptr[:-1]
    u_dem = np.add.reduceat(demand[members], starts, axis=0) if n_units else np.zeros((0, demand.shape[1]))
    usable = rules.usable[hosts]
    h_model = rules.host_model[hosts]
    share = host_unit_cost(objective, hosts) if limit is not None else None
    size = (rules.demand[members] / rules.scale).sum(axis=1)
    out_u: list[np.ndarray] = []
    out_h: list[np.ndarray] = []
    block = max(1, BLOCK // max(m, 1))
    u0 = 0
    while u0 < n_units:
        u1 = int(np.searchsorted(units.ptr, units.ptr[u0] + block, side="right")) - 1
        u1 = min(n_units, max(u1, u0 + 1))
        lo, hi = units.ptr[u0], units.ptr[u1]
        mem = members[lo:hi]
        bounds = starts[u0:u1] - lo
        need = rules.vm_model[mem]
        ok_member = (need[:, None] < 0) | (h_model[None, :] == need[:, None])
        ok = np.logical_and.reduceat(ok_member, bounds, axis=0)
        ok &= usable[None, :]
        ok &= (u_dem[u0:u1, None, :] <= room[None, :, :]).all(axis=2)
        fixed = units.fixed[u0:u1]
        ok &= (fixed[:, None] < 0) | (hosts[None, :] == fixed[:, None])
        if limit is not None and m > limit:
            flat_v = np.repeat(mem, m)
            flat_h = np.tile(hosts, len(mem))
            cost = objective.pair_cost(flat_v, flat_h).reshape(len(mem), m)
            cost += size[lo:hi, None] * share[None, :]
            score = np.where(ok, np.add.reduceat(cost, bounds, axis=0), np.inf)
            chosen = np.zeros_like(ok)
            top = np.argpartition(score, limit - 1, axis=1)[:, :limit]
            np.put_along_axis(chosen, top, True, axis=1)
            for k in keep:
                kept = hosts[None, :] == np.asarray(k)[mem][:, None]
                chosen |= np.logical_or.reduceat(kept, bounds, axis=0)
            ok &= chosen
        uu, hh = np.nonzero(ok)
        out_u.append(uu + u0)
        out_h.append(hh)
        u0 = u1
    unit = np.concatenate(out_u) if out_u else np.zeros(0, dtype=np.int64)
    host = np.concatenate(out_h) if out_h else np.zeros(0, dtype=np.int64)
    cost = _unit_pair_cost(objective, units, unit, hosts[host])
    return Pairs(units, unit.astype(np.int64), host.astype(np.int64), cost, u_dem.astype(np.int64))


def unit_members(units: Units, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, member): one entry per member of each unit in ``unit``; ``row`` indexes
    ``unit``. O(total members)."""
    sizes = np.diff(units.ptr)[unit]
    rows = np.repeat(np.arange(len(unit)), sizes)
    offsets = np.arange(len(rows)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return rows, units.members[units.ptr[unit][rows] + offsets]


def _unit_pair_cost(
    objective: LinearObjective, units: Units, unit: np.ndarray, host: np.ndarray
) -> np.ndarray:
    """float64[P]: summed pair cost of the members of ``unit[p]`` on host ``host[p]``."""
    rows, v = unit_members(units, unit)
    return np.bincount(rows, weights=objective.pair_cost(v, host[rows]), minlength=len(unit))
