"""Evolutionary operators over assignments, shared by the GA (:mod:`cluster_opt.solve.ga`) and
NSGA-II (:mod:`cluster_opt.solve.nsga2`): host-inheritance crossover, "empty the lightest
hosts" and random-shift mutation, and the heuristic-seeded initial population.

Every operator takes feasible assignments and returns a feasible one: contents of whole
hosts are copied from a feasible parent (a subset of a feasible host is feasible), the
anti-affinity limits across hosts (rack and zone spread) are checked as hosts are inherited,
and every VM left over goes back through :func:`cluster_opt.solve.construct.insert`, which
respects every hard rule. An operator never leaves more VMs unplaced than its input had: if
the re-insertion cannot place them, the input is returned unchanged.

Host fill is the weighted mean, over the resources a host has, of load / capacity, each
resource weighted by its scarcity (total demand / total usable capacity), so the bottleneck
resource decides which hosts count as full or light.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import Field, field_validator

from cluster_opt.evaluate import Problem
from cluster_opt.evaluate.kernels import loads_and_counts
from cluster_opt.solve.base import Deadline, SolverSettings
from cluster_opt.solve.construct import Heuristic, construct, insert, repair
from cluster_opt.solve.packing import group_ok
from cluster_opt.solve.rules import PlacementRules


class EvolutionSettings(SolverSettings):
    """Settings shared by the evolutionary solvers (population, operators, seeding)."""

    population: int = Field(default=20, ge=2, description="individuals per generation")
    crossover_rate: float = Field(default=0.9, ge=0, le=1, description="chance a pair is crossed")
    mutation_rate: float = Field(default=0.5, ge=0, le=1, description="chance a child has hosts emptied")
    shift_rate: float = Field(default=0.2, ge=0, le=1, description="chance a child has VMs shifted")
    empty_hosts: int = Field(default=3, ge=1, description="at most this many hosts emptied per mutation")
    empty_pool: int = Field(
        default=4, ge=1, description="emptied hosts drawn from the pool x this many lightest"
    )
    shift_vms: int = Field(default=4, ge=1, description="at most this many VMs moved per shift mutation")
    shift_hosts: float = Field(default=0.1, gt=0, le=1, description="share of hosts a shifted VM may go to")
    shake_hosts: int = Field(default=4, ge=0, description="at most this many random hosts emptied too")
    window_share: float = Field(
        default=0.5, gt=0, le=1, description="share of active hosts a crossover contests"
    )
    window_max_hosts: int = Field(default=64, ge=1, description="cap on the hosts a crossover contests")
    jitter: float = Field(default=0.2, ge=0, description="random spread of the host fill rank in crossover")
    reinsert: str = Field(default="bfd", description="heuristic re-inserting leftover and moved VMs")
    heuristics: list[str] = Field(
        default_factory=lambda: ["ffd", "ffd-sum", "bfd", "dpd"],
        description="construction heuristics seeding the population (built while time allows)",
    )
    perturbations: int = Field(default=2, ge=1, description="mutations applied to make a perturbed seed")
    seed_current: bool = Field(default=True, description="seed with the current placement, repaired")

    @field_validator("reinsert")
    @classmethod
    def _known_heuristic(cls, name: str) -> str:
        Heuristic.parse(name)
        return name

    @field_validator("heuristics")
    @classmethod
    def _known_heuristics(cls, names: list[str]) -> list[str]:
        for name in names:
            Heuristic.parse(name)
        return names


@njit(cache=True)
def _inherit(a, b, window, noise, demand, fill_weight, vm_group, g_ptr, g_members, g_level, g_limit, domains):
    """The child of ``a`` and ``b`` on the contested ``window`` hosts (see
    :meth:`Operators.crossover`), before leftovers are re-inserted. O(V R + W log W + M m)
    for W contested (parent, host) pairs holding M VMs of anti-affinity groups of size m."""
    n_hosts = window.shape[0]
    n_vms = a.shape[0]
    child = a.copy()
    cnt = np.zeros((2, n_hosts), dtype=np.int64)
    fill = np.zeros((2, n_hosts))
    for v in range(n_vms):
        for p in range(2):
            h = a[v] if p == 0 else b[v]
            if h >= 0 and window[h]:
                child[v] = -1
                cnt[p, h] += 1
                for r in range(demand.shape[1]):
                    fill[p, h] += demand[v, r] * fill_weight[h, r]
    # CSR of the contested VMs per (parent, host): pair index p * H + h
    ptr = np.zeros(2 * n_hosts + 1, dtype=np.int64)
    for p in range(2):
        for h in range(n_hosts):
            ptr[p * n_hosts + h + 1] = cnt[p, h]
    for i in range(2 * n_hosts):
        ptr[i + 1] += ptr[i]
    members = np.empty(ptr[-1], dtype=np.int64)
    pos = ptr[:-1].copy()
    for v in range(n_vms):
        for p in range(2):
            h = a[v] if p == 0 else b[v]
            if h >= 0 and window[h]:
                members[pos[p * n_hosts + h]] = v
                pos[p * n_hosts + h] += 1
    flat_fill = fill.ravel()
    pairs = np.flatnonzero(cnt.ravel() > 0)
    key = np.empty(pairs.shape[0])
    for i in range(pairs.shape[0]):
        key[i] = -flat_fill[pairs[i]] * (1.0 + noise[i])
    taken = np.zeros(n_hosts, dtype=np.bool_)
    for i in np.argsort(key):
        pair = pairs[i]
        h = pair % n_hosts
        if taken[h]:
            continue
        intact = True
        for j in range(ptr[pair], ptr[pair + 1]):
            if child[members[j]] != -1:
                intact = False
                break
        if not intact:
            continue
        last = ptr[pair]
        for j in range(ptr[pair], ptr[pair + 1]):
            v = members[j]
            if not group_ok(v, h, child, vm_group, g_ptr, g_members, g_level, g_limit, domains):
                intact = False
                break
            child[v] = h
            last = j + 1
        if intact:
            taken[h] = True
        else:
            for j in range(ptr[pair], last):
                child[members[j]] = -1
    return child


def _plain(x: np.ndarray) -> np.ndarray:
    """A C-contiguous int32 ndarray view of ``x`` (drops ndarray subclasses such as DEAP's
    individuals, which numba does not take)."""
    return np.ascontiguousarray(x, dtype=np.int32)


class Operators:
    """The evolutionary operators of one problem (see the module docstring). Build once per
    solver; every method takes the random generator to use."""

    def __init__(self, problem: Problem, settings: EvolutionSettings) -> None:
        self.problem = problem
        self.settings = settings
        self.rules = PlacementRules.of(problem)
        cap = self.rules.capacity
        usable_cap = cap[self.rules.usable].sum(axis=0)
        scarcity = self.rules.demand.sum(axis=0) / np.where(usable_cap > 0, usable_cap, 1.0)
        has = cap > 0
        weight = np.where(has, scarcity / np.where(has, cap, 1.0), 0.0)
        total = (has * scarcity).sum(axis=1, keepdims=True)
        #: float64[H, R]: fill of host h = sum over r of load[h, r] * fill_weight[h, r]
        self.fill_weight = np.ascontiguousarray(weight / np.where(total > 0, total, 1.0))
        self.pinned_vms = np.flatnonzero(self.rules.pinned)
        self.movable = np.flatnonzero(~self.rules.pinned)
        self.n_hosts = cap.shape[0]

    # -- measures -----------------------------------------------------------------------
    def fill(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(fill float64[H], count int32[H]) of one assignment. O(V R)."""
        load, count = loads_and_counts(x[None, :], self.rules.demand, self.n_hosts)
        return (load[0] * self.fill_weight).sum(axis=1), count[0]

    def _in_use(self, x: np.ndarray) -> np.ndarray:
        """bool[H]: hosts running at least one VM. O(V)."""
        return self._host_mask(x[x >= 0])

    def _host_mask(self, hosts: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.n_hosts, dtype=bool)
        mask[hosts] = True
        return mask

    def _on(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Indices of the VMs placed on a host in ``mask``. O(V)."""
        return np.flatnonzero(mask[np.maximum(x, 0)] & (x >= 0))

    def _reinsert(self, x: np.ndarray, vms: np.ndarray, forbidden: np.ndarray) -> np.ndarray:
        """``x`` with ``vms`` taken off and re-inserted by ``reinsert`` on hosts not
        ``forbidden``; those that find no host there go anywhere (their old hosts included);
        a copy of ``x`` if that still leaves more VMs unplaced."""
        h = self.settings.reinsert
        y = insert(self.problem, x, vms, heuristic=h, forbidden=forbidden)
        lost = vms[(y[vms] < 0) & (x[vms] >= 0)]
        if len(lost):
            y = insert(self.problem, y, lost, heuristic=h)
        return x.copy() if (y[vms] < 0).sum() > (x[vms] < 0).sum() else y

    # -- crossover -----------------------------------------------------------------------
    def crossover(self, a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Host-inheritance (grouping) crossover: the child of ``a`` and ``b``.

        A window of contested hosts is drawn among the hosts where the parents differ (a
        VM on it in one parent is elsewhere in the other): ``window_share`` of the hosts
        active in either parent, at most ``window_max_hosts``, at most all that differ. So
        parents that share most hosts swap exactly their differences, and the improvements
        of two descendants of one seed combine. Every VM on a contested
        host in either parent is freed; the other VMs stay where ``a`` has them. The
        contested (parent, host) pairs are then taken fullest first (fill times
        1 + ``jitter`` x U[0, 1)): a pair is inherited whole when its host is still free, none
        of its VMs is placed yet and its VMs keep their spread limits. The leftovers are
        re-inserted by ``reinsert`` on the hosts they were freed from (the window and the
        hosts that lost VMs in ``a``), and those that do not fit there on any host.
        O(V R + W log W) plus the insertion of the n leftovers (O(n W' R) for best fit on
        those W' hosts, O(n' H_open R) for the n' that need the whole cluster).
        """
        st = self.settings
        a, b = _plain(a), _plain(b)
        differ = a != b
        if not differ.any():
            return a.copy()
        active = np.zeros(self.n_hosts, dtype=bool)
        active[a[a >= 0]] = True
        active[b[b >= 0]] = True
        touched = np.zeros(self.n_hosts, dtype=bool)
        touched[a[differ & (a >= 0)]] = True
        touched[b[differ & (b >= 0)]] = True
        hosts = np.flatnonzero(touched)
        k = min(max(round(st.window_share * int(active.sum())), 1), st.window_max_hosts, len(hosts))
        window = self._host_mask(rng.choice(hosts, size=k, replace=False))
        noise = st.jitter * rng.random(2 * k)
        r = self.rules
        child = _inherit(
            a,
            b,
            window,
            noise,
            r.demand,
            self.fill_weight,
            r.vm_group,
            r.g_ptr,
            r.g_members,
            r.g_level,
            r.g_limit,
            r.domains,
        )
        region = window.copy()
        region[a[(child < 0) & (a >= 0)]] = True  # the window and the hosts A's leftovers left
        out = insert(self.problem, child, heuristic=st.reinsert, forbidden=~region)
        if (out < 0).sum() > (a < 0).sum():
            out = insert(self.problem, out, heuristic=st.reinsert)
        return a.copy() if (out < 0).sum() > (a < 0).sum() else out

    # -- mutations -----------------------------------------------------------------------
    def empty_hosts(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Take all VMs off 1..``empty_hosts`` lightly filled hosts (drawn from the
        ``empty_pool`` x k lightest active hosts without unmigratable VMs) and off
        0..``shake_hosts`` random ones of those hosts (the GGA mutation: eliminate the
        emptiest and a few random bins), and re-insert them with ``insert(...,
        forbidden=those hosts)``, which may switch other hosts on; the re-packing of the
        random hosts' VMs together with the light ones is what frees hosts once the easy
        moves are gone. VMs that fit nowhere else may go back. O(V R + H + insertion)."""
        st = self.settings
        x = _plain(x)
        fill, count = self.fill(x)
        blocked = np.zeros(self.n_hosts, dtype=bool)
        held = x[self.pinned_vms]
        blocked[held[held >= 0]] = True
        cand = np.flatnonzero((count > 0) & ~blocked)
        if not len(cand):
            return x.copy()
        k = min(int(rng.integers(1, st.empty_hosts + 1)), len(cand))
        pool_size = min(len(cand), st.empty_pool * k)
        pool = cand[np.argpartition(fill[cand], pool_size - 1)[:pool_size]]
        shake = min(int(rng.integers(0, st.shake_hosts + 1)), len(cand))
        chosen = np.concatenate(
            [rng.choice(pool, size=k, replace=False), rng.choice(cand, size=shake, replace=False)]
        )
        mask = self._host_mask(chosen)
        return self._reinsert(x, self._on(x, mask), mask)

    def shift(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Move 1..``shift_vms`` random migratable VMs to other hosts in use, chosen by
        ``reinsert`` among a random ``shift_hosts`` share of them; VMs that fit none of those
        go anywhere. O(V + H + insertion)."""
        x = _plain(x)
        placed = self.movable[x[self.movable] >= 0]
        if not len(placed):
            return x.copy()
        n = min(int(rng.integers(1, self.settings.shift_vms + 1)), len(placed))
        vms = rng.choice(placed, size=n, replace=False)
        forbidden = (rng.random(self.n_hosts) >= self.settings.shift_hosts) | ~self._in_use(x)
        forbidden[x[vms]] = True
        return self._reinsert(x, vms, forbidden)

    def mutate(self, x: np.ndarray, rng: np.random.Generator, force: bool = False) -> np.ndarray:
        """Empty hosts with probability ``mutation_rate`` and shift VMs with probability
        ``shift_rate`` (``force``: both). Returns ``x`` itself when nothing was applied."""
        st = self.settings
        if force or rng.random() < st.mutation_rate:
            x = self.empty_hosts(x, rng)
        if force or rng.random() < st.shift_rate:
            x = self.shift(x, rng)
        return x

    # -- initial population --------------------------------------------------------------
    def base_solutions(self, seeds: np.ndarray) -> list[np.ndarray]:
        """The caller's ``seeds`` repaired; without seeds one cheap start: the current
        placement repaired when ``seed_current`` and some VM has a host, else the first of
        ``heuristics`` (FFD when none). O(seeds x repair) or one construction."""
        p = self.problem
        if len(seeds):
            return [repair(p, s) for s in seeds]
        current = p.cluster.current_assignment()
        if self.settings.seed_current and (current >= 0).any():
            return [repair(p, current)]
        return [construct(p, (self.settings.heuristics or ["ffd"])[0])]

    def seed_population(
        self, base: list[np.ndarray], size: int, rng: np.random.Generator, deadline: Deadline
    ) -> np.ndarray:
        """int32[size, V]: the ``base`` solutions; the current placement repaired (few
        migrations) when ``seed_current``; one placement per heuristic in ``heuristics``,
        built while the deadline allows; the rest perturbed copies of those (``perturbations``
        forced mutations each), distinct where possible. Distinct sources come first, the
        perturbed copies cycle over them. O(sources x construction + size x mutation)."""
        p = self.problem
        sources = list(base)
        current = p.cluster.current_assignment()
        if self.settings.seed_current and (current >= 0).any():
            sources.append(repair(p, current))
        for name in self.settings.heuristics:
            if deadline.expired():
                break
            sources.append(construct(p, name))
        seen: set[bytes] = set()
        distinct: list[np.ndarray] = []
        for x in sources:
            if x.tobytes() not in seen:
                seen.add(x.tobytes())
                distinct.append(x)
        pop = distinct[:size]
        tries = 0
        while len(pop) < size:
            x = distinct[tries % len(distinct)]
            for _ in range(self.settings.perturbations):
                x = self.mutate(x, rng, force=True)
            tries += 1
            if x.tobytes() not in seen or tries > 4 * size:  # give up on distinctness eventually
                seen.add(x.tobytes())
                pop.append(x)
        return np.stack(pop).astype(np.int32, copy=False)


__all__ = ["EvolutionSettings", "Operators"]
