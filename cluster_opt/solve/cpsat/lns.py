"""The ``lns`` solver: large-neighbourhood search with CP-SAT sub-models.

Each :meth:`LnsSolver.step` (one neighbourhood):

1. an adaptively chosen destroy rule (:mod:`.destroy`) picks ``k`` powered hosts and frees
   their VMs (never pinned ones), plus a few unplaced VMs;
2. the sub-model's hosts are those ``k`` hosts, ``receivers`` other powered hosts with spare
   room (same rack first for the rack rule, then drawn by how much of the freed VMs' demand
   their free capacity could take), the current hosts of
   freed VMs that were moved (so moves can be undone) and a few empty hosts; every other VM
   stays put, counted as constant load, anti-affinity members and cost
   (:func:`~cluster_opt.solve.cpsat.model.build_model`), each unit keeping its
   ``candidates`` cheapest hosts plus its current and present one;
3. CP-SAT solves it for at most ``slice_seconds``, hinted with the current solution;
4. the result is re-scored by the batch evaluator (the sub-model alone is never trusted)
   and replaces the current solution only when it is better.

``k`` grows by ``growth`` after ``patience`` steps without improvement and starts again
from ``hosts`` when it reaches its cap; a neighbourhood has at most ``max_hosts`` hosts and
``max_vms`` freed VMs (but always one freed host's VMs) plus ``unplaced`` unplaced ones, which
keeps building one under 0.2 s on a 10,000-host cluster.
Reproducible from the seed with ``num_workers=1`` and ``deterministic=True`` (slices in
CP-SAT's deterministic time).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import Field

from cluster_opt.solve.base import Deadline, Solver, register_solver
from cluster_opt.solve.cpsat.destroy import RULES, HostView, RuleChooser, destroy
from cluster_opt.solve.cpsat.exact import CpSatSettings, energy_mode, starting_point
from cluster_opt.solve.cpsat.model import build_model
from cluster_opt.solve.cpsat.objective import LinearObjective, ignored_note
from cluster_opt.solve.cpsat.search import HINTED, run_cpsat
from cluster_opt.solve.rules import PlacementRules


class LnsSettings(CpSatSettings):
    energy: Literal["auto", "envelope", "piecewise"] = "envelope"  # more neighbourhoods per second
    hosts: int = Field(default=8, ge=1, description="hosts freed per step at first (k)")
    max_hosts: int = Field(default=200, ge=2, description="hosts per sub-model at most")
    max_vms: int = Field(default=2000, ge=1, description="free VMs per sub-model at most")
    receivers: int = Field(default=16, ge=0, description="powered hosts added as targets")
    return_hosts: int = Field(default=8, ge=0, description="current hosts of moved VMs added")
    empty: int = Field(default=3, ge=0, description="empty hosts added as targets")
    unplaced: int = Field(default=32, ge=0, description="unplaced VMs added per step")
    candidates: int = Field(default=12, ge=1, description="candidate hosts per VM")
    slice_seconds: float = Field(default=3.0, gt=0, description="CP-SAT time per neighbourhood")
    patience: int = Field(default=4, ge=1, description="steps without gain before k grows")
    growth: float = Field(default=1.5, gt=1)
    rules: tuple[str, ...] = Field(default=RULES, min_length=1)


@register_solver
class LnsSolver(Solver):
    """Large-neighbourhood search over CP-SAT sub-models (see the module docstring)."""

    name = "lns"
    Settings = LnsSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if len(self.seeds):
            self.evaluate(self.seeds)
        s = self.settings
        unknown = set(s.rules) - set(RULES)
        if unknown:
            raise ValueError(f"unknown destroy rule(s) {sorted(unknown)}; known: {', '.join(RULES)}")
        self.objective = LinearObjective.of(self.problem)
        self.progress.notes += ignored_note(self.name, self.problem)
        self.rules = PlacementRules.of(self.problem)
        self.chooser = RuleChooser(s.rules)
        self.k = s.hosts
        self.k_max = max(s.hosts, s.max_hosts // 2)
        self.stall = 0
        self.x: np.ndarray | None = None
        self.score = math.inf
        self.feasible = False
        self.view: HostView | None = None
        self._by_host: tuple[np.ndarray, np.ndarray] | None = None
        self.last: dict[str, Any] = {}

    # -- current solution ------------------------------------------------------------
    def _adopt(self, x: np.ndarray, score: float, feasible: bool) -> None:
        self.x = np.array(x, dtype=np.int32, copy=True)
        self.score, self.feasible = float(score), bool(feasible)
        self.view = HostView.of(self.objective, self.x)
        order = np.argsort(self.x, kind="stable")
        starts = np.searchsorted(self.x[order], np.arange(self.problem.cluster.n_hosts + 1))
        self._by_host = (order, starts)

    def _start(self) -> None:
        starting_point(self)
        best = self.archive.best()
        self._adopt(best.x, best.score, best.feasible)

    def _better(self, score: float, feasible: bool) -> bool:
        if feasible != self.feasible:
            return feasible
        return score < self.score - 1e-9 * max(1.0, abs(self.score))

    def accept(self, migrants: np.ndarray) -> None:
        """Score the migrants; the best becomes the current solution when it is better."""
        super().accept(migrants)
        best = self.archive.best()
        if self.x is not None and self._better(best.score, best.feasible):
            self._adopt(best.x, best.score, best.feasible)

    # -- one neighbourhood -----------------------------------------------------------
    def _vms_on(self, hosts: np.ndarray) -> list[np.ndarray]:
        order, starts = self._by_host
        return [order[starts[h] : starts[h + 1]] for h in hosts]

    def neighbourhood(self, rule: str) -> tuple[np.ndarray, np.ndarray]:
        """(free VMs, model hosts) of one step under ``rule``. O(H + V_free log V_free)."""
        s, c, view = self.settings, self.problem.cluster, self.view
        freed = destroy(rule, self.objective, view, self.k, self.rng)
        groups = self._vms_on(freed)
        sizes = np.cumsum([len(g) for g in groups])
        n_keep = max(int(np.searchsorted(sizes, s.max_vms, side="right")), 1)
        freed, groups = freed[:n_keep], groups[:n_keep]
        vms = np.concatenate(groups) if groups else np.zeros(0, dtype=np.int64)
        vms = vms[~self.rules.pinned[vms]]
        unplaced = np.flatnonzero(self.x < 0)
        # unplaced VMs that may use a freed host (GPU model) first
        fits = (self.rules.vm_model[unplaced] < 0) | np.isin(
            self.rules.vm_model[unplaced], self.rules.host_model[freed]
        )
        unplaced = np.concatenate(
            [self.rng.permutation(unplaced[fits]), self.rng.permutation(unplaced[~fits])]
        )
        if len(unplaced) and s.unplaced:
            vms = np.concatenate([vms, unplaced[: s.unplaced]])
        budget = max(s.max_hosts - len(freed), 0)
        taken = np.zeros(c.n_hosts, dtype=bool)
        taken[freed] = True
        gpu_models = np.unique(self.rules.vm_model[vms])
        pool = c.usable & ~taken & (~self.rules.host_has_gpu | np.isin(self.rules.host_model, gpu_models))
        extra = [self._returns(vms, pool, min(s.return_hosts, budget))]
        taken[extra[0]] = True
        need = self.problem.cluster.vms.demand[vms].sum(axis=0)
        extra.append(
            self._receivers(rule, freed, need, pool & ~taken, min(s.receivers, budget - len(extra[0])))
        )
        taken[extra[1]] = True
        room = budget - len(extra[0]) - len(extra[1])
        empty = self.rules.host_order[pool[self.rules.host_order] & ~taken[self.rules.host_order]]
        empty = empty[view.count[empty] == 0][: 4 * s.empty]
        extra.append(self.rng.permutation(empty)[: max(min(s.empty, room), 0)])
        return vms, np.concatenate([freed, *extra]).astype(np.int64)

    def _returns(self, vms: np.ndarray, pool: np.ndarray, n: int) -> np.ndarray:
        """The ``n`` current hosts (in ``pool``) most common among moved ``vms``."""
        cur = self.problem.cluster.vms.current[vms]
        moved = (cur >= 0) & (cur != self.x[vms])
        hosts = cur[moved]
        hosts = hosts[pool[hosts]]
        if not len(hosts) or n <= 0:
            return np.zeros(0, dtype=np.int64)
        values, counts = np.unique(hosts, return_counts=True)
        return values[np.argsort(-counts, kind="stable")][:n]

    def _receivers(
        self, rule: str, freed: np.ndarray, need: np.ndarray, pool: np.ndarray, n: int
    ) -> np.ndarray:
        """``n`` powered hosts of ``pool``: for ``rack`` the freed hosts' rack-mates first;
        then drawn with weight (useful room)^2, the free capacity a host offers towards the
        freed VMs' total demand ``need``, summed over resources in units of their mean."""
        c, view = self.problem.cluster, self.view
        cand = np.flatnonzero(pool & view.active)
        if n <= 0 or not len(cand):
            return np.zeros(0, dtype=np.int64)
        picked = np.zeros(0, dtype=np.int64)
        if rule == "rack" and len(freed):
            mates = cand[c.hosts.rack[cand] == c.hosts.rack[freed[0]]]
            picked = mates[np.argsort(view.fill[mates], kind="stable")][:n]
            cand = np.setdiff1d(cand, picked)
        n_more = min(n - len(picked), len(cand))
        if n_more > 0:
            free = np.clip(c.hosts.capacity[cand] - view.load[cand], 0.0, need[None, :])
            weight = (free / self.problem.resource_scale).sum(axis=1) ** 2 + 1e-12
            more = self.rng.choice(cand, size=n_more, replace=False, p=weight / weight.sum())
            picked = np.concatenate([picked, more])
        return picked

    def step(self, deadline: Deadline) -> None:
        if deadline.expired():
            return
        if self.x is None:
            self._start()
        s = self.settings
        rule = self.chooser.choose(self.rng)
        vms, hosts = self.neighbourhood(rule)
        seed = int(self.rng.integers(2**31))
        improved = False
        status = "EMPTY"
        if len(vms):
            energy = energy_mode(s.energy, len(hosts), s.piecewise_hosts)
            model = build_model(
                self.problem, vms, hosts, self.x, limit=s.candidates, energy=energy, hint=self.x
            )
            res = run_cpsat(
                model.writer.model,
                deadline,
                seconds=s.slice_seconds,
                workers=s.num_workers,
                seed=seed,
                deterministic_seconds=s.slice_seconds if s.deterministic else None,
                log=s.log,
                parameters=HINTED,
            )
            status = res.status
            if res.has_solution:
                x = model.decode(res.values)
                if not np.array_equal(x, self.x):
                    score, feasible = self.evaluate(x[None, :])
                    if self._better(float(score[0]), bool(feasible[0])):
                        self._adopt(x, float(score[0]), bool(feasible[0]))
                        improved = True
        self.chooser.reward(rule, improved)
        self.progress.steps += 1
        self._adapt(improved)
        self.last = {
            "rule": rule,
            "vms": len(vms),
            "hosts": len(hosts),
            "status": status,
            "improved": improved,
        }

    def _adapt(self, improved: bool) -> None:
        """k grows after ``patience`` steps without gain; past its cap it starts over."""
        if improved:
            self.stall = 0
            return
        self.stall += 1
        if self.stall >= self.settings.patience:
            self.stall = 0
            self.k = (
                self.settings.hosts
                if self.k >= self.k_max
                else min(math.ceil(self.k * self.settings.growth), self.k_max)
            )

    def state(self) -> dict[str, Any]:
        return {**super().state(), "k": self.k, "rule_weights": self.chooser.state()}
