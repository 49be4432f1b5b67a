"""The evaluator's weighted score as the linear pieces a CP-SAT model can use.

Per (VM, host) pair: the VM's zone price, its users' latency to the host's region, and the
migration cost when the host is not its current one. Per VM left unplaced: the ``unplaced``
weight plus the migration cost (an eviction is a move). Per powered host: its hourly price
and the ``active_hosts`` weight; its energy is a piecewise-linear function of the power
resource's load (see :mod:`cluster_opt.solve.cpsat.model`). ``imbalance`` (max - min
utilisation per host) is not linear and is not modelled; neither are terms added later
that this module does not know: both are listed in :attr:`LinearObjective.ignored`, and
every solution is re-scored by the evaluator anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cluster_opt.evaluate import Problem
from cluster_opt.evaluate.terms.power import host_watts

#: Objective terms with a linear (or piecewise-linear) form in the model.
MODELLED = ("hourly_cost", "latency_ms", "migrations", "migration_gb", "active_hosts", "energy_watts")
#: Constraint terms the model enforces as hard rules (``unplaced`` is hard or a cost).
ENFORCED = ("capacity", "anti_affinity", "affinity", "gpu_model", "host_state", "unmigratable", "unplaced")


def ignored_note(solver: str, problem: Problem) -> list[str]:
    """A note for the user when weighted terms are outside the model (empty when none)."""
    ignored = LinearObjective.of(problem).ignored
    if not ignored:
        return []
    return [
        f"{solver}: weighted term(s) {', '.join(ignored)} are not in the CP-SAT model; it optimises "
        "without them and the evaluator scores its solutions with them"
    ]


@dataclass(frozen=True)
class LinearObjective:
    """Weights and per-VM / per-host arrays of the modelled terms of one problem."""

    problem: Problem
    weights: dict[str, float]  # enabled weight of each modelled term (0 = off)
    unplaced_weight: float
    place_all: bool  # unplaced is an enabled hard term: every VM must be placed
    ignored: tuple[str, ...]  # enabled terms with weight > 0 the model does not represent
    move_cost: np.ndarray  # float64[V] cost of moving the VM off its current host (0 if pending)
    host_fixed: np.ndarray  # float64[H] hourly price x weight + active_hosts weight
    curves: np.ndarray  # float64[H, 11] each host's power curve (watts)
    power_resource: int

    @classmethod
    def of(cls, problem: Problem) -> LinearObjective:
        """The objective of ``problem`` (built once and cached on it). O(V + H)."""
        cached = problem.__dict__.get("_cpsat_objective")
        if cached is None:
            cached = cls._build(problem)
            problem.__dict__["_cpsat_objective"] = cached
        return cached

    @classmethod
    def only(cls, problem: Problem, name: str) -> LinearObjective:
        """Just the objective term ``name`` with weight 1, every VM placed (for bounds)."""
        if name not in MODELLED:
            raise ValueError(f"term {name!r} has no linear model; modelled: {', '.join(MODELLED)}")
        base = cls.of(problem)
        weights = {n: float(n == name) for n in MODELLED}
        c = problem.cluster
        return cls(
            problem=problem,
            weights=weights,
            unplaced_weight=0.0,
            place_all=True,
            ignored=(),
            move_cost=np.zeros(c.n_vms),
            host_fixed=weights["hourly_cost"] * c.prices.host_hourly + weights["active_hosts"],
            curves=base.curves,
            power_resource=base.power_resource,
        )

    @classmethod
    def _build(cls, problem: Problem) -> LinearObjective:
        c = problem.cluster
        enabled = {t.name: float(w) for t, w in zip(problem.terms, problem.weights, strict=True) if w > 0}
        hard = {t.name for t, h in zip(problem.terms, problem.hard, strict=True) if h}
        weights = {name: enabled.get(name, 0.0) for name in MODELLED}
        known = set(MODELLED) | set(ENFORCED)
        ignored = tuple(n for n in enabled if n not in known)
        place_all = "unplaced" in enabled and "unplaced" in hard
        moved = c.vms.current >= 0
        mem = c.vms.demand[:, c.resource_index("mem_gb")] if "mem_gb" in c.resources else 0.0
        move_cost = np.where(moved, weights["migrations"] + weights["migration_gb"] * mem, 0.0)
        host_fixed = weights["hourly_cost"] * c.prices.host_hourly + weights["active_hosts"]
        return cls(
            problem=problem,
            weights=weights,
            unplaced_weight=0.0 if place_all else enabled.get("unplaced", 0.0),
            place_all=place_all,
            ignored=ignored,
            move_cost=np.asarray(move_cost, dtype=np.float64),
            host_fixed=np.asarray(host_fixed, dtype=np.float64),
            curves=c.power.watts[c.hosts.power_curve],
            power_resource=c.resource_index(problem.config.power_resource),
        )

    def pair_cost(self, v: np.ndarray, h: np.ndarray) -> np.ndarray:
        """float64[P]: weighted cost of VM ``v[i]`` on host ``h[i]`` (price, latency, move).
        O(P)."""
        w = self.weights
        out = np.zeros(len(v))
        if w["hourly_cost"] > 0:
            term = self.problem.term("hourly_cost")
            out += w["hourly_cost"] * term.cost[v, term.zone[h]]
        if w["latency_ms"] > 0:
            term = self.problem.term("latency_ms")
            out += w["latency_ms"] * term.table[term.user[v], term.region[h]] / term.n
        cur = self.problem.cluster.vms.current[v]
        out += np.where((cur >= 0) & (cur != h), self.move_cost[v], 0.0)
        return out

    def unplaced_cost(self, v: np.ndarray) -> np.ndarray:
        """float64[n]: weighted cost of leaving VMs ``v`` unplaced (an eviction is a move)."""
        return self.unplaced_weight + self.move_cost[v]

    def watts(self, h: np.ndarray, utilisation: np.ndarray) -> np.ndarray:
        """float64[n]: power of hosts ``h`` at the given utilisations (the evaluator's curve)."""
        return host_watts(self.curves[h], np.asarray(utilisation, dtype=np.float64)[None, :])[0]
