"""Destroy rules of the large-neighbourhood search: which hosts' VMs to free in one step,
and an adaptive choice among the rules by their past success.

Each rule returns up to ``k`` powered (non-empty, usable) hosts; the rules that rank hosts
pick them among the ``WINDOW x k`` best with a rank-biased random draw (rank i of n has
weight (1 - i/n)^BIAS), so repeated calls after a failure try nearby but different
neighbourhoods:

``random``    k hosts uniformly.
``lightest``  hosts by increasing fill (largest utilisation over the resources): the
              easiest to empty, which switches hosts off.
``rack``      the lightest hosts of one random rack: a rack-local reshuffle (racks are
              where rack-level anti-affinity and similar hosts live).
``worst``     hosts by decreasing waste: the host's price and power times its unused share,
              plus the regret of its VMs (their pair cost above the cheapest zone or their
              current host).
``unplaced``  for one random unplaced VM, the powered hosts it may use (its GPU model)
              with the most room for it: freeing them lets the model make space (falls
              back to ``lightest`` when every VM is placed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cluster_opt.evaluate import kernels
from cluster_opt.solve.cpsat.objective import LinearObjective

RULES = ("random", "lightest", "rack", "worst", "unplaced")
#: Rank bias of the ranked rules (higher = greedier), drawn among the WINDOW x k best.
BIAS = 4.0
WINDOW = 8


@dataclass
class HostView:
    """The current solution as per-host arrays for the destroy rules. O(V R + H R) to build."""

    x: np.ndarray  # int32[V]
    load: np.ndarray  # float64[H, R]
    count: np.ndarray  # int32[H]
    active: np.ndarray  # bool[H] usable hosts with at least one VM
    fill: np.ndarray  # float64[H] largest utilisation over the resources

    @classmethod
    def of(cls, objective: LinearObjective, x: np.ndarray) -> HostView:
        c = objective.problem.cluster
        load, count = kernels.loads_and_counts(x[None, :], c.vms.demand, c.n_hosts)
        cap = c.hosts.capacity
        util = np.where(cap > 0, load[0] / np.where(cap > 0, cap, 1.0), 0.0)
        return cls(x, load[0], count[0], (count[0] > 0) & c.usable, util.max(axis=1, initial=0.0))


def ranked_pick(order: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``k`` distinct items among the first WINDOW x k of ``order`` (best first) by a
    rank-biased draw. O(k)."""
    order = order[: max(WINDOW * k, 1)]
    n = len(order)
    if n <= k:
        return order.copy()
    weight = (1.0 - np.arange(n) / n) ** BIAS
    return rng.choice(order, size=k, replace=False, p=weight / weight.sum())


def vm_regret(objective: LinearObjective, x: np.ndarray) -> np.ndarray:
    """float64[V]: each placed VM's pair cost above the cheaper of staying on (or returning
    to) its current host and moving to its cheapest usable zone: roughly what moving it could
    save. O(V Z)."""
    p = objective.problem
    c = p.cluster
    placed = np.flatnonzero(x >= 0)
    out = np.zeros(c.n_vms)
    if not len(placed):
        return out
    here = objective.pair_cost(placed, x[placed])
    # cheapest usable host per zone: pair cost differs across zones (price) and regions (latency)
    zones = np.unique(c.hosts.zone[c.usable])
    reps = np.array([np.flatnonzero(c.usable & (c.hosts.zone == z))[0] for z in zones], dtype=np.int64)
    best = np.full(len(placed), np.inf)
    for h in reps:
        best = np.minimum(best, objective.pair_cost(placed, np.full(len(placed), h)))
    cur = c.vms.current[placed]
    stay = (cur >= 0) & c.usable[np.maximum(cur, 0)]
    best[stay] = np.minimum(best[stay], objective.pair_cost(placed[stay], cur[stay]))
    out[placed] = np.maximum(here - best, 0.0)
    return out


