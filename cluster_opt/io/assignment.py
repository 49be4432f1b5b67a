"""Assignment files: one row per VM, columns ``vm`` (id) and ``host`` (id; empty = unplaced)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cluster_opt.io.columns import TableParser
from cluster_opt.io.issues import IssueCollector
from cluster_opt.io.schema import Column
from cluster_opt.io.tables import read_table, write_atomic, write_table
from cluster_opt.model.cluster import Cluster

ASSIGNMENT_COLUMNS = (
    Column("vm", "id", required=True, doc="VM id"),
    Column("host", "str", default="", doc="host id; empty = not placed"),
)


def read_assignment(path: str | Path, cluster: Cluster) -> np.ndarray:
    """int32[V] host index per VM (-1 = unplaced) from an assignment CSV/Parquet file.

    Every VM of the cluster must appear exactly once; unknown VMs or hosts are errors.
    Raises :class:`~cluster_opt.io.issues.SnapshotError` with every problem.
    """
    path = Path(path)
    issues = IssueCollector()
    df = read_table(path, issues) if path.exists() else None
    if df is None:
        if not path.exists():
            issues.add(str(path), "assignment file does not exist")
        issues.raise_if_any()
    assert df is not None
    cols = TableParser(str(path), df, ASSIGNMENT_COLUMNS, issues).parse()
    vm_idx = (
        pd.Series(cols["vm"], dtype=object).map(cluster.vm_index).to_numpy(dtype=np.float64, na_value=np.nan)
    )
    host_idx = (
        pd.Series(cols["host"], dtype=object)
        .map(cluster.host_index)
        .to_numpy(dtype=np.float64, na_value=np.nan)
    )
    unknown_vm = np.isnan(vm_idx) & (cols["vm"] != "")
    issues.add_rows(
        str(path), "vm", np.flatnonzero(unknown_vm), cols["vm"], lambda r: f"unknown VM {cols['vm'][r]!r}"
    )
    unknown_host = np.isnan(host_idx) & (cols["host"] != "")
    issues.add_rows(
        str(path),
        "host",
        np.flatnonzero(unknown_host),
        cols["vm"],
        lambda r: f"unknown host {cols['host'][r]!r}",
    )
    seen = np.zeros(cluster.n_vms, dtype=bool)
    seen[vm_idx[~np.isnan(vm_idx)].astype(np.int64)] = True
    missing = np.flatnonzero(~seen)
    if missing.size:
        shown = ", ".join(str(cluster.vms.ids[i]) for i in missing[:10])
        more = f" and {missing.size - 10} more" if missing.size > 10 else ""
        issues.add(
            str(path), f"{missing.size} VM(s) of the snapshot are not listed: {shown}{more}", column="vm"
        )
    issues.raise_if_any()
    out = np.full(cluster.n_vms, -1, dtype=np.int32)
    ok = ~np.isnan(host_idx)
    out[vm_idx[ok].astype(np.int64)] = host_idx[ok].astype(np.int32)
    return out


def assignment_frame(cluster: Cluster, assignment: np.ndarray) -> pd.DataFrame:
    """The assignment as a table of (vm id, host id)."""
    hosts = np.asarray([*map(str, cluster.hosts.ids), ""], dtype=object)
    return pd.DataFrame({"vm": cluster.vms.ids, "host": hosts[np.where(assignment >= 0, assignment, -1)]})


def write_assignment(path: str | Path, cluster: Cluster, assignment: np.ndarray) -> None:
    """Write an assignment file (CSV or Parquet by extension), atomically."""
    frame = assignment_frame(cluster, assignment)
    write_atomic(Path(path), lambda tmp: write_table(frame, tmp))
