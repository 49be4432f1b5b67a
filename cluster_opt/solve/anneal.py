"""Simulated annealing over the delta evaluator: shift, swap and empty-host moves,
geometric or adaptive (reheating) cooling that follows the share of the budget used, and
Metropolis or late-acceptance criteria. The last ``descent_share`` of the budget (10 %)
restarts from the best solution and descends (temperature ~0: equal moves pass, worse ones
do not): the calibrated start temperature follows the large moves (hosts on and off), and
without the finish small gains (a migration saved, a spot VM regrouped) were never kept.

Each :meth:`Anneal.step` runs one chunk of iterations in numba (O(R + m) per shift or
swap, see :mod:`cluster_opt.solve.moves`); accepted moves are journaled so the best
assignment seen inside a chunk is rebuilt at its end without copying V entries on every
improvement. The best is re-scored by the batch evaluator before it enters the archive,
and ``check=True`` (assert mode) also compares the running score with it and raises on
drift. With ``iterations`` set the schedule follows iterations instead of time, so a run
is reproducible from its seed whatever the machine's speed.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numba import njit
from pydantic import Field

from cluster_opt.solve import construct, moves
from cluster_opt.solve.base import Deadline, Solver, SolverSettings, register_solver
from cluster_opt.solve.delta import DeltaModel, init_state

METROPOLIS, LATE = 0, 1
#: Hard score at or below this counts as feasible (float noise of incremental sums).
HARD_TOL = 1e-6
#: Temperature of the final descent, relative to t0: equal moves pass, worse ones do not.
DESCENT_RATIO = 1e-12


class AnnealSettings(SolverSettings):
    cooling: Literal["geometric", "adaptive"] = "adaptive"
    acceptance: Literal["metropolis", "late"] = "metropolis"
    t0: float | None = Field(default=None, gt=0, description="start temperature; None = calibrated")
    t_end_ratio: float = Field(default=1e-3, gt=0, lt=1)
    late_length: int = Field(default=2000, ge=1)
    p_shift: float = Field(default=0.6, ge=0)
    p_swap: float = Field(default=0.3, ge=0)
    p_empty: float = Field(default=0.1, ge=0)
    p_relieve: float = Field(default=0.0, ge=0, description="min-conflicts moves off overloaded hosts")
    candidates: int = Field(default=8, ge=1, description="targets tried per VM when emptying a host")
    chunk: int = Field(default=20000, ge=100, description="iterations per step")
    iterations: int | None = Field(default=None, ge=1, description="budget in iterations (reproducible)")
    descent_share: float = Field(
        default=0.1, ge=0, le=1, description="last share of the budget: descent from the best (T ~ 0)"
    )
    reheat_after: float = Field(default=0.15, gt=0, le=1, description="share of budget without a new best")
    reheat_ratio: float = Field(default=0.3, gt=0, le=1)
    check: bool = False


@njit(cache=True)
def _seed(seed: int) -> None:
    np.random.seed(seed)


@njit(cache=True)
def _better(soft, hard, best_soft, best_hard) -> bool:
    feasible = hard <= HARD_TOL
    best_feasible = best_hard <= HARD_TOL
    if feasible != best_feasible:
        return feasible
    return soft + hard < best_soft + best_hard - 1e-9


@njit(cache=True)
def anneal_chunk(
    m,
    s,
    movable,
    movable_mask,
    focus,
    usable,
    pinned,
    n_iter,
    t_start,
    t_end,
    acceptance,
    late,
    late_pos,
    probs,
    candidates,
    best,
    journal_v,
    journal_h,
    buf_v,
    buf_h,
    stop_feasible,
):
    """Run ``n_iter`` iterations at temperatures falling geometrically from ``t_start`` to
    ``t_end``. ``best`` float64[2] holds the best (soft, hard) and is updated; accepted
    single moves are appended to the journal. With ``stop_feasible`` it returns as soon as
    the hard score reaches zero. Returns (journal length, journal length at the last new
    best or -1, accepted moves, iterations done)."""
    n_j = 0
    best_at = -1
    accepted = 0
    acc = np.zeros(2)
    ratio = t_end / t_start
    done = 0
    for it in range(n_iter):
        if n_j + buf_v.shape[0] > journal_v.shape[0]:
            break
        done += 1
        temp = t_start * ratio ** (it / n_iter)
        acc[0] = 0.0
        acc[1] = 0.0
        u = np.random.random()
        if u < probs[0]:
            n = moves.shift(m, s, movable, usable, buf_v, buf_h, acc)
        elif u < probs[1]:
            n = moves.swap(m, s, movable, buf_v, buf_h, acc)
        elif u < probs[2]:
            n = moves.relieve(m, s, movable_mask, focus, usable, candidates, buf_v, buf_h, acc)
        else:
            n = moves.empty_host(m, s, pinned, candidates, buf_v, buf_h, acc)
            if n < 0:
                moves.undo(m, s, buf_v, buf_h, -n)
                continue
        if n == 0:
            continue
        delta = acc[0] + acc[1]
        now = s.acc[0] + s.acc[1]
        if acceptance == LATE:
            k = late_pos[0] % late.shape[0]
            ok = delta <= 0 or now <= late[k]
        else:
            ok = delta <= 0 or np.random.random() < math.exp(-delta / temp)
        if ok:
            accepted += 1
            for i in range(n):
                journal_v[n_j] = buf_v[i]
                journal_h[n_j] = s.x[buf_v[i]]
                n_j += 1
            if _better(s.acc[0], s.acc[1], best[0], best[1]):
                best[0] = s.acc[0]
                best[1] = s.acc[1]
                best_at = n_j
            if stop_feasible and s.acc[1] <= HARD_TOL:
                break
        else:
            moves.undo(m, s, buf_v, buf_h, n)
        if acceptance == LATE:
            late[late_pos[0] % late.shape[0]] = s.acc[0] + s.acc[1]
            late_pos[0] += 1
    return n_j, best_at, accepted, done


@njit(cache=True)
def _replay(x, journal_v, journal_h, n):
    """``x`` after the first ``n`` journaled moves, in order (a VM may move twice). O(n)."""
    for i in range(n):
        x[journal_v[i]] = journal_h[i]
    return x


@njit(cache=True)
def _calibrate(m, s, movable, usable, samples, buf_v, buf_h, with_hard=False):
    """Median positive change of random shifts (undone): of the soft score over shifts that
    keep the hard score, or of the total with ``with_hard``."""
    acc = np.zeros(2)
    out = np.empty(samples)
    k = 0
    for _ in range(samples * 4):
        if k == samples:
            break
        acc[0] = 0.0
        acc[1] = 0.0
        n = moves.shift(m, s, movable, usable, buf_v, buf_h, acc)
        moves.undo(m, s, buf_v, buf_h, n)
        change = acc[0] + acc[1] if with_hard else acc[0]
        if n and (with_hard or abs(acc[1]) <= HARD_TOL) and change > 0:
            out[k] = change
            k += 1
    return np.median(out[:k]) if k else 1.0


def overloaded(m, s) -> np.ndarray:
    """int64[k]: hosts over capacity in some resource in state ``s``. O(H R)."""
    return np.flatnonzero((s.load > m.cap_tol).any(axis=1)).astype(np.int64)


def move_probabilities(shift: float, swap: float, relieve: float, empty: float) -> np.ndarray:
    """Cumulative probabilities of the move types, in the order anneal_chunk draws them."""
    p = np.array([shift, swap, relieve, empty], dtype=np.float64)
    if p.sum() <= 0:
        raise ValueError("at least one move probability must be positive")
    return np.cumsum(p / p.sum())


@register_solver
class Anneal(Solver):
    """Simulated annealing with delta evaluation (see the module docstring)."""

    name = "anneal"
    Settings = AnnealSettings
    settings: AnnealSettings

    def __init__(self, problem, seeds=None, *, seed=0, settings=None) -> None:
        super().__init__(problem, seeds, seed=seed, settings=settings)
        self.delta = DeltaModel.of(problem)
        m = self.delta.model
        rules = construct.PlacementRules.of(problem)
        self.pinned = np.ascontiguousarray(rules.pinned)
        self.movable = np.flatnonzero(~rules.pinned).astype(np.int64)
        self.usable = np.flatnonzero(rules.usable).astype(np.int64)
        if not len(self.seeds):
            self.seeds = np.stack([construct.repair(problem, problem.cluster.current_assignment())])
        self.evaluate(self.seeds)
        start = self.best().x
        self.state_ = self.delta.state(start)
        self.best_pair = np.array([self.state_.acc[0], self.state_.acc[1]])
        self.buf_v = np.empty(512, dtype=np.int64)
        self.buf_h = np.empty(512, dtype=np.int64)
        self.journal_v = np.empty(self.settings.chunk * 4 + 1024, dtype=np.int64)
        self.journal_h = np.empty_like(self.journal_v)
        _seed(int(self.rng.integers(2**31 - 1)))
        st = self.settings
        self.probs = move_probabilities(st.p_shift, st.p_swap, st.p_relieve, st.p_empty)
        if len(self.movable) and len(self.usable):
            self.t0 = st.t0 or _calibrate(
                m, self.state_, self.movable, self.usable, 256, self.buf_v, self.buf_h
            ) / math.log(2)
        else:
            self.t0 = st.t0 or 1.0
            self.done = True
        self.late = np.full(st.late_length, self.state_.acc[0] + self.state_.acc[1])
        self.late_pos = np.zeros(1, dtype=np.int64)
        self.iterations = 0
        self.accepted = 0
        self.cycle_start = 0.0  # budget share at which the current cooling cycle began
        self.last_best = 0.0  # budget share at the last new best
        self.temperature = self.t0
        self.t_top = self.t0  # top of the current cooling cycle
        self.descending = False  # in the final descent phase

    def _fraction(self, deadline: Deadline) -> float:
        if self.settings.iterations:
            return min(self.iterations / self.settings.iterations, 1.0)
        return deadline.fraction()

    def _maybe_reheat(self, frac: float) -> None:
        """Adaptive cooling: restart the cycle at ``reheat_ratio`` x t0 after ``reheat_after``
        of the budget without a new best (not in the last tenth)."""
        st = self.settings
        if st.cooling == "adaptive" and frac - self.last_best > st.reheat_after and frac < 0.9:
            self.cycle_start = frac
            self.last_best = frac
            self.t_top = self.t0 * st.reheat_ratio

    def _temperature(self, frac: float) -> float:
        """Temperature at budget share ``frac``: geometric from the cycle's top to
        ``t_end_ratio`` of it at the end of the budget."""
        span = max(1.0 - self.cycle_start, 1e-9)
        return self.t_top * self.settings.t_end_ratio ** ((frac - self.cycle_start) / span)

    def step(self, deadline: Deadline) -> None:
        if self.done:
            return
        st = self.settings
        n_iter = st.chunk
        if st.iterations:
            n_iter = min(n_iter, st.iterations - self.iterations)
            if n_iter <= 0:
                self.done = True
                return
        _seed(int(self.rng.integers(2**31 - 1)))  # numba's generator is per thread: reseed per step
        frac = self._fraction(deadline)
        self._maybe_reheat(frac)
        t_start = self._temperature(frac)
        frac_end = min(frac + (n_iter / st.iterations if st.iterations else 0.0), 1.0)
        t_end = self._temperature(frac_end) if st.iterations else t_start * 0.999
        if frac >= 1.0 - st.descent_share:  # the finish: descend from the best
            if not self.descending:
                self.descending = True
                self._restart_from_best()
            t_start = t_end = self.t0 * DESCENT_RATIO
        s = self.state_
        start_x = s.x.copy()
        _, best_at, accepted, done = anneal_chunk(
            self.delta.model,
            s,
            self.movable,
            ~self.pinned,
            overloaded(self.delta.model, s),
            self.usable,
            self.pinned,
            n_iter,
            t_start,
            t_end,
            METROPOLIS if st.acceptance == "metropolis" else LATE,
            self.late,
            self.late_pos,
            self.probs,
            st.candidates,
            self.best_pair,
            self.journal_v,
            self.journal_h,
            self.buf_v,
            self.buf_h,
            False,
        )
        self.temperature = t_start
        self.iterations += done
        self.accepted += accepted
        self.progress.steps += 1
        if best_at >= 0:
            best_x = _replay(start_x, self.journal_v, self.journal_h, best_at)
            score, _ = self.evaluate(best_x[None].astype(np.int32))
            self.last_best = self._fraction(deadline)
            if st.check:
                self._check(best_x, float(score[0]))
        init_state(self.delta.model, s)  # clear float drift of the incremental sums

    def _check(self, x: np.ndarray, score: float) -> None:
        """Assert mode: the delta evaluator's best must equal the batch evaluator's."""
        ours = float(self.best_pair.sum())
        if not math.isclose(ours, score, rel_tol=1e-7, abs_tol=1e-6):
            raise AssertionError(f"delta score {ours!r} drifted from batch score {score!r}")

    def accept(self, migrants: np.ndarray) -> None:
        """Evaluate migrants; restart from the best one when it beats the current state."""
        super().accept(migrants)
        self._restart_from_best()

    def _restart_from_best(self) -> None:
        """Move the state to the best solution so far when that is better."""
        best = self.best()
        s = self.state_
        if best.score < s.acc[0] + s.acc[1] - 1e-9:
            s.x[:] = best.x
            init_state(self.delta.model, s)
            self.best_pair[:] = (s.acc[0], s.acc[1])