def host_waste(objective: LinearObjective, view: HostView) -> np.ndarray:
    """float64[H]: price and power of each powered host times its unused share, plus its
    VMs' regret (see :func:`vm_regret`). O(V Z + H)."""
    c = objective.problem.cluster
    r = objective.power_resource
    cap = c.hosts.capacity[:, r]
    util = np.where(cap > 0, view.load[:, r] / np.where(cap > 0, cap, 1.0), 0.0)
    hosts = np.arange(c.n_hosts)
    power = objective.weights["energy_watts"] * objective.watts(hosts, util)
    waste = np.where(view.active, (objective.host_fixed + power) * (1.0 - np.clip(view.fill, 0, 1)), 0.0)
    placed = view.x >= 0
    waste += np.bincount(view.x[placed], weights=vm_regret(objective, view.x)[placed], minlength=c.n_hosts)
    return waste


def destroy(
    rule: str, objective: LinearObjective, view: HostView, k: int, rng: np.random.Generator
) -> np.ndarray:
    """int64[<= k]: the hosts whose VMs ``rule`` frees. O(H log H) (``worst``: + O(V Z))."""
    active = np.flatnonzero(view.active)
    if not len(active) or k <= 0:
        return np.zeros(0, dtype=np.int64)
    if rule == "random":
        return rng.choice(active, size=min(k, len(active)), replace=False)
    if rule == "lightest":
        return ranked_pick(active[np.argsort(view.fill[active], kind="stable")], k, rng)
    if rule == "rack":
        racks = objective.problem.cluster.hosts.rack[active]
        rack = rng.choice(np.unique(racks))
        mine = active[racks == rack]
        return mine[np.argsort(view.fill[mine], kind="stable")][:k]
    if rule == "worst":
        waste = host_waste(objective, view)[active]
        return ranked_pick(active[np.argsort(-waste, kind="stable")], k, rng)
    if rule == "unplaced":
        return _room_for_unplaced(objective, view, active, k, rng)
    raise ValueError(f"unknown destroy rule {rule!r}; known: {', '.join(RULES)}")


def _room_for_unplaced(
    objective: LinearObjective, view: HostView, active: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Hosts by increasing shortfall of room for one random unplaced VM (rank-biased)."""
    c = objective.problem.cluster
    unplaced = np.flatnonzero(view.x < 0)
    if not len(unplaced):
        return ranked_pick(active[np.argsort(view.fill[active], kind="stable")], k, rng)
    v = rng.choice(unplaced)
    model = c.vms.gpu_model[v]
    hosts = active if model < 0 else active[c.hosts.gpu_model[active] == model]
    short = np.maximum(view.load[hosts] + c.vms.demand[v] - c.hosts.capacity[hosts], 0.0)
    order = np.argsort((short / objective.problem.resource_scale).sum(axis=1), kind="stable")
    return ranked_pick(hosts[order], k, rng)


class RuleChooser:
    """Roulette-wheel choice among destroy rules with weights that follow their recent
    success (adaptive LNS): after each use, w = (1 - decay) w + decay x reward, reward 1 for
    an improvement and 0 otherwise, never below ``floor``."""

    def __init__(self, rules: tuple[str, ...], decay: float = 0.2, floor: float = 0.05) -> None:
        self.rules = tuple(rules)
        self.weights = np.ones(len(self.rules))
        self.decay = decay
        self.floor = floor

    def choose(self, rng: np.random.Generator) -> str:
        return self.rules[int(rng.choice(len(self.rules), p=self.weights / self.weights.sum()))]

    def reward(self, rule: str, improved: bool) -> None:
        i = self.rules.index(rule)
        self.weights[i] = max((1 - self.decay) * self.weights[i] + self.decay * float(improved), self.floor)

    def state(self) -> dict[str, float]:
        return dict(zip(self.rules, self.weights.round(4).tolist(), strict=True))
