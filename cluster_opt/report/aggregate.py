"""Reductions that keep the report small whatever the cluster size.

A 10,000-host, 100,000-VM run is drawn from a few hundred racks, one bar per wave, a
concurrency curve of at most a few thousand points and the islands' improvement points.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cluster_opt.model import Cluster


def rack_utilisation(cluster: Cluster, assignment: np.ndarray, resource: int) -> np.ndarray:
    """float64[K]: load / capacity of one resource per rack (NaN for a rack without any of
    that capacity). Unplaced VMs count nowhere. O(V + H)."""
    x = np.asarray(assignment)
    placed = x >= 0
    racks = cluster.hosts.rack
    n_racks = len(cluster.topology.racks)
    load = np.bincount(
        racks[x[placed]], weights=cluster.vms.demand[placed, resource], minlength=n_racks
    ).astype(np.float64)
    cap = np.bincount(racks, weights=cluster.hosts.capacity[:, resource], minlength=n_racks)
    out = np.full(n_racks, np.nan)
    np.divide(load, cap, out=out, where=cap > 0)
    return out


def rack_grid(cluster: Cluster) -> tuple[np.ndarray, np.ndarray, int]:
    """Where each rack sits in a zone x rack-position grid: (row int64[K] = its zone,
    col int64[K] = its position among the zone's racks in index order, n_cols). O(K log K)."""
    zone = cluster.topology.rack_zone.astype(np.int64)
    n_zones = len(cluster.topology.zones)
    order = np.argsort(zone, kind="stable")
    per_zone = np.bincount(zone, minlength=n_zones)
    first = np.concatenate(([0], np.cumsum(per_zone)[:-1]))
    col = np.empty_like(zone)
    col[order] = np.arange(len(zone)) - first[zone[order]]
    return zone, col, int(per_zone.max(initial=0))


def to_grid(values: np.ndarray, row: np.ndarray, col: np.ndarray, n_rows: int, n_cols: int) -> np.ndarray:
    """float64[n_rows, n_cols] with ``values[k]`` at ``(row[k], col[k])`` and NaN elsewhere."""
    grid = np.full((n_rows, n_cols), np.nan)
    grid[row, col] = values
    return grid


def wave_spans(moves: pd.DataFrame) -> pd.DataFrame:
    """One row per wave, in wave order: ``wave, start_s, end_s, moves``. O(M)."""
    end = moves["start_s"] + moves["seconds"]
    spans = (
        moves.assign(end_s=end)
        .groupby("wave", sort=True)
        .agg(start_s=("start_s", "min"), end_s=("end_s", "max"), moves=("vm", "size"))
        .reset_index()
    )
    return spans


def concurrency(moves: pd.DataFrame, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Moves in flight over time as a step curve (t float64[N], n int64[N], N <= max_points + 1).

    A move occupies ``[start_s, start_s + seconds)``; a move ending when another starts is
    not counted twice. With more change points than ``max_points`` the curve is reduced to
    the peak of each of ``max_points`` equal time bins. O(M log M).
    """
    start = moves["start_s"].to_numpy(np.float64)
    end = start + moves["seconds"].to_numpy(np.float64)
    t = np.concatenate((end, start))
    delta = np.concatenate((-np.ones(len(end), np.int64), np.ones(len(start), np.int64)))
    order = np.lexsort((delta, t))  # at equal times, ends (-1) before starts (+1)
    t, n = t[order], np.cumsum(delta[order])
    last = np.append(t[1:] != t[:-1], True)  # the count after every event at that time
    t, n = t[last], n[last]
    if len(t) <= max_points:
        return t, n
    edges = np.linspace(t[0], t[-1], max_points + 1)
    starts = np.unique(np.searchsorted(t, edges[:-1], side="left"))
    peak = np.maximum.reduceat(n, starts)
    return np.append(t[starts], t[-1]), np.append(peak, n[-1])


def improvements(progress: pd.DataFrame) -> pd.DataFrame:
    """The best score so far per island, reduced to the rows where it improves plus each
    island's last row; sorted by island then time. O(N log N) for N progress rows."""
    df = progress.sort_values(["island", "elapsed_s"], kind="stable")
    best = df.groupby("island", sort=False)["best_score"].cummin()
    df = df.assign(best_score=best)
    changed = best.groupby(df["island"], sort=False).diff().fillna(-1.0).ne(0)
    last = ~df["island"].duplicated(keep="last")
    return df.loc[changed | last, ["island", "elapsed_s", "best_score"]].reset_index(drop=True)


def overall_best(progress: pd.DataFrame) -> pd.DataFrame:
    """Best score over every island so far, at the times it improves (and at the end)."""
    df = progress.sort_values("elapsed_s", kind="stable")
    best = df["best_score"].cummin()
    keep = best.diff().fillna(-1.0).ne(0)
    keep.iloc[-1] = True
    return pd.DataFrame({"elapsed_s": df["elapsed_s"][keep].to_numpy(), "best_score": best[keep].to_numpy()})


def time_unit(seconds: float) -> tuple[float, str]:
    """(divisor, unit) to show a span of ``seconds``: s below 2 min, min below 2 h, else h."""
    if seconds < 120:
        return 1.0, "s"
    if seconds < 7200:
        return 60.0, "min"
    return 3600.0, "h"
