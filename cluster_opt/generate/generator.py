"""A realistic synthetic cluster snapshot.

regions -> zones -> racks of 20-48 hosts of one SKU each (CPU SKUs and GPU SKUs); tenant
batches of VMs from the Azure 2017 trace with their lifetimes, GPU VMs from the Alibaba GPU
2023 trace; replica groups (anti-affinity, 2-5 members, host/rack/zone spread) and affinity
pairs; 20-40 % spot; a latency matrix and spot prices per zone. The current placement comes
from replaying arrivals and departures over a week with first fit, so it is feasible but
fragmented. The same settings and seed give byte-identical files.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cluster_opt.evaluate.problem import group_csr
from cluster_opt.generate import geography, hardware, workload
from cluster_opt.generate.replay import replay
from cluster_opt.io.manifest import SnapshotManifest
from cluster_opt.io.schema import POWER_POINT_NAMES
from cluster_opt.io.write import SnapshotTables
from cluster_opt.model.codes import SpreadLevel

DAY = 86400.0
SNAPSHOT_TIME = "2026-01-01T00:00:00Z"


@dataclass(frozen=True)
class GeneratorSettings:
    """What to generate. ``data_dir`` is the reference data folder (None = built-in models)."""

    hosts: int
    vms: int
    regions: int = 3
    seed: int = 0
    spot_share: float | None = None  # None: drawn in [0.2, 0.4]
    gpu_rack_share: float = 0.08
    horizon_days: float = 7.0
    pending_share: float = 0.002
    data_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.hosts < 1 or self.vms < 0:
            raise ValueError("need at least one host and a non-negative number of VMs")
        geography.region_names(self.regions)  # range check
        if self.spot_share is not None and not 0 <= self.spot_share <= 1:
            raise ValueError("spot_share must be in [0, 1]")


def _split(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer split of ``total`` proportional to ``weights`` (largest remainder)."""
    raw = total * weights / weights.sum()
    out = np.floor(raw).astype(np.int64)
    out[np.argsort(-(raw - out), kind="stable")[: total - out.sum()]] += 1
    return out


@dataclass
class _Hosts:
    frame: pd.DataFrame
    curves: pd.DataFrame | None
    region: np.ndarray  # int64[H]
    zone_code: np.ndarray  # global zone index
    rack_code: np.ndarray
    gpu_model: np.ndarray  # object[H]
    usable: np.ndarray
    capacity: np.ndarray  # float64[H, 5]
    order: np.ndarray  # first-fit order of hosts
    zones: dict[str, list[str]]


RESOURCES = ("cpu", "mem_gb", "net_gbps", "iops", "gpus")


