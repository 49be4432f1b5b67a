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

from cluster_opt.generate import geography, hardware, workload
from cluster_opt.generate.arrivals import (
    DAY,
    Arrivals,
    concat,
    fitting_shapes,
    sample_cpu_vms,
    sample_gpu_vms,
)
from cluster_opt.generate.fleet import Fleet, build_fleet
from cluster_opt.generate.replay import place
from cluster_opt.generate.tenancy import Batches, batch_attributes, gpu_regions, spread_rules
from cluster_opt.io.manifest import SnapshotManifest
from cluster_opt.io.write import SnapshotTables

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


def generate(settings: GeneratorSettings) -> SnapshotTables:
    """Build the snapshot tables for ``settings``. O(E log H) for E arrival and departure
    events (about ten times the VMs with the Azure lifetimes)."""
    s = settings
    rng_hosts, rng_work, rng_attr, rng_price, rng_gpu = (
        np.random.default_rng(x) for x in np.random.SeedSequence(s.seed).spawn(5)
    )
    regions = geography.region_names(s.regions)
    hosts = build_fleet(s, regions, rng_hosts)
    pool = (workload.load_azure_batches(s.data_dir) if s.data_dir else None) or workload.builtin_batches(
        rng_work
    )
    shapes = (workload.load_gpu_shapes(s.data_dir) if s.data_dir else None) or workload.builtin_gpu_shapes()
    horizon = s.horizon_days * DAY
    shapes = fitting_shapes(shapes, hosts)

    gpu_host = hosts.usable & (hosts.capacity[:, 4] > 0)
    n_gpu = 0
    if gpu_host.any() and s.vms:  # about 55 % of the usable GPUs, at most 10 % of the VMs
        n_gpu = int(min(0.55 * hosts.capacity[gpu_host, 4].sum() / shapes.gpus.mean(), 0.10 * s.vms))
    cpu = (
        sample_cpu_vms(pool, s.vms - n_gpu, horizon, rng_work)
        if s.vms > n_gpu
        else sample_gpu_vms(shapes, 0, horizon, 0, rng_gpu)
    )
    n_cpu_batches = int(cpu.batch.max()) + 1 if len(cpu) else 0
    vms = concat(cpu, sample_gpu_vms(shapes, n_gpu, horizon, n_cpu_batches, rng_gpu))

    region_w = np.bincount(hosts.region[hosts.usable], minlength=len(regions)).astype(np.float64)
    spot_share = s.spot_share if s.spot_share is not None else float(rng_attr.uniform(0.2, 0.4))
    batches = batch_attributes(
        n_cpu_batches + n_gpu, max(5, s.vms // 40), np.maximum(region_w, 1e-9), spot_share, rng_attr
    )
    region = batches.region[vms.batch].copy()
    models = gpu_regions(vms, region, hosts, rng_gpu)
    level, limit = spread_rules(vms, region, hosts, regions, rng_attr)
    demand = np.column_stack(
        [
            vms.cores,
            vms.mem_gb,
            np.round(vms.cores * batches.net_per_core[vms.batch], 2),
            np.round(vms.cores * batches.iops_per_core[vms.batch] / 100.0) * 100.0,
            vms.gpus,
        ]
    )
    host = place(vms, demand, region, models, hosts, level, limit, horizon, rng_work)

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


def _members_kept(codes: np.ndarray) -> np.ndarray:
    """Renumber groups 0.. in order of first appearance, dropping groups with < 2 members."""
    size = np.bincount(codes[codes >= 0]) if (codes >= 0).any() else np.zeros(0, dtype=np.int64)
    keep = (codes >= 0) & (size[np.maximum(codes, 0)] >= 2) if size.size else np.zeros(len(codes), bool)
    out, _ = pd.factorize(pd.Series(np.where(keep, codes, -1)).where(keep))
    return out


def _vm_frame(
    vms: Arrivals,
    rows: np.ndarray,
    demand: np.ndarray,
    host: np.ndarray,
    region: np.ndarray,
    batches: Batches,
    level: np.ndarray,
    limit: np.ndarray,
    hosts: Fleet,
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
