"""Load a snapshot directory into a validated :class:`~cluster_opt.model.Cluster`.

Every problem in every file is collected first and raised together as one
:class:`~cluster_opt.io.issues.SnapshotError`. Complexity: O(H + V) table work plus
O(V x F) for the fits-somewhere check, F = Pareto-maximal distinct host shapes (small).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cluster_opt.io import checks
from cluster_opt.io.columns import TableParser
from cluster_opt.io.issues import IssueCollector
from cluster_opt.io.manifest import SnapshotManifest, read_manifest
from cluster_opt.io.schema import (
    LATENCY_COLUMNS,
    POWER_CURVE_COLUMNS,
    PRICE_COLUMNS,
    host_columns,
    vm_columns,
)
from cluster_opt.io.tables import find_table, read_table
from cluster_opt.io.write import SnapshotTables
from cluster_opt.model.cluster import (
    AntiAffinityGroups,
    Cluster,
    Hosts,
    Prices,
    Topology,
    Vms,
)


@dataclass
class _Table:
    file: str
    cols: dict[str, np.ndarray]
    n: int


def _parse(
    file: str, df: pd.DataFrame | None, columns, issues: IssueCollector, report_unknown: bool = True
) -> _Table | None:
    if df is None:
        return None
    return _Table(file, TableParser(file, df, columns, issues, report_unknown).parse(), len(df))


def _codes(values: np.ndarray, names: list[str]) -> np.ndarray:
    """int32 index of each value in ``names`` (-1 for '' or a value not in ``names``)."""
    return pd.Index(names, dtype=object).get_indexer(pd.Index(values, dtype=object)).astype(np.int32)


def _sorted_unique(values: np.ndarray) -> list[str]:
    return sorted(str(v) for v in pd.unique(values) if v != "")


TABLES = ("hosts", "vms", "regions", "prices", "power_curves")


def load_snapshot(directory: str | Path) -> Cluster:
    """Read and validate the snapshot in ``directory``.

    Raises :class:`~cluster_opt.io.issues.SnapshotError` listing every problem found.
    """
    directory = Path(directory)
    issues = IssueCollector()
    if not directory.is_dir():
        issues.add(str(directory), "snapshot directory does not exist")
        issues.raise_if_any()
    manifest = read_manifest(directory / "snapshot.yaml", issues)
    frames: dict[str, pd.DataFrame | None] = {}
    files: dict[str, str] = {}
    for name in TABLES:
        path = find_table(directory, name, issues, required=name in ("hosts", "vms"))
        frames[name] = read_table(path, issues) if path is not None else None
        files[name] = str(path) if path is not None else f"{directory / name}.csv"
    tables = SnapshotTables(
        manifest,
        frames["hosts"],
        frames["vms"],
        frames["regions"],  # type: ignore[arg-type]
        frames["prices"],
        frames["power_curves"],
    )
    return cluster_from_tables(tables, source=str(directory), files=files, issues=issues)


def cluster_from_tables(
    tables: SnapshotTables,
    source: str = "<memory>",
    files: dict[str, str] | None = None,
    issues: IssueCollector | None = None,
) -> Cluster:
    """Validate in-memory snapshot tables and build the :class:`Cluster`.

    ``files`` names each table in error messages (default: the table name).
    """
    issues = issues if issues is not None else IssueCollector()  # an empty collector is falsy
    files = files or {name: name for name in TABLES}
    resources = tables.manifest.resource_names()
    # a rejected snapshot.yaml hides the extra resources: do not call their columns unknown
    manifest_ok = not any(i.file.endswith("snapshot.yaml") for i in issues.issues)
    hosts = _parse(files["hosts"], tables.hosts, host_columns(resources), issues, manifest_ok)
    vms = _parse(files["vms"], tables.vms, vm_columns(resources), issues, manifest_ok)
    latency = _parse(files["regions"], tables.regions, LATENCY_COLUMNS, issues)
    prices = _parse(files["prices"], tables.prices, PRICE_COLUMNS, issues)
    curves = _parse(files["power_curves"], tables.power_curves, POWER_CURVE_COLUMNS, issues)
    if hosts is None or vms is None:
        issues.raise_if_any()
    assert hosts is not None and vms is not None
    return _build(
        source,
        tables.manifest,
        resources,
        hosts,
        vms,
        latency,
        prices,
        curves,
        issues,
        tuple(tables.hosts.columns),
    )


def _build(
    source: str,
    manifest: SnapshotManifest,
    resources: tuple[str, ...],
    hosts: _Table,
    vms: _Table,
    latency: _Table | None,
    prices: _Table | None,
    curves: _Table | None,
    issues: IssueCollector,
    tables_columns: tuple[str, ...],
) -> Cluster:
    h, v = hosts.cols, vms.cols
    capacity = np.column_stack([h[r] for r in resources]) if hosts.n else np.zeros((0, len(resources)))
    demand = np.column_stack([v[r] for r in resources]) if vms.n else np.zeros((0, len(resources)))
    capacity = np.nan_to_num(capacity, nan=0.0)
    demand = np.nan_to_num(demand, nan=0.0)

    # --- topology -------------------------------------------------------------------
    host_regions = _sorted_unique(h["region"])
    user_regions = _sorted_unique(v["user_region"])
    latency_regions = (
        _sorted_unique(latency.cols["src"]) + _sorted_unique(latency.cols["dst"]) if latency else []
    )
    regions = sorted(set(host_regions) | set(user_regions) | set(latency_regions))
    zone_keys = pd.Series(h["region"]).astype(str) + "/" + pd.Series(h["zone"]).astype(str)
    rack_keys = zone_keys + "/" + pd.Series(h["rack"]).astype(str)
    zones = sorted(set(zone_keys))
    racks = sorted(set(rack_keys))
    region_code = _codes(h["region"], regions)
    zone_code = _codes(zone_keys.to_numpy(), zones)
    rack_code = _codes(rack_keys.to_numpy(), racks)
    zone_region = _codes(np.array([z.split("/", 1)[0] for z in zones], dtype=object), regions)
    rack_zone = _codes(np.array([r.rsplit("/", 1)[0] for r in racks], dtype=object), zones)
    latency_ms = checks.latency_matrix(latency, regions, host_regions, user_regions, issues)

    # --- names ------------------------------------------------------------------------
    host_ids = h["id"]
    host_index = {hid: i for i, hid in enumerate(host_ids)}
    gpu_models = _sorted_unique(h["gpu_model"])
    tenants = _sorted_unique(v["tenant"])
    host_types = _sorted_unique(h["type"])
    aa_names = _sorted_unique(v["anti_affinity_group"])
    aff_names = _sorted_unique(v["affinity_group"])

    current = pd.Series(v["host"], dtype=object).map(host_index).fillna(-1).to_numpy(dtype=np.int32)
    unknown_host = (current < 0) & (v["host"] != "")
    issues.add_rows(
        vms.file,
        "host",
        np.flatnonzero(unknown_host),
        v["id"],
        lambda r: f"VM is on unknown host {v['host'][r]!r}",
    )
    vm_gpu = _codes(v["gpu_model"], gpu_models)
    no_model = (vm_gpu < 0) & (v["gpu_model"] != "")
    issues.add_rows(
        vms.file,
        "gpu_model",
        np.flatnonzero(no_model),
        v["id"],
        lambda r: f"no host has GPU model {v['gpu_model'][r]!r} (hosts have {gpu_models or 'none'})",
    )
    host_gpu = _codes(h["gpu_model"], gpu_models)
    if "gpus" in resources:
        gpus = capacity[:, resources.index("gpus")]
        issues.add_rows(
            hosts.file,
            "gpu_model",
            np.flatnonzero((host_gpu >= 0) & (gpus <= 0)),
            host_ids,
            "gpu_model is set but the host has no gpus",
        )

    power = checks.power_curves(hosts, curves, issues)
    aa_code = _codes(v["anti_affinity_group"], aa_names)
    aff_code = _codes(v["affinity_group"], aff_names)
    aa_level, aa_max = checks.anti_affinity_groups(vms, aa_code, len(aa_names), issues)
    host_state = h["state"].astype(np.int8)
    checks.groups_not_contradictory(vms, aa_code, aff_code, aa_names, aff_names, aa_max, issues)
    checks.spread_possible(
        vms,
        aa_code,
        aa_names,
        aa_level,
        aa_max,
        n_domains=(len(host_ids), len(racks), len(zones)),
        issues=issues,
    )
    capacity_known = all(
        c.name in tables_columns for c in host_columns(resources) if c.required and c.kind == "float"
    )
    if capacity_known:  # a missing capacity column would make every VM "too large"
        checks.vms_fit_somewhere(
            vms, hosts, resources, capacity, demand, host_state, host_gpu, vm_gpu, aff_code, issues
        )
    unit_price, host_hourly = checks.price_tables(prices, resources, zones, zone_code, h["type"], issues)
    issues.raise_if_any()

    meta = {
        "source": source,
        "time": manifest.time.isoformat() if manifest.time else None,
        "metadata": manifest.metadata,
        "warnings": ([] if latency is not None else ["no regions table: latency objective is zero"]),
    }
    return Cluster(
        resources=resources,
        units=manifest.resource_units(),
        hosts=Hosts(
            ids=host_ids,
            capacity=np.ascontiguousarray(capacity, dtype=np.float64),
            region=region_code,
            zone=zone_code,
            rack=rack_code,
            state=host_state,
            gpu_model=host_gpu,
            numa_nodes=h["numa_nodes"].astype(np.int32),
            power_curve=power[1],
            host_type=_codes(h["type"], host_types),
            labels=h["labels"],
        ),
        vms=Vms(
            ids=v["id"],
            demand=np.ascontiguousarray(demand, dtype=np.float64),
            tenant=_codes(v["tenant"], tenants),
            gpu_model=vm_gpu,
            current=current,
            pricing=v["pricing"].astype(np.int8),
            user_region=_codes(v["user_region"], regions),
            anti_affinity=aa_code,
            affinity=aff_code,
            migratable=v["migratable"].astype(bool),
            priority=v["priority"].astype(np.int32),
        ),
        topology=Topology(
            regions=tuple(regions),
            zones=tuple(zones),
            racks=tuple(racks),
            zone_region=zone_region,
            rack_zone=rack_zone,
            latency_ms=latency_ms,
        ),
        anti_affinity=AntiAffinityGroups(tuple(aa_names), aa_level, aa_max),
        affinity_groups=tuple(aff_names),
        tenants=tuple(tenants),
        gpu_models=tuple(gpu_models),
        host_types=tuple(host_types),
        power=power[0],
        prices=Prices(unit=unit_price, host_hourly=host_hourly),
        meta=meta,
    )
