"""Simulated annealing then CP-SAT large-neighbourhood search for ROADEF/EURO 2012 machine
reassignment (solver ``roadef-ls``).

Phase 1, annealing, on the exact int64 delta evaluator (:mod:`cluster_opt.roadef.delta`):
only feasible moves are ever applied, so starting from the (valid) original assignment the
search never leaves the feasible region. The temperature falls geometrically with the share
of the annealing budget used (``sa_share`` of the time, or ``iterations`` moves: then a run
is reproducible from its seed whatever the machine's speed); after ``reheat_after`` of it
without a new best it restarts from the best assignment at ``reheat_ratio`` of the start
temperature. Each :meth:`RoadefSearch.step` runs one chunk in numba (O(R + B) per move
tried, plus the dependencies of the services involved); accepted moves are journaled and
the best assignment of a chunk is rebuilt from the journal at its end, never copied on
every improvement. Moves: shifts, swaps (half of them with a partner of similar size: on
annealed a2_2 / a2_5 states 5x / 2.5x more of those fit than of random pairs), shifts from
costly to cheap machines, shifts back to the original machine and ejection chains (see
:func:`anneal_chunk`). Ejections are the most productive move per move tried but ~100x the
cost of a shift (at 3 % of the moves they took 75 % of the time on a2_2); at 10 % of the
moves with 4 (not 16) candidate machines per ejected process the 25 s annealing-only gap on
a2_2 / a2_5 fell from 26 % to 22 % (mean of 2 seeds each).

Phase 2, the rest of the time (or ``lns_neighbourhoods`` steps): from the best assignment,
each step re-places every process of a few machines exactly with CP-SAT
(:mod:`cluster_opt.roadef.lns`); a result is kept when the exact checker accepts it and it
costs no more.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit
from pydantic import Field

from cluster_opt.evaluate import Problem
from cluster_opt.roadef.checker import check
from cluster_opt.roadef.delta import (
    BALANCE,
    LOAD,
    OK,
    RoadefDelta,
    row_ok,
    shift_apply,
    shift_delta,
    swap_apply,
    swap_delta,
    total,
)
from cluster_opt.roadef.lns import pick_machines, reoptimise
from cluster_opt.roadef.terms import roadef_instance
from cluster_opt.solve.base import Deadline, Solver, SolverSettings, register_solver


class RoadefSearchSettings(SolverSettings):
    t0: float | None = Field(default=None, gt=0, description="start temperature; None = calibrated")
    t_end_ratio: float = Field(default=1e-5, gt=0, lt=1, description="end temperature / start")
    p_swap: float = Field(default=0.3, ge=0, le=1, description="share of swap moves")
    p_near: float = Field(
        default=0.5, ge=0, le=1, description="share of swaps with a partner of similar size (see swap_window)"
    )
    swap_window: int = Field(default=20, ge=1, description="size ranks between near swap partners at most")
    p_eject: float = Field(default=0.1, ge=0, le=1, description="share of ejection moves (the rest: shifts)")
    eject_candidates: int = Field(default=4, ge=1, description="machines tried per process ejected")
    eject_depth: int = Field(default=32, ge=2, description="moves per ejection at most")
    p_focus: float = Field(default=0.2, ge=0, le=1, description="share of shifts from costly machines")
    p_home: float = Field(default=0.1, ge=0, le=1, description="share of shifts back to the original machine")
    tournament: int = Field(default=4, ge=1, description="machines compared to pick a costly one")
    chunk: int = Field(default=20000, ge=100, description="moves tried per step")
    iterations: int | None = Field(default=None, ge=1, description="budget in moves tried (reproducible)")
    reheat_after: float = Field(default=0.2, gt=0, le=1, description="share of budget without a new best")
    reheat_ratio: float = Field(default=0.3, gt=0, le=1)
    check: bool = Field(default=False, description="assert mode: re-check every new best exactly")
    sa_share: float = Field(
        default=0.7, gt=0, le=1, description="share of the time budget annealed before the CP-SAT LNS phase"
    )
    lns_machines: int | None = Field(
        default=None,
        ge=2,
        description="machines per LNS neighbourhood; None: ~50 processes' worth (2-8)",
    )
    lns_seconds: float = Field(default=0.3, gt=0, description="CP-SAT deterministic time per neighbourhood")
    lns_neighbourhoods: int = Field(
        default=0, ge=0, description="with an iteration budget: LNS neighbourhoods after the annealing"
    )


@njit(cache=True)
def _seed(seed: int) -> None:
    np.random.seed(seed)


@njit(cache=True, _nrt=False)
def _fits_alone(p, m, req, proc, mach, trans, use):
    """True when ``p`` would fit on ``m`` once every other process has left it. O(R)."""
    n_res = trans.shape[0]
    for r in range(n_res):
        res = use[m, n_res + r] - (req[p, r] if proc[p, 1] == m else 0)
        if req[p, r] + trans[r] * res > mach[m, r]:
            return False
    return True


@njit(cache=True, _nrt=False)
def _costly_process(n_proc, tour, mcost, links):
    """A random process of the costliest (load + balance) of ``tour`` random machines, or a
    random process when that machine is empty. O(tour + processes on it)."""
    n_mach = mcost.shape[0]
    m = np.random.randint(n_mach)
    for _ in range(tour - 1):
        c = np.random.randint(n_mach)
        if mcost[c, 0] + mcost[c, 1] > mcost[m, 0] + mcost[m, 1]:
            m = c
    chosen = -1
    seen = 0
    q = links[2, m]
    while q >= 0:  # reservoir sampling over m's list
        seen += 1
        if np.random.randint(seen) == 0:
            chosen = q
        q = links[0, q]
    return chosen if chosen >= 0 else np.random.randint(n_proc)


@njit(cache=True, _nrt=False)
def _biggest_excess_share(m, p, stack, k, n_failed, req, mach, trans, use, links):
    """The process of machine ``m`` (not ``p``, not one of the ``n_failed`` at the end of
    ``stack``) covering the largest share of ``m``'s excess over capacity, summed over the
    resources in excess; -1 if none. O(processes on m x (R + n_failed))."""
    n_res = trans.shape[0]
    best, best_share = -1, -1.0
    q = links[2, m]
    while q >= 0:
        skip = q == p
        for i in range(n_failed):
            skip = skip or stack[stack.shape[0] - 1 - i, 0] == q
        if not skip:
            share = 0.0
            for r in range(n_res):
                excess = use[m, r] + trans[r] * use[m, n_res + r] - mach[m, r]
                if excess > 0:
                    share += min(req[q, r], excess) / excess
            if share > best_share:
                best, best_share = q, share
        q = links[0, q]
    return best


@njit(cache=True)
def _eject(
    p, m2, temp, n_cand, stack,
    req, proc, mach, trans, load_w, bal, mmc, weights, x, use, mcost, on_machine, svc, hist, acc, ubuf, cbuf,
    geo, spread_min, dep_ptr, dep, rdep_ptr, rdep, links, at_loc, at_nbh,
):  # fmt: skip
    """Ejection move: put ``p`` on ``m2`` even if it does not fit, then move other processes
    of ``m2``, the one covering most of the excess first (:func:`_biggest_excess_share`),
    each to the best of p's old machine, its own original machine and ``n_cand`` random
    ones (all when M <= n_cand), until ``m2`` fits; kept when it ends feasible and passes the annealing test
    at ``temp``, else undone. The moves made are in ``stack[:k]`` (process, machine it
    left); returns (k, cost change), k = 0 when nothing changed. O(depth x (processes on
    m2 x R + n_cand x (R + B)))."""
    n_mach = mach.shape[0]
    m1 = x[p]
    if not _fits_alone(p, m2, req, proc, mach, trans, use):
        return 0, 0
    status, delta = shift_delta(
        p, m2, True, req, proc, mach, trans, load_w, bal, mmc, weights,
        x, use, mcost, on_machine, svc, hist, acc, ubuf, cbuf
    )  # fmt: skip
    if status != OK:
        return 0, 0
    stack[0, 0] = p
    stack[0, 1] = x[p]
    if not shift_apply(
        p, m2, True, req, proc, mmc, geo, spread_min, dep_ptr, dep, rdep_ptr, rdep,
        x, links, use, mcost, on_machine, at_loc, at_nbh, svc, hist, acc, ubuf, cbuf
    ):  # fmt: skip
        return 0, 0
    k = 1
    n_failed = 0
    while k + n_failed < stack.shape[0] and not row_ok(m2, mach, trans, use):
        q = _biggest_excess_share(m2, p, stack, k, n_failed, req, mach, trans, use, links)
        if q < 0:
            break
        best_m, best_d = -1, 0
        for c in range(min(n_cand, n_mach) + 2):
            t = m1  # where p came from has room now
            if c == 1:
                t = proc[q, 1]  # q's original machine: no move cost, no reservation
            elif c > 1:
                t = np.random.randint(n_mach) if n_mach > n_cand else c - 2
            if t != m2:
                st, d = shift_delta(
                    q, t, False, req, proc, mach, trans, load_w, bal, mmc, weights,
                    x, use, mcost, on_machine, svc, hist, acc, ubuf, cbuf
                )  # fmt: skip
                if st == OK and (best_m < 0 or d < best_d):
                    best_m, best_d = t, d
        moved = False
        if best_m >= 0:
            shift_delta(
                q, best_m, False, req, proc, mach, trans, load_w, bal, mmc, weights,
                x, use, mcost, on_machine, svc, hist, acc, ubuf, cbuf
            )  # fmt: skip
            moved = shift_apply(
                q, best_m, True, req, proc, mmc, geo, spread_min, dep_ptr, dep, rdep_ptr, rdep,
                x, links, use, mcost, on_machine, at_loc, at_nbh, svc, hist, acc, ubuf, cbuf
            )  # fmt: skip
        if moved:
            stack[k, 0] = q
            stack[k, 1] = m2
            delta += best_d
            k += 1
        else:  # stays: remembered at the end of the stack so it is not picked again
            n_failed += 1
            stack[stack.shape[0] - n_failed, 0] = q
    if row_ok(m2, mach, trans, use) and (delta <= 0 or np.random.random() < math.exp(-delta / temp)):
        return k, delta
    for i in range(k - 1, -1, -1):  # undo, newest first: every state passed through was feasible but m2
        q, back = stack[i, 0], stack[i, 1]
        shift_delta(
            q, back, True, req, proc, mach, trans, load_w, bal, mmc, weights,
            x, use, mcost, on_machine, svc, hist, acc, ubuf, cbuf
        )  # fmt: skip
        shift_apply(
            q, back, False, req, proc, mmc, geo, spread_min, dep_ptr, dep, rdep_ptr, rdep,
            x, links, use, mcost, on_machine, at_loc, at_nbh, svc, hist, acc, ubuf, cbuf
        )  # fmt: skip
    return 0, 0


@njit(cache=True)
def anneal_chunk(
    n_iter, t_start, t_end, probs, n_cand, tour, near, window, best, journal, stack,
    req, proc, mach, trans, load_w, bal, mmc, weights, x, use, mcost, on_machine, svc, hist, acc, ubuf, cbuf,
    geo, spread_min, dep_ptr, dep, rdep_ptr, rdep, links, at_loc, at_nbh,
):  # fmt: skip
    """Try ``n_iter`` random moves at temperatures falling geometrically from ``t_start`` to
    ``t_end``: with cumulative probabilities ``probs`` a swap (below ``probs[5]`` with a
    partner at most ``window`` ranks away in the size order ``near`` = (order, rank)), an
    ejection (:func:`_eject`: below ``probs[4]`` of a random process back to its original
    machine, else of a process from a costly machine, the costliest of ``tour``), a shift of
    such a process to a cheap machine (cheapest of ``tour``), a shift of a random process back
    to its original machine, else a shift of a random process to a random machine. A feasible
    move is applied when its cost change ``delta <= 0`` or with probability exp(-delta / T).
    Applied single moves go to ``journal`` (process, machine); ``best[0]`` (the best total) is
    updated. Returns (journal length, journal length at the last new best or -1, moves applied,
    moves tried: fewer than ``n_iter`` only when the journal is full). O(n_iter (R + B)) plus
    dependency scans and ejections."""
    n_proc = x.shape[0]
    n_mach = mach.shape[0]
    cur = total(acc, weights)
    n_j = 0
    best_at = -1
    applied = 0
    log_ratio = math.log(t_end / t_start)
    temp = t_start
    tried = 0
    for it in range(n_iter):
        if n_j + stack.shape[0] > journal.shape[0]:
            break
        tried += 1
        if it % 256 == 0:
            temp = t_start * math.exp(log_ratio * it / n_iter)
        p = np.random.randint(n_proc)
        u = np.random.random()
        if u < probs[0]:
            if u < probs[5]:  # a partner of similar size: far more of these swaps fit
                q = near[0, min(max(near[1, p] + np.random.randint(-window, window + 1), 0), n_proc - 1)]
            else:
                q = np.random.randint(n_proc)
            status, delta = swap_delta(
                p, q, req, proc, mach, trans, load_w, bal, mmc, weights,
                x, use, mcost, on_machine, svc, hist, acc, ubuf, cbuf
            )  # fmt: skip
            if status != OK or (delta > 0 and np.random.random() >= math.exp(-delta / temp)):
                continue
            m_p, m_q = x[q], x[p]
            if not swap_apply(
                p, q, req, proc, mmc, geo, spread_min, dep_ptr, dep, rdep_ptr, rdep,
                x, links, use, mcost, on_machine, at_loc, at_nbh, svc, hist, acc, ubuf, cbuf
            ):  # fmt: skip
                continue
            journal[n_j, 0] = p
            journal[n_j, 1] = m_p
            journal[n_j + 1, 0] = q
            journal[n_j + 1, 1] = m_q
            n_j += 2
        elif u < probs[1]:
            if u < probs[4]:  # bring a random process home, ejecting others
                m2 = proc[p, 1]
                if m2 == x[p]:
                    continue
            else:
                p = _costly_process(n_proc, tour, mcost, links)
                m2 = np.random.randint(n_mach)
                for _ in range(8):
                    if m2 != x[p] and _fits_alone(p, m2, req, proc, mach, trans, use):
                        break
                    m2 = np.random.randint(n_mach)
            k, delta = _eject(
                p, m2, temp, n_cand, stack,
                req, proc, mach, trans, load_w, bal, mmc, weights,
                x, use, mcost, on_machine, svc, hist, acc, ubuf, cbuf,
                geo, spread_min, dep_ptr, dep, rdep_ptr, rdep, links, at_loc, at_nbh,
            )  # fmt: skip
            if k == 0:
                continue
            for i in range(k):
                q = stack[i, 0]
                journal[n_j, 0] = q
                journal[n_j, 1] = x[q]
                n_j += 1
        else:
            q = np.random.randint(n_mach)
            if u < probs[2]:
                p = _costly_process(n_proc, tour, mcost, links)
                for _ in range(tour - 1):  # the cheapest of tour machines
                    c = np.random.randint(n_mach)
                    if mcost[c, 0] + mcost[c, 1] < mcost[q, 0] + mcost[q, 1]:
                        q = c
            elif u < probs[3]:
                q = proc[p, 1]  # back to its original machine
            status, delta = shift_delta(
                p, q, False, req, proc, mach, trans, load_w, bal, mmc, weights,
                x, use, mcost, on_machine, svc, hist, acc, ubuf, cbuf
            )  # fmt: skip
            if status != OK or (delta > 0 and np.random.random() >= math.exp(-delta / temp)):
                continue
            if not shift_apply(
                p, q, True, req, proc, mmc, geo, spread_min, dep_ptr, dep, rdep_ptr, rdep,
                x, links, use, mcost, on_machine, at_loc, at_nbh, svc, hist, acc, ubuf, cbuf
            ):  # fmt: skip
                continue
            journal[n_j, 0] = p
            journal[n_j, 1] = q
            n_j += 1
        applied += 1
        cur += delta
        if cur < best[0]:
            best[0] = cur
            best_at = n_j
    return n_j, best_at, applied, tried


def size_ranks(req: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """int64[2, P]: processes by increasing size (the sum over resources of the requirement
    over the mean machine capacity), and each process's rank in that order. O(P (R + log P))."""
    size = (req / np.maximum(capacity.mean(axis=0), 1)).sum(axis=1)
    order = np.argsort(size, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return np.vstack([order, rank]).astype(np.int64)


@njit(cache=True)
def _replay(x, journal, n):
    """``x`` after the first ``n`` journaled moves, in order. O(n)."""
    for i in range(n):
        x[journal[i, 0]] = journal[i, 1]
    return x


@njit(cache=True)
def _calibrate(
    samples, req, proc, mach, trans, load_w, bal, mmc, weights,
    x, use, mcost, on_machine, svc, hist, acc, ubuf, cbuf,
):  # fmt: skip
    """Median cost increase of random feasible-looking shifts (not applied); 1.0 if none
    of ``samples x 50`` tries increases the cost."""
    out = np.empty(samples)
    k = 0
    for _ in range(samples * 50):
        if k == samples:
            break
        p = np.random.randint(x.shape[0])
        m = np.random.randint(mach.shape[0])
        status, delta = shift_delta(
            p, m, False, req, proc, mach, trans, load_w, bal, mmc, weights,
            x, use, mcost, on_machine, svc, hist, acc, ubuf, cbuf
        )  # fmt: skip
        if status == OK and delta > 0:
            out[k] = delta
            k += 1
    return np.median(out[:k]) if k else 1.0


@register_solver
class RoadefSearch(Solver):
    """Simulated annealing over feasible shifts and swaps of a ROADEF problem built by
    :func:`cluster_opt.roadef.adapter.roadef_problem` (see the module docstring). Seeds
    (default: the original assignment) must be feasible; the best feasible one starts."""

    name = "roadef-ls"
    Settings = RoadefSearchSettings
    settings: RoadefSearchSettings

    def __init__(
        self,
        problem: Problem,
        seeds: np.ndarray | None = None,
        *,
        seed: int = 0,
        settings: RoadefSearchSettings | Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(problem, seeds, seed=seed, settings=settings)
        self.instance = roadef_instance(problem)
        self.initial = problem.cluster.vms.current.astype(np.int64)
        first = check(self.instance, self.initial)
        if not first.valid:
            raise ValueError(f"the original assignment of {self.instance.name!r} is invalid: {first.reason}")
        if not len(self.seeds):
            self.seeds = self.initial.astype(np.int32)[None]
        self.evaluate(self.seeds)
        start = self.best()
        self.delta = RoadefDelta.of(self.instance, self.initial, start.x if start.feasible else self.initial)
        self.best_x = self.delta.x.copy()
        self.best_total = np.array([self.delta.total()], dtype=np.int64)
        if not start.feasible:
            self._offer(self.best_x.astype(np.int32), float(self.best_total[0]), True)
        st = self.settings
        if st.p_swap + st.p_eject > 1:
            raise ValueError("p_swap + p_eject must be at most 1")
        if st.p_focus + st.p_home > 1:
            raise ValueError("p_focus + p_home must be at most 1")
        shifts = 1 - st.p_swap - st.p_eject
        self.shifts = shifts
        self.stack = np.empty((st.eject_depth, 2), dtype=np.int64)
        self.journal = np.empty((2 * st.chunk + st.eject_depth, 2), dtype=np.int64)
        self.near = size_ranks(self.instance.requirement, self.instance.capacity)
        _seed(int(self.rng.integers(2**31 - 1)))
        self.t0 = st.t0 or _calibrate(256, *self.delta.evaluate_args) / math.log(2)
        self.iterations = 0
        self.applied = 0
        self.cycle_start = 0.0  # budget share at which the current cooling cycle began
        self.last_best = 0.0  # budget share at the last new best
        self.chunk_share = 0.0  # budget share one chunk took last time
        self.t_top = self.t0
        self.temperature = self.t0
        per_machine = self.instance.n_processes / self.instance.n_machines
        self.lns_machines = st.lns_machines or int(np.clip(round(50 / max(per_machine, 1e-9)), 2, 8))
        self.neighbourhoods = 0  # LNS neighbourhoods solved
        self.lns_improved = 0  # ... that lowered the cost
        self.lns_rejected = 0  # ... whose result the exact checker refused (a sub-model bug)

    def _fraction(self, deadline: Deadline) -> float:
        """Share of the annealing budget used: iterations, or ``sa_share`` of the time."""
        if self.settings.iterations:
            return min(self.iterations / self.settings.iterations, 1.0)
        return min(deadline.fraction() / self.settings.sa_share, 1.0)

    def _temperature(self, frac: float) -> float:
        """Geometric from the cycle's top to ``t_end_ratio`` of it at the end of the annealing."""
        span = max(1.0 - self.cycle_start, 1e-9)
        return self.t_top * self.settings.t_end_ratio ** (min(frac - self.cycle_start, span) / span)

    def _maybe_restart(self, frac: float) -> None:
        """After ``reheat_after`` of the annealing budget without a new best (not in its last
        tenth): back to the best assignment, at ``reheat_ratio`` x t0."""
        st = self.settings
        if frac - self.last_best > st.reheat_after and frac < 0.9:
            self.delta.reset(self.best_x)
            self.cycle_start = self.last_best = frac
            self.t_top = self.t0 * st.reheat_ratio

    def step(self, deadline: Deadline) -> None:
        """One annealing chunk while the annealing budget lasts, then one LNS neighbourhood."""
        st = self.settings
        if self.done:
            return
        if self._fraction(deadline) < 1.0 and not (st.iterations and self.iterations >= st.iterations):
            self._anneal(deadline)
        elif st.iterations and self.neighbourhoods >= st.lns_neighbourhoods:
            self.done = True
        else:
            self._lns(deadline)

    def _probs(self) -> np.ndarray:
        """Cumulative move probabilities of :func:`anneal_chunk` (swap, ejection, focused shift,
        home shift; then where home ejections end). Moves home are scaled by the share of the
        move costs in the current total: they lose time where load and balance dominate
        (measured on a1_2 and a2_5) and are what is left to do once those are near 0 (a2_1)."""
        st, d = self.settings, self.delta
        share = 1.0 - float(d.acc[LOAD] + d.acc[BALANCE]) / max(d.total(), 1)
        probs = np.cumsum([st.p_swap, st.p_eject, self.shifts * st.p_focus, self.shifts * st.p_home * share])
        return np.append(probs, [st.p_swap + 0.5 * st.p_eject * share, st.p_swap * st.p_near])

    def _anneal(self, deadline: Deadline) -> None:
        """One chunk of ``chunk`` annealing moves in numba (see :func:`anneal_chunk`)."""
        st = self.settings
        n_iter = st.chunk
        if st.iterations:
            n_iter = min(n_iter, st.iterations - self.iterations)
        _seed(int(self.rng.integers(2**31 - 1)))  # numba's generator is per thread: reseed per step
        frac = self._fraction(deadline)
        self._maybe_restart(frac)
        t_start = self._temperature(frac)
        share = n_iter / st.iterations if st.iterations else self.chunk_share
        t_end = self._temperature(min(frac + share, 1.0))
        start_x = self.delta.x.copy()
        d = self.delta
        _, best_at, applied, tried = anneal_chunk(
            n_iter, t_start, t_end, self._probs(), st.eject_candidates, st.tournament, self.near,
            st.swap_window, self.best_total, self.journal, self.stack, *d.evaluate_args,
            d.geo, d.spread_min, d.dep_ptr, d.dep, d.rdep_ptr, d.rdep, d.links, d.at_loc, d.at_nbh,
        )  # fmt: skip
        self.temperature = t_start
        self.iterations += tried
        self.applied += applied
        self.progress.steps += 1
        self.progress.evaluations += tried
        if not st.iterations:
            self.chunk_share = max(self._fraction(deadline) - frac, 0.0)
        if best_at >= 0:
            self.best_x = _replay(start_x, self.journal, best_at)
            self.last_best = self._fraction(deadline)
            if st.check:
                self._check()
            self._offer(self.best_x.astype(np.int32), float(self.best_total[0]), True)

    def _lns(self, deadline: Deadline) -> None:
        """Re-place the processes of ``lns_machines`` machines exactly (:mod:`.lns`); keep the
        result when the exact checker accepts it and it costs no more (a plateau move)."""
        st = self.settings
        d = self.delta
        if self.neighbourhoods == 0:  # the LNS continues from the best assignment
            d.reset(self.best_x)
        self.neighbourhoods += 1
        self.progress.steps += 1
        machines = pick_machines(d, self.lns_machines, self.rng)
        x, _ = reoptimise(
            d, machines, st.lns_seconds, int(self.rng.integers(2**31 - 1)), deadline.remaining()
        )
        if x is None:
            return
        before, old = d.total(), d.x.copy()
        d.reset(x)
        after = d.total()
        result = check(self.instance, self.initial, x) if after <= before else None
        if result is None or not result.valid or result.total != after:
            self.lns_rejected += result is not None
            d.reset(old)
            return
        self.lns_improved += after < before
        if after < self.best_total[0]:
            self.best_total[0] = after
            self.best_x = d.x.copy()
            self._offer(self.best_x.astype(np.int32), float(after), True)

    def _check(self) -> None:
        """Assert mode: the exact checker must accept the best and agree on its cost."""
        result = check(self.instance, self.initial, self.best_x)
        if not result.valid or result.total != self.best_total[0]:
            raise AssertionError(
                f"delta best {self.best_total[0]} disagrees with the checker: {result.total}, {result.reason}"
            )

    def accept(self, migrants: np.ndarray) -> None:
        """Evaluate migrants; continue from the best one when it beats the best so far."""
        super().accept(migrants)
        best = self.best()
        if best.feasible and best.score < self.best_total[0]:
            self.best_x = best.x.astype(np.int64)
            self.delta.reset(self.best_x)
            self.best_total[0] = self.delta.total()
