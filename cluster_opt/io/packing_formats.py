"""Reference bin-packing instances as clusters: VPSolver ``.vbp`` vector packing files and
BPPLIB 1-D files, so the published sets can be solved like any snapshot.

Every bin becomes an identical host (as many as items: always enough), every item a pending
VM; the dimensions are extra resources ``d1..dk`` (the standard ones stay at 0). The matching
:func:`packing_config` makes the objective the number of active hosts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cluster_opt.evaluate import EvaluationConfig
from cluster_opt.io.issues import Issue, SnapshotError
from cluster_opt.io.load import cluster_from_tables
from cluster_opt.io.manifest import SnapshotManifest
from cluster_opt.io.write import SnapshotTables
from cluster_opt.model import Cluster


@dataclass(frozen=True)
class PackingInstance:
    """Items ``sizes[n, d]`` to pack into identical bins of ``capacity[d]``."""

    name: str
    sizes: np.ndarray  # int64[n, d]
    capacity: np.ndarray  # int64[d]

    @property
    def volume_bound(self) -> int:
        """max over dimensions of ceil(total size / capacity). O(n d)."""
        total = self.sizes.sum(axis=0)
        return int(np.max(-(-total // np.maximum(self.capacity, 1)), initial=0))


def _integers(path: Path) -> list[int]:
    tokens = path.read_text().split()
    bad = [(i, t) for i, t in enumerate(tokens) if not t.lstrip("-").isdigit()]
    if bad:
        i, t = bad[0]
        raise SnapshotError([Issue(str(path), None, None, f"token {i + 1}", f"{t!r} is not an integer")])
    return [int(t) for t in tokens]


def _need(path: Path, values: list[int], count: int, what: str) -> None:
    if len(values) < count:
        raise SnapshotError(
            [
                Issue(
                    str(path),
                    None,
                    None,
                    what,
                    f"file ends early: expected {count} integers, found {len(values)}",
                )
            ]
        )


def read_vbp(path: str | Path) -> PackingInstance:
    """Read a VPSolver ``.vbp`` file: d, capacities, m, then m lines of d sizes and a
    multiplicity. O(file size)."""
    path = Path(path)
    v = _integers(path)
    _need(path, v, 1, "dimensions")
    d = v[0]
    _need(path, v, 2 + d, "capacity")
    cap = np.array(v[1 : 1 + d], dtype=np.int64)
    m = v[1 + d]
    _need(path, v, 2 + d + m * (d + 1), "items")
    rows = np.array(v[2 + d : 2 + d + m * (d + 1)], dtype=np.int64).reshape(m, d + 1)
    issues = [
        Issue(str(path), 2, None, f"capacity[{k + 1}]", f"capacity {cap[k]} must be > 0")
        for k in np.flatnonzero(cap <= 0)
    ]
    issues += [  # item i is on line 4 + i of the file (1-based)
        Issue(str(path), 4 + int(i), None, f"size[{int(k) + 1}]", f"size {rows[i, k]} is negative")
        for i, k in zip(*np.nonzero(rows[:, : d + 1] < 0), strict=True)
    ]
    if issues:
        raise SnapshotError(issues)
    sizes = np.repeat(rows[:, :d], rows[:, d], axis=0)
    return PackingInstance(path.stem, sizes, cap)


def read_bpplib(path: str | Path) -> PackingInstance:
    """Read a BPPLIB 1-D file: n, capacity, then n weights. O(file size)."""
    path = Path(path)
    v = _integers(path)
    _need(path, v, 2, "header")
    n, c = v[0], v[1]
    _need(path, v, 2 + n, "weights")
    sizes = np.array(v[2 : 2 + n], dtype=np.int64)[:, None]
    issues = [Issue(str(path), 2, None, "capacity", f"capacity {c} must be > 0")] if c <= 0 else []
    issues += [  # weight i is on line 3 + i (1-based)
        Issue(str(path), 3 + int(i), None, "weight", f"weight {sizes[i, 0]} is negative")
        for i in np.flatnonzero(sizes[:, 0] < 0)
    ]
    if issues:
        raise SnapshotError(issues)
    return PackingInstance(path.stem, sizes, np.array([c], dtype=np.int64))


def read_packing(path: str | Path) -> PackingInstance:
    """``.vbp`` by extension, anything else as a BPPLIB file."""
    return read_vbp(path) if Path(path).suffix == ".vbp" else read_bpplib(path)


def packing_cluster(instance: PackingInstance, n_bins: int | None = None) -> Cluster:
    """A cluster of ``n_bins`` (default: one per item) identical hosts and one pending VM
    per item, through the validating loader. O(n d)."""
    n, d = instance.sizes.shape
    bins = n if n_bins is None else int(n_bins)
    dims = [f"d{k + 1}" for k in range(d)]
    hosts = pd.DataFrame({"id": [f"bin{i}" for i in range(bins)], "region": "r", "zone": "z", "rack": "k"})
    hosts["cpu"] = 0.0
    hosts["mem_gb"] = 0.0
    for k, name in enumerate(dims):
        hosts[name] = float(instance.capacity[k])
    hosts["idle_watts"] = 100.0
    hosts["peak_watts"] = 200.0
    vms = pd.DataFrame({"id": [f"item{i}" for i in range(n)], "host": ""})
    vms["cpu"] = 0.0
    vms["mem_gb"] = 0.0
    for k, name in enumerate(dims):
        vms[name] = instance.sizes[:, k].astype(np.float64)
    manifest = SnapshotManifest(resources=[{"name": r} for r in dims], metadata={"name": instance.name})
    return cluster_from_tables(SnapshotTables(manifest, hosts, vms), source=instance.name)


def packing_config(n_hosts: int) -> EvaluationConfig:
    """Minimise active hosts; every item must be placed; a consolidation pull (worth less
    than one host in total) guides local search between host counts."""
    off = {t: {"weight": 0.0} for t in ("energy_watts", "hourly_cost", "latency_ms", "migrations")}
    return EvaluationConfig(
        terms={
            **off,
            "active_hosts": {"weight": 1.0},
            "unplaced": {"hard": True, "weight": 1e6},
            "consolidation": {"weight": 0.5 / max(n_hosts, 1)},
        },
        imbalance_resources=["d1"],
        power_resource="d1",
    )
