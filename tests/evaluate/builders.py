"""Tiny hand-built clusters for the evaluator tests, made through the validating loader.

Hosts and VMs are given as lists of dicts with only the columns that matter; the rest take
these defaults. Host ids are ``h0, h1, ...`` and VM ids ``v0, v1, ...`` in list order, so
host index = position in ``hosts`` and VM index = position in ``vms``. A VM's ``host`` may
be given as a host index (int) or -1 / omitted for pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cluster_opt.io.load import cluster_from_tables, load_snapshot
from cluster_opt.io.manifest import SnapshotManifest
from cluster_opt.io.write import SnapshotTables
from cluster_opt.model import Cluster

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "small"

HOST_DEFAULTS = {
    "region": "r1",
    "zone": "z1",
    "rack": "k1",
    "cpu": 16.0,
    "mem_gb": 64.0,
    "idle_watts": 100.0,
    "peak_watts": 200.0,
}
VM_DEFAULTS = {"cpu": 1.0, "mem_gb": 1.0}


def snapshot_tables(
    hosts: Sequence[dict],
    vms: Sequence[dict],
    latency: Sequence[tuple[str, str, float]] | None = None,
    prices: Sequence[tuple] | None = None,
    curves: dict[str, Sequence[float]] | None = None,
    extra_resources: Sequence[str] = (),
) -> SnapshotTables:
    """SnapshotTables from plain rows. ``latency``: (src, dst, ms); ``prices``: (region,
    zone, item, on_demand, reserved, spot); ``curves``: name -> 11 watts values."""
    host_rows = []
    for i, h in enumerate(hosts):
        row = {"id": f"h{i}", **HOST_DEFAULTS, **h}
        if "power_curve" in h:  # a named curve replaces the linear idle/peak model
            row.pop("idle_watts", None)
            row.pop("peak_watts", None)
        host_rows.append(row)
    vm_rows = []
    for i, v in enumerate(vms):
        row = {"id": f"v{i}", **VM_DEFAULTS, **v}
        host = row.pop("host", -1)
        row["host"] = f"h{host}" if isinstance(host, int | np.integer) and host >= 0 else ""
        vm_rows.append(row)
    manifest = SnapshotManifest(resources=[{"name": r} for r in extra_resources])
    return SnapshotTables(
        manifest,
        pd.DataFrame(host_rows),
        pd.DataFrame(vm_rows),
        pd.DataFrame(list(latency), columns=["src", "dst", "latency_ms"]) if latency else None,
        (
            pd.DataFrame(list(prices), columns=["region", "zone", "item", "on_demand", "reserved", "spot"])
            if prices
            else None
        ),
        (
            pd.DataFrame(
                [{"name": n, **{f"p{10 * k}": w for k, w in enumerate(ws)}} for n, ws in curves.items()]
            )
            if curves
            else None
        ),
    )


def tiny_cluster(hosts: Sequence[dict], vms: Sequence[dict], **kwargs) -> Cluster:
    """A validated Cluster from plain rows (see :func:`snapshot_tables`)."""
    return cluster_from_tables(snapshot_tables(hosts, vms, **kwargs))


def example_cluster() -> Cluster:
    """The example snapshot shipped in examples/small."""
    return load_snapshot(EXAMPLE)
