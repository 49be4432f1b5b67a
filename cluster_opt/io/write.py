"""Write snapshots (atomically: a complete directory or nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml

from cluster_opt.io.manifest import SnapshotManifest
from cluster_opt.io.schema import POWER_POINT_NAMES
from cluster_opt.io.tables import atomic_directory, write_table
from cluster_opt.model.cluster import Cluster
from cluster_opt.model.codes import STANDARD_RESOURCES, HostState, Pricing, SpreadLevel, names

Format = Literal["csv", "parquet"]


@dataclass
class SnapshotTables:
    """A snapshot as tables, the form it has on disk."""

    manifest: SnapshotManifest
    hosts: pd.DataFrame
    vms: pd.DataFrame
    regions: pd.DataFrame | None = None
    prices: pd.DataFrame | None = None
    power_curves: pd.DataFrame | None = None


def write_snapshot(
    tables: SnapshotTables, out: str | Path, fmt: Format = "parquet", overwrite: bool = False
) -> Path:
    """Write ``tables`` into directory ``out`` (created; replaced only with ``overwrite``)."""
    out = Path(out)
    with atomic_directory(out, overwrite=overwrite) as tmp:
        manifest = tables.manifest.model_dump(mode="json")
        (tmp / "snapshot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
        for name in ("hosts", "vms", "regions", "prices", "power_curves"):
            df = getattr(tables, name)
            if df is not None:
                write_table(df, tmp / f"{name}.{fmt}")
    return out


def _names(table: tuple[str, ...], codes: np.ndarray) -> np.ndarray:
    lookup = np.asarray([*table, ""], dtype=object)
    return lookup[np.where(codes >= 0, codes, len(table))]


def cluster_tables(cluster: Cluster) -> SnapshotTables:
    """The tables that :func:`~cluster_opt.io.load.load_snapshot` would read ``cluster`` from.

    Power curves are written as named curves; prices as per-unit rows for every zone and
    per-host rows where hosts carry an hourly price.
    """
    c, h, v, t = cluster, cluster.hosts, cluster.vms, cluster.topology
    zone_parts = [z.split("/", 1) for z in t.zones]
    rack_parts = [r.rsplit("/", 1)[1] for r in t.racks]
    hosts = pd.DataFrame(
        {
            "id": h.ids,
            "region": _names(t.regions, h.region),
            "zone": np.asarray([p[1] for p in zone_parts], dtype=object)[h.zone],
            "rack": np.asarray(rack_parts, dtype=object)[h.rack],
            **{r: h.capacity[:, k] for k, r in enumerate(c.resources)},
            "gpu_model": _names(c.gpu_models, h.gpu_model),
            "numa_nodes": h.numa_nodes,
            "power_curve": np.asarray(c.power.names, dtype=object)[h.power_curve],
            "state": np.asarray(names(HostState), dtype=object)[h.state],
            "type": np.asarray(c.host_types, dtype=object)[h.host_type],
            "labels": h.labels,
        }
    )
    aa, lvl = v.anti_affinity, c.anti_affinity.level
    vms = pd.DataFrame(
        {
            "id": v.ids,
            "tenant": _names(c.tenants, v.tenant),
            **{r: v.demand[:, k] for k, r in enumerate(c.resources)},
            "gpu_model": _names(c.gpu_models, v.gpu_model),
            "host": _names(tuple(str(x) for x in h.ids), v.current),
            "pricing": np.asarray(names(Pricing), dtype=object)[v.pricing],
            "user_region": _names(t.regions, v.user_region),
            "anti_affinity_group": _names(c.anti_affinity.names, aa),
            "spread_level": np.where(
                aa >= 0,
                np.asarray(names(SpreadLevel), dtype=object)[lvl[np.maximum(aa, 0)]] if len(lvl) else "host",
                "host",
            ),
            "max_per_domain": np.where(
                aa >= 0, c.anti_affinity.max_per_domain[np.maximum(aa, 0)] if len(lvl) else 1, 1
            ),
            "affinity_group": _names(c.affinity_groups, v.affinity),
            "migratable": v.migratable,
            "priority": v.priority,
        }
    )
    n = len(t.regions)
    i, j = np.nonzero(~np.eye(n, dtype=bool))
    regions = (
        pd.DataFrame(
            {
                "src": np.asarray(t.regions, dtype=object)[i],
                "dst": np.asarray(t.regions, dtype=object)[j],
                "latency_ms": t.latency_ms[i, j],
            }
        )
        if n > 1
        else None
    )
    curves = pd.DataFrame(
        {"name": list(c.power.names), **{p: c.power.watts[:, k] for k, p in enumerate(POWER_POINT_NAMES)}}
    )
    rows = []
    for z, (region, zone) in enumerate(zone_parts):
        for k, r in enumerate(c.resources):
            u = c.prices.unit[z, :, k]
            if u.any():
                rows.append((region, zone, r, u[Pricing.ON_DEMAND], u[Pricing.RESERVED], u[Pricing.SPOT]))
        hourly = c.prices.host_hourly[h.zone == z]
        types = h.host_type[h.zone == z]
        for ty in np.unique(types):
            rate = np.unique(hourly[types == ty])
            if rate.size == 1 and rate[0] > 0:
                rows.append((region, zone, f"host:{c.host_types[ty]}", rate[0], np.nan, np.nan))
    prices = (
        pd.DataFrame(rows, columns=["region", "zone", "item", "on_demand", "reserved", "spot"])
        if rows
        else None
    )
    extra = [r for r in c.resources if r not in STANDARD_RESOURCES]
    units = dict(zip(c.resources, c.units, strict=True))
    manifest = SnapshotManifest.model_validate(
        {
            "time": c.meta.get("time"),
            "resources": [{"name": r, "unit": units[r]} for r in extra],
            "units": {r: units[r] for r in STANDARD_RESOURCES},
            "metadata": c.meta.get("metadata", {}),
        }
    )
    return SnapshotTables(manifest, hosts, vms, regions, prices, curves)