def _build_hosts(s: GeneratorSettings, regions: list[str], rng: np.random.Generator) -> _Hosts:
    data = s.data_dir
    spec = hardware.load_specpower(data) if data else None
    gpu_types = (hardware.gpu_types_from_alibaba(data) if data else None) or hardware.BUILTIN_GPU_TYPES
    cpu_types = hardware.CPU_TYPES
    cpu_share = np.array([t.share for t in cpu_types])
    gpu_share = np.array([t.share for t in gpu_types])
    per_region = _split(s.hosts, 1.0 / np.sqrt(np.arange(1, len(regions) + 1)))
    rows, rack_order = [], []
    zones: dict[str, list[str]] = {}
    rack_no = 0
    for ri, region in enumerate(regions):
        n = int(per_region[ri])
        zones[region] = ["a", "b", "c"][: max(1, min(3, n // 40))]
        left, k = n, 0
        while left > 0:
            size = int(min(left, rng.integers(20, 49)))
            gpu = k > 0 and rng.random() < s.gpu_rack_share
            ht = (
                gpu_types[rng.choice(len(gpu_types), p=gpu_share / gpu_share.sum())]
                if gpu
                else cpu_types[rng.choice(len(cpu_types), p=cpu_share / cpu_share.sum())]
            )
            zone = zones[region][k % len(zones[region])]
            rack = f"r{k + 1:03d}"
            for j in range(size):
                rows.append((f"{region}-{zone}-{rack}-h{j + 1:02d}", region, zone, rack, ht, rack_no))
            rack_order.append(rack_no)
            rack_no += 1
            left -= size
            k += 1
    h = len(rows)
    types = [r[4] for r in rows]
    state = rng.choice(4, size=h, p=[0.965, 0.01, 0.005, 0.02])
    frame = pd.DataFrame({
        "id": [r[0] for r in rows], "region": [r[1] for r in rows], "zone": [r[2] for r in rows],
        "rack": [r[3] for r in rows],
        "cpu": [t.cpu for t in types], "mem_gb": [t.mem_gb for t in types],
        "net_gbps": [t.net_gbps for t in types], "iops": [t.iops for t in types],
        "gpus": [t.gpus for t in types], "gpu_model": [t.gpu_model for t in types],
        "numa_nodes": [t.numa_nodes for t in types],
    })  # fmt: skip
    curves = None
    if spec is not None:
        named = {t.name: hardware.power_curve(t, spec) for t in {t.name: t for t in types}.values()}
        frame["power_curve"] = [named[t.name][0] for t in types]
        uniq = sorted({v[0]: v[1] for v in named.values()}.items())
        curves = pd.DataFrame(
            {
                "name": [u[0] for u in uniq],
                **{p: [u[1][i] for u in uniq] for i, p in enumerate(POWER_POINT_NAMES)},
            }
        )
    else:
        frame["idle_watts"] = [t.idle_watts or 250.0 + 40 * t.gpus for t in types]
        frame["peak_watts"] = [t.peak_watts or 700.0 + 250 * t.gpus for t in types]
    frame["state"] = np.array(["active", "maintenance", "failed", "off"], dtype=object)[state]
    frame["type"] = [t.name for t in types]
    frame["labels"] = [f"sku={t.name}" + (",accel=gpu" if t.gpus else "") for t in types]
    region_idx = {r: i for i, r in enumerate(regions)}
    zone_key = frame["region"] + "/" + frame["zone"]
    # first fit walks racks in a random order, hosts in rack order
    rack_of = np.array([r[5] for r in rows])
    rack_rank = np.empty(rack_no, dtype=np.int64)
    rack_rank[rng.permutation(rack_no)] = np.arange(rack_no)
    order = np.lexsort((np.arange(h), rack_rank[rack_of]))
    return _Hosts(
        frame=frame, curves=curves,
        region=frame["region"].map(region_idx).to_numpy(np.int64),
        zone_code=pd.factorize(zone_key, sort=True)[0].astype(np.int64),
        rack_code=rack_of.astype(np.int64),
        gpu_model=frame["gpu_model"].to_numpy(object),
        usable=state == 0,
        capacity=frame[list(RESOURCES)].to_numpy(np.float64),
        order=order, zones=zones,
    )  # fmt: skip


@dataclass
class _Arrivals:
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


def _draw_lifetimes(pool: workload.BatchPool, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lifetime uniform within the VM's trace bin; still-running VMs get their observed age
    plus an exponential tail with a 60-day mean."""
    life = rng.uniform(pool.life_lo[idx], pool.life_hi[idx])
    running = pool.censored[idx]
    life[running] = pool.life_lo[idx][running] + rng.exponential(60 * DAY, size=int(running.sum()))
    return life


def _link_members(
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


def _sample_cpu_vms(
    pool: workload.BatchPool, target: int, horizon: float, rng: np.random.Generator
) -> _Arrivals:
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
        life = _draw_lifetimes(pool, idx, rng)
        group = np.full(len(idx), -1, dtype=np.int64)
        pair = np.full(len(idx), -1, dtype=np.int64)
        _link_members(first, n, life, group, pair, rng, ids)
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
    return _Arrivals(
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


def _sample_gpu_vms(
    shapes: workload.GpuShapes, n: int, horizon: float, first_batch: int, rng: np.random.Generator
) -> _Arrivals:
    """``n`` long-running GPU VMs (one batch each) arriving uniformly over the horizon."""
    pick = rng.integers(0, len(shapes.gpus), size=n)
    none = np.full(n, -1, dtype=np.int64)
    return _Arrivals(
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


def _concat(a: _Arrivals, b: _Arrivals) -> _Arrivals:
    return _Arrivals(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in a.__dataclass_fields__))


@dataclass
class _Batches:
    """Attributes shared by the VMs of a tenant batch."""

    tenant: np.ndarray
    region: np.ndarray
    pricing: np.ndarray  # 0 on_demand, 1 spot, 2 reserved
    user_region: np.ndarray
    net_per_core: np.ndarray
    iops_per_core: np.ndarray


def _batch_attributes(
    n_batches: int, n_tenants: int, region_weight: np.ndarray, spot_share: float, rng: np.random.Generator
) -> _Batches:
    """Tenants by a Zipf-like law, each with a home region chosen to balance the expected
    load per unit of region size (heaviest tenants first); pricing
    per batch (spot share, then 20 % of the rest reserved); users in the home region 80 %
    of the time."""
    k = len(region_weight)
    tenant_w = 1.0 / np.arange(1, n_tenants + 1) ** 1.1
    tenant = rng.choice(n_tenants, size=n_batches, p=tenant_w / tenant_w.sum())
    load = np.zeros(k)
    home_of = np.empty(n_tenants, dtype=np.int64)
    for t in range(n_tenants):  # heaviest first, each to the region least loaded for its size
        home_of[t] = int(np.argmin(load / region_weight + rng.random(k) * 1e-9))
        load[home_of[t]] += tenant_w[t]
    home = home_of[tenant]
    reserved = 0.2 * (1 - spot_share)
    pricing = rng.choice(3, size=n_batches, p=[1 - spot_share - reserved, spot_share, reserved])
    away = (rng.random(n_batches) < 0.2) & (k > 1)
    other = (home + rng.integers(1, max(k, 2), size=n_batches)) % k
    return _Batches(
        tenant,
        home,
        pricing,
        np.where(away, other, home),
        rng.uniform(0.1, 0.5, size=n_batches),
        rng.uniform(300.0, 1500.0, size=n_batches),
    )


def _gpu_regions(
    vms: _Arrivals, region: np.ndarray, hosts: _Hosts, rng: np.random.Generator
) -> dict[int, set]:
    """Send GPU VMs to a region that has their model (or any GPU, dropping a model that no
    region has); returns the usable GPU models per region."""
    n_regions = int(hosts.region.max()) + 1
    gpu_host = hosts.usable & (hosts.capacity[:, 4] > 0)
    models = {r: set(hosts.gpu_model[gpu_host & (hosts.region == r)]) - {""} for r in range(n_regions)}
    with_gpu = [r for r in range(n_regions) if models[r]]
    for i in np.flatnonzero(vms.gpus > 0):
        if vms.model[i] and vms.model[i] not in models[region[i]]:
            where = [r for r in range(n_regions) if vms.model[i] in models[r]]
            if where:
                region[i] = where[int(rng.integers(len(where)))]
            else:
                vms.model[i] = ""
        if not models[region[i]]:
            region[i] = with_gpu[int(rng.integers(len(with_gpu)))]
    return models


def _spread_rules(
    vms: _Arrivals, region: np.ndarray, hosts: _Hosts, regions: list[str], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Spread level (host 60 %, rack 30 %, zone 10 %; zone needs several zones in the region
    and rack at least as many racks as members, else the next lower level) and max per
    domain (1, or ceil(size / zones) for zone spread) of every replica group."""
    n_groups = int(vms.group.max()) + 1 if len(vms) else 0
    level = rng.choice(3, size=n_groups, p=[0.6, 0.3, 0.1]).astype(np.int64)
    size = np.bincount(vms.group[vms.group >= 0], minlength=n_groups)
    first = np.zeros(n_groups, dtype=np.int64)
    grouped = np.flatnonzero(vms.group >= 0)
    first[vms.group[grouped[::-1]]] = grouped[::-1]
    n_zones = np.array([len(hosts.zones[regions[region[i]]]) for i in first], dtype=np.int64)
    racks = np.bincount(
        hosts.region[np.unique(hosts.rack_code, return_index=True)[1]], minlength=len(regions)
    )
    level[(level == SpreadLevel.ZONE) & (n_zones < 2)] = SpreadLevel.RACK
    level[(level == SpreadLevel.RACK) & (racks[region[first]] < size)] = SpreadLevel.HOST
    limit = np.where(level == SpreadLevel.ZONE, -(-size // np.maximum(n_zones, 1)), 1).astype(np.int64)
    return level, limit


def _place(
    vms: _Arrivals,
    demand: np.ndarray,
    region: np.ndarray,
    models: dict[int, set],
    hosts: _Hosts,
    level: np.ndarray,
    limit: np.ndarray,
    horizon: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Host of every VM at the end of the horizon (-1: left, or never found room), by
    replaying arrivals and departures with first fit per pool (a region's CPU hosts, or its
    GPU hosts of one model); a unit whose region is full spills to the same kind of pool in
    the other regions, in region order (its users stay where they are). An affinity pair is
    placed as one unit."""
    n = len(vms)
    second = np.zeros(n, dtype=bool)
    paired = np.flatnonzero(vms.pair >= 0)
    second[paired[1::2]] = True
    unit = np.cumsum(~second) - 1
    first = np.flatnonzero(~second)
    n_units = len(first)
    unit_demand = np.zeros((n_units, demand.shape[1]))
    np.add.at(unit_demand, unit, demand)
    pool_key = np.where(hosts.capacity[:, 4] > 0, hosts.gpu_model, "cpu").astype(object)
    names = sorted({(int(r), str(k)) for r, k in zip(hosts.region, pool_key, strict=True)})
    index = {p: i for i, p in enumerate(names)}
    host_pool = np.array([index[(int(r), str(k))] for r, k in zip(hosts.region, pool_key, strict=True)])
    ordered = hosts.order[hosts.usable[hosts.order]]
    pool_hosts = ordered[np.argsort(host_pool[ordered], kind="stable")].astype(np.int64)
    pool_ptr = np.zeros(len(names) + 1, dtype=np.int64)
    np.cumsum(np.bincount(host_pool[ordered], minlength=len(names)), out=pool_ptr[1:])
    unit_pool = np.empty(n_units, dtype=np.int64)
    for u, i in enumerate(first):
        r = int(region[i])
        if vms.gpus[i] > 0:
            model = vms.model[i] or sorted(models[r])[int(rng.integers(len(models[r])))]
            unit_pool[u] = index[(r, model)]
        else:
            unit_pool[u] = index.get((r, "cpu"), 0)
    unit_group = vms.group[first]
    g_ptr, g_members = group_csr(unit_group, len(level))
    domains = np.vstack([np.arange(len(hosts.region)), hosts.rack_code, hosts.zone_code]).astype(np.int64)
    arrive = vms.arrive[first]
    depart = arrive + vms.life[first]
    leaves = depart <= horizon
    ev_unit = np.concatenate([np.arange(n_units), np.flatnonzero(leaves)])
    ev_time = np.concatenate([arrive, depart[leaves]])
    ev_arrive = np.concatenate([np.ones(n_units, dtype=bool), np.zeros(int(leaves.sum()), dtype=bool)])
    order = np.lexsort((ev_arrive, ev_time))
    spill = [
        [q for q, other in enumerate(names) if other[1] == mine[1] and q != k] for k, mine in enumerate(names)
    ]
    spill_ptr = np.cumsum([0] + [len(x) for x in spill]).astype(np.int64)
    spill_pools = np.asarray([q for x in spill for q in x], dtype=np.int64)
    unit_host = replay(
        ev_unit[order],
        ev_arrive[order],
        unit_demand,
        unit_pool,
        unit_group,
        g_ptr,
        g_members,
        level,
        limit,
        domains,
        hosts.capacity,
        pool_ptr,
        pool_hosts,
        spill_ptr,
        spill_pools,
    )
    return unit_host[unit]


def generate(settings: GeneratorSettings) -> SnapshotTables:
    """Build the snapshot tables for ``settings``. O(E log H) for E arrival and departure
    events (about ten times the VMs with the Azure lifetimes)."""
    s = settings
    rng_hosts, rng_work, rng_attr, rng_price, rng_gpu = (
        np.random.default_rng(x) for x in np.random.SeedSequence(s.seed).spawn(5)
    )
    regions = geography.region_names(s.regions)
    hosts = _build_hosts(s, regions, rng_hosts)
    pool = (workload.load_azure_batches(s.data_dir) if s.data_dir else None) or workload.builtin_batches(
        rng_work
    )
    shapes = (workload.load_gpu_shapes(s.data_dir) if s.data_dir else None) or workload.builtin_gpu_shapes()
    horizon = s.horizon_days * DAY
    shapes = _fitting_shapes(shapes, hosts)

    gpu_host = hosts.usable & (hosts.capacity[:, 4] > 0)
    n_gpu = 0
    if gpu_host.any() and s.vms:  # about 55 % of the usable GPUs, at most 10 % of the VMs
        n_gpu = int(min(0.55 * hosts.capacity[gpu_host, 4].sum() / shapes.gpus.mean(), 0.10 * s.vms))
    cpu = (
        _sample_cpu_vms(pool, s.vms - n_gpu, horizon, rng_work)
        if s.vms > n_gpu
        else _sample_gpu_vms(shapes, 0, horizon, 0, rng_gpu)
    )
    n_cpu_batches = int(cpu.batch.max()) + 1 if len(cpu) else 0
    vms = _concat(cpu, _sample_gpu_vms(shapes, n_gpu, horizon, n_cpu_batches, rng_gpu))

    region_w = np.bincount(hosts.region[hosts.usable], minlength=len(regions)).astype(np.float64)
    spot_share = s.spot_share if s.spot_share is not None else float(rng_attr.uniform(0.2, 0.4))
    batches = _batch_attributes(
        n_cpu_batches + n_gpu, max(5, s.vms // 40), np.maximum(region_w, 1e-9), spot_share, rng_attr
    )
    region = batches.region[vms.batch].copy()
    models = _gpu_regions(vms, region, hosts, rng_gpu)
    level, limit = _spread_rules(vms, region, hosts, regions, rng_attr)
    demand = np.column_stack(
        [
            vms.cores,
            vms.mem_gb,
            np.round(vms.cores * batches.net_per_core[vms.batch], 2),
            np.round(vms.cores * batches.iops_per_core[vms.batch] / 100.0) * 100.0,
            vms.gpus,
        ]
    )
    host = _place(vms, demand, region, models, hosts, level, limit, horizon, rng_work)

    survivors = np.flatnonzero(vms.arrive + vms.life > horizon)
    survivors = survivors[np.argsort(vms.arrive[survivors], kind="stable")]
    pending = survivors[len(survivors) - round(s.pending_share * s.vms) :]
    host[pending] = -1
    frame = _vm_frame(vms, survivors, demand, host, region, batches, level, limit, hosts, regions, rng_attr)
    meta = {
        "generator": {k: v for k, v in asdict(s).items() if k != "data_dir"},
        "sources": {"vms": pool.source, "gpu_vms": shapes.source,
                    "power": str(hardware.SPECPOWER) if hosts.curves is not None else "builtin"},
        "spot_share": round(spot_share, 4),
        "arrivals_replayed": len(vms),
        "pending_vms": int((frame["host"] == "").sum()),
    }  # fmt: skip
    lat = geography.latency_table(regions)
    prices = geography.zone_prices(regions, hosts.zones, rng_price)
    return SnapshotTables(
        manifest=SnapshotManifest.model_validate({"time": SNAPSHOT_TIME, "metadata": meta}),
        hosts=hosts.frame,
        vms=frame,
        regions=pd.DataFrame(lat, columns=["src", "dst", "latency_ms"]) if lat else None,
        prices=pd.DataFrame(prices, columns=["region", "zone", "item", "on_demand", "reserved", "spot"]),
        power_curves=hosts.curves,
    )


def _fitting_shapes(shapes: workload.GpuShapes, hosts: _Hosts) -> workload.GpuShapes:
    """Only GPU shapes that fit a usable GPU host of the cluster (of their model, if any)."""
    gpu = hosts.usable & (hosts.capacity[:, 4] > 0)
    ok = np.zeros(len(shapes.gpus), dtype=bool)
    for i in range(len(ok)):
        cand = gpu & ((hosts.gpu_model == shapes.model[i]) if shapes.model[i] else True)
        cap = hosts.capacity[cand]
        need = np.array([shapes.cores[i], shapes.mem_gb[i], shapes.gpus[i]])
        ok[i] = bool((cap[:, [0, 1, 4]] >= need).all(axis=1).any()) if len(cap) else False
    if not ok.any():
        return shapes
    return workload.GpuShapes(
        shapes.cores[ok], shapes.mem_gb[ok], shapes.gpus[ok], shapes.model[ok], shapes.source
    )


def _members_kept(codes: np.ndarray) -> np.ndarray:
    """Renumber groups 0.. in order of first appearance, dropping groups with < 2 members."""
    size = np.bincount(codes[codes >= 0]) if (codes >= 0).any() else np.zeros(0, dtype=np.int64)
    keep = (codes >= 0) & (size[np.maximum(codes, 0)] >= 2) if size.size else np.zeros(len(codes), bool)
    out, _ = pd.factorize(pd.Series(np.where(keep, codes, -1)).where(keep))
    return out


def _vm_frame(
    vms: _Arrivals,
    rows: np.ndarray,
    demand: np.ndarray,
    host: np.ndarray,
    region: np.ndarray,
    batches: _Batches,
    level: np.ndarray,
    limit: np.ndarray,
    hosts: _Hosts,
    regions: list[str],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The vms table for the surviving VMs ``rows`` (in arrival order)."""
    n = len(rows)
    b = vms.batch[rows]
    group = vms.group[rows]
    g = _members_kept(group)
    a = _members_kept(vms.pair[rows])
    pricing = np.array(["on_demand", "spot", "reserved"], dtype=object)[batches.pricing[b]]
    priority = np.select([pricing == "spot", pricing == "reserved"], [0, 2], 1) + rng.integers(0, 2, size=n)
    host_ids = np.append(hosts.frame["id"].to_numpy(object), "")
    level_name = np.array(["host", "rack", "zone"], dtype=object)
    gi = np.maximum(group, 0)
    return pd.DataFrame({
        "id": [f"vm-{i:06d}" for i in range(n)],
        "tenant": [f"t{t:05d}" for t in batches.tenant[b]],
        "cpu": demand[rows, 0], "mem_gb": demand[rows, 1], "net_gbps": demand[rows, 2],
        "iops": demand[rows, 3], "gpus": demand[rows, 4],
        "gpu_model": vms.model[rows],
        "host": host_ids[host[rows]],
        "pricing": pricing,
        "user_region": np.array(regions, dtype=object)[batches.user_region[b]],
        "anti_affinity_group": np.array([f"rg-{c:06d}" if c >= 0 else "" for c in g], dtype=object),
        "spread_level": np.where(g >= 0, level_name[level[gi]] if len(level) else "host", "host"),
        "max_per_domain": np.where(g >= 0, limit[gi] if len(limit) else 1, 1).astype(np.int64),
        "affinity_group": np.array([f"ag-{c:06d}" if c >= 0 else "" for c in a], dtype=object),
        "migratable": rng.random(n) >= 0.03,
        "priority": priority.astype(np.int64),
    })  # fmt: skip
