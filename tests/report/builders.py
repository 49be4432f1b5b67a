"""Plausible report inputs built from a generated cluster: a consolidating "after"
placement, the moves between the two, islands' progress and a Pareto front.

They only need to look like a run's outputs (the solvers and the planner are tested
elsewhere); everything is drawn from a seeded generator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cluster_opt.evaluate import Evaluation, Problem, evaluate
from cluster_opt.model import Cluster
from cluster_opt.report import IslandCounts, ReportData


def drain_racks(cluster: Cluster, x: np.ndarray, rng: np.random.Generator, share: float = 0.15) -> np.ndarray:
    """Empty a random ``share`` of the racks: each of their VMs goes, first fit, to a host of
    the same region outside the drained racks that still has room, powered hosts first. A VM
    stays if no host has room, or if it is pinned, in a group or needs a GPU (so the result
    stays feasible).
    O(moved VMs x hosts per region)."""
    after = x.copy()
    racks = cluster.hosts.rack
    n_racks = len(cluster.topology.racks)
    drained = np.zeros(n_racks, dtype=bool)
    drained[rng.choice(n_racks, size=max(1, int(share * n_racks)), replace=False)] = True
    placed = x >= 0
    vms = cluster.vms
    free_to_move = (
        placed & vms.migratable & (vms.anti_affinity < 0) & (vms.affinity < 0) & (vms.gpu_model < 0)
    )
    load = np.zeros_like(cluster.hosts.capacity)
    np.add.at(load, x[placed], cluster.vms.demand[placed])
    free = cluster.hosts.capacity - load
    target = cluster.usable & ~drained[racks]
    powered_first = np.argsort(~(load > 0).any(axis=1), kind="stable")  # fill running hosts first
    for v in np.flatnonzero(free_to_move & drained[racks[np.maximum(x, 0)]]):
        same_region = powered_first[
            (target & (cluster.hosts.region == cluster.hosts.region[x[v]]))[powered_first]
        ]
        fits = same_region[(free[same_region] >= cluster.vms.demand[v]).all(axis=1)]
        if len(fits):
            h = fits[0]
            free[h] -= cluster.vms.demand[v]
            free[x[v]] += cluster.vms.demand[v]
            after[v] = h
    return after


def moves_between(
    cluster: Cluster, before: np.ndarray, after: np.ndarray, per_wave: int = 40, lanes: int = 8
) -> pd.DataFrame:
    """The moves from ``before`` to ``after`` in waves of ``per_wave``, each wave run on
    ``lanes`` parallel lanes; a move takes 5 s plus 0.8 s per GB of memory."""
    vms = np.flatnonzero((before >= 0) & (after >= 0) & (before != after))
    mem = cluster.vms.demand[vms, cluster.resource_index("mem_gb")]
    seconds = 5.0 + 0.8 * mem
    i = np.arange(len(vms))
    wave, lane = i // per_wave, i % lanes
    df = pd.DataFrame(
        {"wave": wave, "lane": lane, "vm": cluster.vms.ids[vms], "seconds": seconds, "mem_gb": mem}
    )
    offset = df.groupby(["wave", "lane"])["seconds"].cumsum() - df["seconds"]
    length = (offset + df["seconds"]).groupby(df["wave"]).max()
    wave_start = (length + 10.0).cumsum().shift(fill_value=0.0)
    df["start_s"] = wave_start.loc[df["wave"]].to_numpy() + offset.to_numpy()
    return df[["wave", "start_s", "seconds", "vm", "mem_gb"]]


def island_progress(
    final: float, rng: np.random.Generator, islands: int = 4, seconds: float = 300
) -> pd.DataFrame:
    """Each island's best score every 5 s, decaying towards ``final``; the last island is
    lost half-way."""
    rows = []
    for k in range(islands):
        end = seconds / 2 if k == islands - 1 else seconds
        t = np.arange(0.0, end + 1e-9, 5.0)
        noise = rng.uniform(0, 0.02, len(t))
        score = final * (1 + (0.3 + 0.1 * k) * np.exp(-t / (40 + 15 * k)) + noise)
        rows.append(pd.DataFrame({"island": k, "elapsed_s": t, "best_score": np.minimum.accumulate(score)}))
    return pd.concat(rows, ignore_index=True)


def pareto_front(before: Evaluation, after: Evaluation, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` non-dominated trade-offs between migrations, hourly cost and energy around the
    ``after`` placement: more moves buy more of the way from ``before`` towards the bounds."""
    scale = max(after.values["migrations"], 10.0)
    migrations = np.sort(rng.uniform(0.1, 2.0, n)) * scale
    gain = 1 - np.exp(-migrations / scale)
    front = {"migrations": migrations.round()}
    for term in ("hourly_cost", "energy_watts"):
        span = before.values[term] - after.lower_bounds[term]
        front[term] = before.values[term] - span * gain * rng.uniform(0.5, 0.6, n)
    return pd.DataFrame(front)


def full_report_data(cluster: Cluster, seed: int = 0) -> ReportData:
    """Every part of the report filled in."""
    rng = np.random.default_rng(seed)
    before = cluster.current_assignment()
    after = drain_racks(cluster, before, rng)
    problem = Problem(cluster)
    ev_before, ev_after = evaluate(problem, before), evaluate(problem, after)
    front = pareto_front(ev_before, ev_after, 60, rng)
    n_moves = int(ev_after.values["migrations"])
    return ReportData(
        title="Nightly rebalance",
        snapshot=str(cluster.meta.get("source", "generated")),
        cluster=cluster,
        before=before,
        after=after,
        evaluation_before=ev_before,
        evaluation_after=ev_after,
        pareto=front,
        pareto_chosen=int(np.abs(front["migrations"] - ev_after.values["migrations"]).argmin()),
        moves=moves_between(cluster, before, after, per_wave=max(4, n_moves // 12)),
        islands=island_progress(ev_after.score, rng),
        island_counts=IslandCounts(started=4, lost=1, restarted=1),
        duration_s=312.5,
        run_info={"seed": seed, "config": "configs/nightly.yaml", "cluster-opt": "0.1.0"},
    )
