"""Host reduction: switch hosts off one batch at a time by repacking their VMs into the
hosts that stay on, letting capacity be exceeded while a local search repairs it.

Each :meth:`Reduce.step` is one attempt: take the ``k`` emptiest active hosts (no pinned
VMs on them), move their VMs onto the other active hosts where they overload least, then
run annealing (shift and swap moves among the hosts kept on, :mod:`cluster_opt.solve.anneal`)
on a copy of the problem in which capacity overload is a finite penalty, until the overload
is gone or the attempt's time is up. Success keeps the smaller host set and doubles ``k``;
failure halves it and, at ``k = 1``, moves on to the next candidate host. Every other hard
rule stays hard throughout. This is the weight-annealing / consistent-neighbourhood idea of
the bin-packing literature applied to the evaluator's full rule set. Per attempt:
O(V R) to set up, O(R + m) per move.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import Field

from cluster_opt.evaluate import EvaluationConfig, Problem, TermSetting
from cluster_opt.evaluate.kernels import loads_and_counts
from cluster_opt.solve import packing
from cluster_opt.solve.anneal import (
    HARD_TOL,
    METROPOLIS,
    _calibrate,
    _replay,
    _seed,
    anneal_chunk,
    move_probabilities,
    overloaded,
)
from cluster_opt.solve.base import Deadline, Solver, SolverSettings, register_solver
from cluster_opt.solve.construct import construct, insert
from cluster_opt.solve.delta import DeltaModel, raise_overload_weights
from cluster_opt.solve.rules import PlacementRules


class ReduceSettings(SolverSettings):
    overload_weight: float = Field(default=10.0, gt=0, description="penalty per mean host of overload")
    start_share: float = Field(default=0.02, gt=0, le=0.5, description="first batch: share of active hosts")
    attempt_share: float = Field(
        default=0.1, gt=0, le=1, description="share of the remaining time per attempt"
    )
    min_attempt_seconds: float = Field(default=0.2, gt=0)
    chunk: int = Field(default=5000, ge=100)
    p_shift: float = Field(default=0.25, ge=0)
    p_swap: float = Field(default=0.25, ge=0)
    p_relieve: float = Field(default=0.5, ge=0)
    samples: int = Field(default=8, ge=1, description="hosts sampled by the min-conflicts move")
    breakout: float = Field(
        default=0.2,
        ge=0,
        description="after each chunk, raise the overload weight of hosts still overloaded by this share",
    )
    cooling_ratio: float = Field(default=1e-2, gt=0, lt=1)
    t0_factor: float = Field(default=0.03, gt=0, description="start temperature / median worsening")


@njit(cache=True)
def _least_overload(
    vms,
    x,
    load,
    cap,
    demand,
    scale,
    keep,
    vm_model,
    host_model,
    vm_group,
    g_ptr,
    g_members,
    g_level,
    g_limit,
    domains,
):
    """Put each VM of ``vms`` (unplaced in ``x``) on the kept host where it adds the least
    overload (ties: most normalised free capacity), respecting GPU model and anti-affinity;
    VMs with no such host stay unplaced. O(n H_keep R)."""
    for i in range(vms.shape[0]):
        v = vms[i]
        best = -1
        best_over = np.inf
        best_free = -np.inf
        for j in range(keep.shape[0]):
            h = keep[j]
            if vm_model[v] >= 0 and host_model[h] != vm_model[v]:
                continue
            if not packing.group_ok(v, h, x, vm_group, g_ptr, g_members, g_level, g_limit, domains):
                continue
            over = 0.0
            free = 0.0
            for r in range(cap.shape[1]):
                after = load[h, r] + demand[v, r]
                if after > cap[h, r]:
                    over += (after - cap[h, r]) / scale[r]
                free += (cap[h, r] - after) / scale[r]
            if over < best_over - 1e-12 or (over <= best_over + 1e-12 and free > best_free):
                best = h
                best_over = over
                best_free = free
        if best >= 0:
            x[v] = best
            for r in range(cap.shape[1]):
                load[best, r] += demand[v, r]


def relaxed_problem(problem: Problem, overload_weight: float) -> Problem:
    """The same problem with capacity overload a finite penalty (still counted as hard, so
    the search sees when it is gone) and the host-count terms off (the host set is fixed)."""
    terms = {n: TermSetting(weight=s.weight, hard=s.hard) for n, s in problem.config.terms.items()}
    terms["capacity"] = TermSetting(weight=overload_weight, hard=True)
    for name in ("active_hosts", "consolidation", "energy_watts"):
        terms[name] = TermSetting(weight=0.0)
    config = EvaluationConfig(
        terms=terms,
        imbalance_resources=problem.config.imbalance_resources,
        power_resource=problem.config.power_resource,
    )
    return Problem(problem.cluster, config, terms=[type(t) for t in problem.terms])


@register_solver
class Reduce(Solver):
    """Switch hosts off by repacking (see the module docstring)."""

    name = "reduce"
    Settings = ReduceSettings
    settings: ReduceSettings

    def __init__(self, problem, seeds=None, *, seed=0, settings=None) -> None:
        super().__init__(problem, seeds, seed=seed, settings=settings)
        self.rules = PlacementRules.of(problem)
        if not len(self.seeds):
            self.seeds = construct(problem, "bfd")[None]
        self.evaluate(self.seeds)
        self.relaxed = relaxed_problem(problem, self.settings.overload_weight)
        self.delta = DeltaModel.of(self.relaxed)
        self.base_weights = self.delta.model.over_w.copy()
        self.movable = np.flatnonzero(~self.rules.pinned).astype(np.int64)
        self.pinned = np.ascontiguousarray(self.rules.pinned)
        self.batch = 0  # hosts per attempt, set from the first solution
        self.skip: set[int] = set()  # hosts that could not be emptied alone
        self.buf_v = np.empty(512, dtype=np.int64)
        self.buf_h = np.empty(512, dtype=np.int64)
        self.journal_v = np.empty(self.settings.chunk * 4 + 1024, dtype=np.int64)
        self.journal_h = np.empty_like(self.journal_v)
        _seed(int(self.rng.integers(2**31 - 1)))
        self.attempts = 0
        self.successes = 0

    def _candidates(self, x: np.ndarray) -> np.ndarray:
        """Active hosts without pinned or affinity-grouped VMs, emptiest first (by the sum
        of normalised load), skipping hosts that failed alone."""
        r = self.rules
        load, counts = self._loads(x)
        blocked = np.zeros(len(r.usable), dtype=bool)
        stuck = (r.pinned | (r.vm_affinity >= 0)) & (x >= 0)
        blocked[x[stuck]] = True
        fill = (load / r.scale).sum(axis=1)
        hosts = np.flatnonzero((counts > 0) & ~blocked)
        hosts = np.array([h for h in hosts if h not in self.skip], dtype=np.int64)
        return hosts[np.argsort(fill[hosts], kind="stable")] if len(hosts) else hosts

    def _loads(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(load float64[H, R], VMs per host int32[H]) of assignment ``x``. O(V R)."""
        load, count = loads_and_counts(x[None].astype(np.int32), self.rules.demand, len(self.rules.usable))
        return load[0], count[0]

    def step(self, deadline: Deadline) -> None:
        _seed(int(self.rng.integers(2**31 - 1)))  # numba's generator is per thread: reseed per step
        best = self.best()
        if not best.feasible:
            self.done = True  # nothing feasible to reduce from
            return
        x = best.x.astype(np.int64)
        active = np.flatnonzero(np.bincount(x[x >= 0], minlength=len(self.rules.usable)) > 0)
        cands = self._candidates(x)
        if not len(cands) or len(active) <= 1:
            self.done = True
            return
        if self.batch == 0:
            self.batch = max(1, int(self.settings.start_share * len(active)))
        victims = cands[: min(self.batch, len(cands), len(active) - 1)]
        seconds = max(self.settings.min_attempt_seconds, self.settings.attempt_share * deadline.remaining())
        ok = self._attempt(x, victims, active, deadline.within(seconds))
        self.attempts += 1
        self.progress.steps += 1
        if ok:
            self.successes += 1
            self.batch *= 2
        elif self.batch > 1:
            self.batch = max(1, self.batch // 2)
        else:
            self.skip.add(int(victims[0]))

    def _attempt(self, x: np.ndarray, victims: np.ndarray, active: np.ndarray, deadline: Deadline) -> bool:
        r = self.rules
        keep = np.setdiff1d(active, victims).astype(np.int64)
        moving = np.flatnonzero(np.isin(x, victims)).astype(np.int64)
        shut = np.ones(len(r.usable), dtype=bool)
        shut[keep] = False
        direct = insert(self.problem, x.astype(np.int32), moving, heuristic="bfd", forbidden=shut)
        if (direct[moving] >= 0).all():  # they fit as they are: no repair needed
            return self._keep(direct.astype(np.int64))
        trial = x.copy()
        trial[moving] = -1
        load, _ = self._loads(trial)
        order = moving[np.argsort(-(r.demand[moving] / r.scale).sum(axis=1), kind="stable")]
        _least_overload(
            order,
            trial,
            load,
            r.capacity,
            r.demand,
            r.scale,
            keep,
            r.vm_model,
            r.host_model,
            r.vm_group,
            r.g_ptr,
            r.g_members,
            r.g_level,
            r.g_limit,
            r.domains,
        )
        if (trial[moving] < 0).any():
            return False
        m = self.delta.model
        m.over_w[:] = self.base_weights
        s = self.delta.state(trial)
        if s.acc[1] <= HARD_TOL:
            return self._keep(s.x)
        t0 = self.settings.t0_factor * _calibrate(m, s, self.movable, keep, 128, self.buf_v, self.buf_h, True)
        st = self.settings
        probs = move_probabilities(st.p_shift, st.p_swap, st.p_relieve, 0.0)
        best_pair = np.array([s.acc[0], s.acc[1]])
        late = np.zeros(1)
        late_pos = np.zeros(1, dtype=np.int64)
        while not deadline.expired():
            frac = deadline.fraction()
            t_start = t0 * self.settings.cooling_ratio**frac
            start = s.x.copy()
            _, best_at, _, _ = anneal_chunk(
                m,
                s,
                self.movable,
                ~self.pinned,
                overloaded(m, s),
                keep,
                self.pinned,
                st.chunk,
                t_start,
                t_start * 0.999,
                METROPOLIS,
                late,
                late_pos,
                probs,
                st.samples,
                best_pair,
                self.journal_v,
                self.journal_h,
                self.buf_v,
                self.buf_h,
                True,
            )
            if best_at >= 0 and best_pair[1] <= HARD_TOL:
                return self._keep(_replay(start, self.journal_v, self.journal_h, best_at))
            if st.breakout > 0:  # breakout: make the overload that stays expensive
                raise_overload_weights(m, s, 1.0 + st.breakout)
                best_pair[:] = (s.acc[0], s.acc[1])
        return False

    def _keep(self, x: np.ndarray) -> bool:
        """Offer a repacked assignment; True when the real problem finds it feasible."""
        _, feasible = self.evaluate(x[None].astype(np.int32))
        return bool(feasible[0])
