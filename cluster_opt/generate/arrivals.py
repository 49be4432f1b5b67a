"""VM arrivals for a generated snapshot: tenant batches drawn from a trace, lifetimes,
replica groups and affinity pairs, and GPU VMs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cluster_opt.generate import workload
from cluster_opt.generate.fleet import Fleet
from cluster_opt.io.checks import fits_any, pareto_maximal

DAY = 86400.0


@dataclass
class Arrivals:
    """Every VM that arrives during the horizon (index i), in batch order."""

    batch: np.ndarray  # int64: tenant batch (one draw from the trace)
    cores: np.ndarray
    mem_gb: np.ndarray
    gpus: np.ndarray
    model: np.ndarray  # object: required GPU model, '' = any
    arrive: np.ndarray  # seconds
    life: np.ndarray  # seconds (inf = runs past the horizon)
    group: np.ndarray  # int64: replica group, -1 = none
    pair: np.ndarray  # int64: affinity pair, -1 = none

    def __len__(self) -> int:
        return len(self.batch)


def draw_lifetimes(pool: workload.BatchPool, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lifetime uniform within the VM's trace bin; still-running VMs get their observed age
    plus an exponential tail with a 60-day mean."""
    life = rng.uniform(pool.life_lo[idx], pool.life_hi[idx])
    running = pool.censored[idx]
    life[running] = pool.life_lo[idx][running] + rng.exponential(60 * DAY, size=int(running.sum()))
    return life


def link_members(
    first: np.ndarray,
    sizes: np.ndarray,
    life: np.ndarray,
    group: np.ndarray,
    pair: np.ndarray,
    rng: np.random.Generator,
    next_ids: list[int],
) -> None:
    """Within each batch: with probability 0.5 cut it into replica groups of 2-5, else with
    probability 0.08 make its first two VMs an affinity pair. Members share the first
    member's lifetime (replicas and pairs live and die together)."""
    coin = rng.random(len(first))
    for lo, n, c in zip(first, sizes, coin, strict=True):
        hi = lo + n
        if n < 2:
            continue
        if c < 0.5:
            i = lo
            while hi - i >= 2:
                size = int(min(rng.integers(2, 6), hi - i))
                group[i : i + size] = next_ids[0]
                life[i : i + size] = life[i]
                next_ids[0] += 1
                i += size
        elif c < 0.58:
            pair[lo : lo + 2] = next_ids[1]
            life[lo + 1] = life[lo]
            next_ids[1] += 1


def sample_cpu_vms(
    pool: workload.BatchPool, target: int, horizon: float, rng: np.random.Generator
) -> Arrivals:
    """Draw tenant batches from the trace, uniformly over the horizon, until exactly
    ``target`` VMs are still running at its end (surplus survivors of the last batch are
    made to leave). O(arrivals)."""
    starts, sizes = pool.batch_start[:-1], np.diff(pool.batch_start)
    parts: list[tuple[np.ndarray, ...]] = []
    alive, draws, ids = 0, 0, [0, 0]
    while alive < target:
        chunk = max(256, int(1.5 * (target - alive) / 0.08 / max(sizes.mean(), 1.0)))
        pick = rng.integers(0, pool.n_batches, size=chunk)
        n = sizes[pick]
        first = np.cumsum(n) - n
        idx = np.repeat(starts[pick], n) + np.arange(n.sum()) - np.repeat(first, n)
        arrive = np.repeat(rng.uniform(0.0, horizon, size=chunk), n)
        life = draw_lifetimes(pool, idx, rng)
        group = np.full(len(idx), -1, dtype=np.int64)
        pair = np.full(len(idx), -1, dtype=np.int64)
        link_members(first, n, life, group, pair, rng, ids)
        batch = draws + np.repeat(np.arange(chunk), n)
        survives = arrive + life > horizon
        cum = alive + np.cumsum(survives)
        end = len(idx)
        if cum[-1] >= target:
            last = int(np.searchsorted(cum, target))  # the VM that completes the target
            end = int(np.searchsorted(batch, batch[last], side="right"))
            surplus = (np.arange(end) > last) & survives[:end]
            life[:end][surplus] = np.maximum(horizon - arrive[:end][surplus] - 1.0, 0.0)
        parts.append((batch[:end], idx[:end], arrive[:end], life[:end], group[:end], pair[:end]))
        alive = min(int(cum[-1]), target)
        draws += chunk
    batch, idx, arrive, life, group, pair = (np.concatenate(col) for col in zip(*parts, strict=True))
    return Arrivals(
        batch,
        pool.cores[idx],
        pool.mem_gb[idx],
        np.zeros(len(idx)),
        np.full(len(idx), "", dtype=object),
        arrive,
        life,
        group,
        pair,
    )


def sample_gpu_vms(
    shapes: workload.GpuShapes, n: int, horizon: float, first_batch: int, rng: np.random.Generator
) -> Arrivals:
    """``n`` long-running GPU VMs (one batch each) arriving uniformly over the horizon."""
    pick = rng.integers(0, len(shapes.gpus), size=n)
    none = np.full(n, -1, dtype=np.int64)
    return Arrivals(
        first_batch + np.arange(n, dtype=np.int64),
        shapes.cores[pick],
        shapes.mem_gb[pick],
        shapes.gpus[pick],
        shapes.model[pick].copy(),
        rng.uniform(0.0, horizon, size=n),
        np.full(n, np.inf),
        none,
        none.copy(),
    )


def concat(a: Arrivals, b: Arrivals) -> Arrivals:
    return Arrivals(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in a.__dataclass_fields__))


def fitting_shapes(shapes: workload.GpuShapes, hosts: Fleet) -> workload.GpuShapes:
    """Only GPU shapes that fit a usable GPU host of the cluster (of their model, if any).

    O(S F) for S shapes and F Pareto-maximal host shapes per model."""
    gpu = hosts.usable & (hosts.capacity[:, 4] > 0)
    need = np.column_stack([shapes.cores, shapes.mem_gb, shapes.gpus])
    have = hosts.capacity[:, [0, 1, 4]]
    ok = np.zeros(len(shapes.gpus), dtype=bool)
    for model in np.unique(shapes.model):
        rows = shapes.model == model
        cand = gpu & ((hosts.gpu_model == model) if model else True)
        ok[rows] = fits_any(need[rows], pareto_maximal(have[cand]))
    if not ok.any():
        return shapes
    return workload.GpuShapes(
        shapes.cores[ok], shapes.mem_gb[ok], shapes.gpus[ok], shapes.model[ok], shapes.source
    )
