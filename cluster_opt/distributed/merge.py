"""Merge partition solutions into global ones, improve them across zones, and pick one from
the Pareto front.

* :func:`assemble` writes each partition's local assignment into a global one;
* :func:`relocate` moves VMs to zones where their price and their users' latency are lower
  (the moves partitions cannot make), in batches per target zone, each batch kept only
  when the whole score improves;
* :func:`global_pass` repairs what crosses partitions, relocates, then anneals the whole
  problem with the delta evaluator for the rest of its budget;
* :func:`front` keeps the non-dominated feasible candidates on the front's objectives and
  marks the chosen one: the lowest weighted score (added to the front when terms outside
  its objectives make it dominated there), or the knee: the point nearest the ideal once
  every objective is scaled to [0, 1] over the front.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from cluster_opt.distributed.partition import Partition
from cluster_opt.evaluate import Evaluator, Problem
from cluster_opt.solve.base import Deadline, Solution
from cluster_opt.solve.construct import insert, repair
from cluster_opt.solve.delta import DeltaModel
from cluster_opt.solve.registry import solvers

#: Objectives of the global Pareto front (evaluator term names).
FRONT_OBJECTIVES = ("energy_watts", "hourly_cost", "latency_ms", "migrations")


def assemble(x0: np.ndarray, parts: Sequence[Partition], local: Sequence[np.ndarray]) -> np.ndarray:
    """int32[V]: ``x0`` with each partition's VMs placed by its local assignment. O(V)."""
    x = np.array(x0, dtype=np.int32, copy=True)
    for part, xp in zip(parts, local, strict=True):
        part.lift(xp, x)
    return x


def relocate(problem: Problem, x: np.ndarray, deadline: Deadline) -> np.ndarray:
    """``x`` with VMs moved to powered hosts of zones where their weighted price and user
    latency are lower, net of the cost of migrating them. VMs are grouped by their best
    zone; each group is inserted there by best fit (those that do not fit stay), and the
    group's moves are kept only when the evaluator's score improves. VMs in affinity
    groups and pinned VMs stay. O(Z (insert + evaluation)) = O(Z V R) at most."""
    m = DeltaModel.of(problem).model
    ev = Evaluator(problem)
    c = problem.cluster
    x = np.array(x, dtype=np.int32, copy=True)
    placed = np.flatnonzero((x >= 0) & c.vms.migratable & (c.vms.affinity < 0))
    if not len(placed) or m.zone_cost.shape[1] < 2:
        return x
    here = m.zone_cost[placed, m.host_zone[x[placed]]]
    best_zone = np.argmin(m.zone_cost[placed], axis=1)
    stays_home = x[placed] == m.current[placed]
    gain = here - m.zone_cost[placed, best_zone] - np.where(stays_home, m.move_soft[placed], 0.0)
    movers, target = placed[gain > 1e-9], best_zone[gain > 1e-9]
    score = float(ev.batch(x[None]).score[0])
    powered = np.bincount(x[x >= 0], minlength=c.n_hosts) > 0
    zones, counts = np.unique(target, return_counts=True)
    for z in zones[np.argsort(-counts, kind="stable")]:  # the zone most VMs prefer first
        if deadline.expired():
            break
        group = movers[target == z]
        trial = insert(problem, x, group, heuristic="bfd", forbidden=~(powered & (m.host_zone == z)))
        lost = group[trial[group] < 0]
        trial[lost] = x[lost]
        trial_score = float(ev.batch(trial[None]).score[0])
        if trial_score < score - 1e-9:
            x, score = trial, trial_score
    return x


def global_pass(
    problem: Problem, x: np.ndarray, deadline: Deadline, *, seed: int = 0, algo: str = "anneal"
) -> Solution:
    """The best of ``x`` repaired, relocated across zones, then improved by ``algo`` on
    the whole problem until ``deadline``."""
    x = relocate(problem, repair(problem, x), deadline)
    solver = solvers()[algo](problem, x[None], seed=seed)
    return solver.run(deadline)


@dataclass
class Front:
    """Candidate solutions on the front's objectives; ``chosen`` indexes :attr:`x`."""

    x: np.ndarray  # int32[F, V] the non-dominated feasible candidates
    objectives: tuple[str, ...]
    values: np.ndarray  # float64[F, n_obj]
    scores: np.ndarray  # float64[F] weighted score
    feasible: np.ndarray  # bool[F] (all True unless no candidate was feasible)
    chosen: int


def front(
    problem: Problem,
    candidates: np.ndarray,
    *,
    choose: str = "score",
    objectives: Sequence[str] = FRONT_OBJECTIVES,
) -> Front:
    """The non-dominated feasible rows of ``candidates`` (int32[C, V]; distinct rows), and
    the chosen one. Falls back to the lowest-score row when none is feasible. O(C V R +
    n_obj C^2)."""
    names = [n for n in objectives if n in problem.term_names]
    batch = Evaluator(problem).batch(candidates)
    values = batch.matrix(names)
    ok = np.flatnonzero(batch.feasible)
    if not len(ok):
        i = int(np.argmin(batch.score))
        return Front(candidates[[i]], tuple(names), values[[i]], batch.score[[i]], batch.feasible[[i]], 0)
    keep = ok[NonDominatedSorting().do(values[ok], only_non_dominated_front=True)]
    _, first = np.unique(values[keep], axis=0, return_index=True)
    keep = keep[np.sort(first)]
    if choose == "knee":
        v = values[keep]
        span = np.ptp(v, axis=0)
        scaled = (v - v.min(axis=0)) / np.where(span > 0, span, 1.0)
        chosen = int(np.argmin(np.linalg.norm(scaled, axis=1)))
    elif choose == "score":
        # the lowest score; it may be dominated on the front's objectives when terms
        # outside them (active hosts, consolidation, balance) decide: then it joins the front
        best = int(ok[np.argmin(batch.score[ok])])
        if best not in keep:
            keep = np.append(keep, best)
        chosen = int(np.flatnonzero(keep == best)[0])
    else:
        raise ValueError(f"unknown choice {choose!r}; use 'score' or 'knee'")
    rows = candidates[keep]
    return Front(rows, tuple(names), values[keep], batch.score[keep], batch.feasible[keep], chosen)


def chain(
    x0: np.ndarray, parts: Sequence[Partition], local: Sequence[np.ndarray], gains: np.ndarray
) -> np.ndarray:
    """int32[P, V]: trade-off candidates between ``x0`` and every partition's best: row k
    applies the k+1 partitions with the highest gain per migrated VM. O(P V)."""
    moved = np.array(
        [max(int((part.restrict(x0) != xp).sum()), 1) for part, xp in zip(parts, local, strict=True)]
    )
    order = np.argsort(-(gains / moved), kind="stable")
    rows, x = [], np.array(x0, dtype=np.int32, copy=True)
    for p in order:
        if gains[p] <= 0:
            break
        parts[p].lift(local[p], x)
        rows.append(x.copy())
    return np.stack(rows) if rows else np.empty((0, len(x0)), dtype=np.int32)
