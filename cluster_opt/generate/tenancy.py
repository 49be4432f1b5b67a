"""Tenancy of generated VMs: tenants, home regions, pricing, user regions, spread rules."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cluster_opt.generate.arrivals import Arrivals
from cluster_opt.generate.fleet import Fleet
from cluster_opt.model.codes import SpreadLevel


@dataclass
class Batches:
    """Attributes shared by the VMs of a tenant batch."""

    tenant: np.ndarray
    region: np.ndarray
    pricing: np.ndarray  # 0 on_demand, 1 spot, 2 reserved
    user_region: np.ndarray
    net_per_core: np.ndarray
    iops_per_core: np.ndarray


def batch_attributes(
    n_batches: int, n_tenants: int, region_weight: np.ndarray, spot_share: float, rng: np.random.Generator
) -> Batches:
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
    return Batches(
        tenant,
        home,
        pricing,
        np.where(away, other, home),
        rng.uniform(0.1, 0.5, size=n_batches),
        rng.uniform(300.0, 1500.0, size=n_batches),
    )


def gpu_regions(vms: Arrivals, region: np.ndarray, hosts: Fleet, rng: np.random.Generator) -> dict[int, set]:
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


def spread_rules(
    vms: Arrivals, region: np.ndarray, hosts: Fleet, regions: list[str], rng: np.random.Generator
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
