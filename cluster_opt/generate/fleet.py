"""The host fleet of a generated snapshot: regions -> zones -> racks of one SKU each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cluster_opt.generate import hardware
from cluster_opt.io.schema import POWER_POINT_NAMES
from cluster_opt.model.codes import STANDARD_RESOURCES

if TYPE_CHECKING:
    from cluster_opt.generate.generator import GeneratorSettings


def split_total(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer split of ``total`` proportional to ``weights`` (largest remainder)."""
    raw = total * weights / weights.sum()
    out = np.floor(raw).astype(np.int64)
    out[np.argsort(-(raw - out), kind="stable")[: total - out.sum()]] += 1
    return out


@dataclass
class Fleet:
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


def build_fleet(s: GeneratorSettings, regions: list[str], rng: np.random.Generator) -> Fleet:
    data = s.data_dir
    spec = hardware.load_specpower(data) if data else None
    gpu_types = (hardware.gpu_types_from_alibaba(data) if data else None) or hardware.BUILTIN_GPU_TYPES
    cpu_types = hardware.CPU_TYPES
    cpu_share = np.array([t.share for t in cpu_types])
    gpu_share = np.array([t.share for t in gpu_types])
    per_region = split_total(s.hosts, 1.0 / np.sqrt(np.arange(1, len(regions) + 1)))
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
    return Fleet(
        frame=frame, curves=curves,
        region=frame["region"].map(region_idx).to_numpy(np.int64),
        zone_code=pd.factorize(zone_key, sort=True)[0].astype(np.int64),
        rack_code=rack_of.astype(np.int64),
        gpu_model=frame["gpu_model"].to_numpy(object),
        usable=state == 0,
        capacity=frame[list(STANDARD_RESOURCES)].to_numpy(np.float64),
        order=order, zones=zones,
    )  # fmt: skip
