"""Writing snapshots: CSV and Parquet give the same Cluster, and load -> cluster_tables ->
write -> load reproduces every array."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from snapshot_helpers import assert_same_arrays, assert_same_cluster, copy_example

from cluster_opt.io import cluster_tables, load_snapshot, write_snapshot
from cluster_opt.model import Cluster

TABLES = ("hosts", "vms", "regions", "prices", "power_curves")


@pytest.fixture(scope="module")
def written(example_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """examples/small written once in each format."""
    root = tmp_path_factory.mktemp("written")
    tables = cluster_tables(example_cluster)
    return {fmt: write_snapshot(tables, root / fmt, fmt) for fmt in ("csv", "parquet")}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_written_files(written: dict[str, Path], fmt: str) -> None:
    out = written[fmt]
    assert sorted(p.name for p in out.iterdir()) == sorted(["snapshot.yaml", *(f"{t}.{fmt}" for t in TABLES)])
    manifest = yaml.safe_load((out / "snapshot.yaml").read_text())
    assert manifest == {
        "version": 1,
        "time": "2026-11-01T02:00:00Z",
        "resources": [{"name": "local_ssd_gb", "unit": "GB"}],
        "units": {"cpu": "vCPU", "mem_gb": "GB", "net_gbps": "Gbit/s", "iops": "IO/s", "gpus": "GPU"},
        "metadata": {"description": "example snapshot shipped with cluster-opt"},
    }
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temporary left over


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_reproduces_every_array(
    written: dict[str, Path], example_cluster: Cluster, fmt: str
) -> None:
    """hosts, vms, topology, groups, power curves, prices, name tables and meta."""
    assert_same_cluster(example_cluster, load_snapshot(written[fmt]))


def test_csv_and_parquet_give_the_same_cluster(written: dict[str, Path]) -> None:
    assert_same_cluster(load_snapshot(written["csv"]), load_snapshot(written["parquet"]))


def test_second_round_trip_writes_the_same_tables(
    written: dict[str, Path], example_cluster: Cluster, tmp_path: Path
) -> None:
    again = cluster_tables(load_snapshot(written["parquet"]))
    first = cluster_tables(example_cluster)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(again, name), getattr(first, name), obj=name)
    assert again.manifest == first.manifest
    out = write_snapshot(again, tmp_path / "again", "csv")
    for name in TABLES:
        assert (out / f"{name}.csv").read_bytes() == (written["csv"] / f"{name}.csv").read_bytes(), name


def test_cluster_tables_content(example_cluster: Cluster) -> None:
    t = cluster_tables(example_cluster)
    assert list(t.hosts.columns) == [
        "id", "region", "zone", "rack", "cpu", "mem_gb", "net_gbps", "iops", "gpus", "local_ssd_gb",
        "gpu_model", "numa_nodes", "power_curve", "state", "type", "labels",
    ]  # fmt: skip
    h08 = t.hosts.iloc[7].to_dict()
    assert h08 == {
        "id": "h08", "region": "us-east", "zone": "b", "rack": "r3", "cpu": 64.0, "mem_gb": 512.0,
        "net_gbps": 100.0, "iops": 200000.0, "gpus": 8.0, "local_ssd_gb": 3840.0, "gpu_model": "A100",
        "numa_nodes": 2, "power_curve": "linear:300-2400", "state": "active", "type": "gpu-a100",
        "labels": "accel=gpu",
    }  # fmt: skip
    db2 = t.vms.iloc[4].to_dict()
    assert db2 == {
        "id": "db-2", "tenant": "acme", "cpu": 16.0, "mem_gb": 128.0, "net_gbps": 4.0, "iops": 20000.0,
        "gpus": 0.0, "local_ssd_gb": 800.0, "gpu_model": "", "host": "h04", "pricing": "reserved",
        "user_region": "us-east", "anti_affinity_group": "acme-db", "spread_level": "rack",
        "max_per_domain": 1, "affinity_group": "", "migratable": True, "priority": 3,
    }  # fmt: skip
    assert t.vms.loc[t.vms["id"] == "new-1", "host"].item() == ""
    assert t.regions.to_dict("records") == [
        {"src": "eu-west", "dst": "us-east", "latency_ms": 76.0},
        {"src": "us-east", "dst": "eu-west", "latency_ms": 76.0},
    ]
    assert list(t.power_curves["name"]) == list(example_cluster.power.names)
    # per-unit rows for every priced (zone, resource) and one per (zone, host type)
    assert len(t.prices) == 11 + 6
    hosts_rows = t.prices[t.prices["item"].str.startswith("host:")]
    assert sorted(zip(hosts_rows["zone"], hosts_rows["item"], hosts_rows["on_demand"], strict=True)) == [
        ("a", "host:std-64", 0.35),
        ("a", "host:std-64", 0.42),
        ("b", "host:dense-96", 0.30),
        ("b", "host:gpu-a100", 0.30),
        ("b", "host:gpu-t4", 0.42),
        ("b", "host:std-64", 0.42),
    ]


def test_write_refuses_to_overwrite(example_cluster: Cluster, tmp_path: Path) -> None:
    out = write_snapshot(cluster_tables(example_cluster), tmp_path / "snap", "csv")
    before = (out / "hosts.csv").read_bytes()
    with pytest.raises(FileExistsError):
        write_snapshot(cluster_tables(example_cluster), out, "parquet")
    assert (out / "hosts.csv").read_bytes() == before
    write_snapshot(cluster_tables(example_cluster), out, "parquet", overwrite=True)
    assert sorted(p.suffix for p in out.iterdir()) == [".parquet"] * 5 + [".yaml"]


def test_parquet_with_inferred_column_types(tmp_path: Path, example_cluster: Cluster) -> None:
    """Parquet written from pandas' own type inference (ints, floats, bools, NaN for empty
    strings) loads into the same cluster as the CSV files."""
    snap = copy_example(tmp_path / "snap")
    for name in TABLES:
        pd.read_csv(snap / f"{name}.csv").to_parquet(snap / f"{name}.parquet")
        (snap / f"{name}.csv").unlink()
    assert pq.read_schema(snap / "vms.parquet").field("migratable").type == pa.bool_()
    assert_same_cluster(example_cluster, load_snapshot(snap))


def test_parquet_integer_ids_with_nulls(tmp_path: Path) -> None:
    """Integer ids stay integers when a column has nulls: VM host 7 is host id 7, not '7.0'."""
    snap = tmp_path / "ints"
    snap.mkdir()
    (snap / "snapshot.yaml").write_text("version: 1\n")
    hosts = {
        "id": pa.array([7, 8], pa.int64()),
        "region": ["r", "r"],
        "zone": ["z", "z"],
        "rack": ["k", "k"],
        "cpu": [8.0, 8.0],
        "mem_gb": [16.0, 16.0],
        "idle_watts": [100.0, 100.0],
        "peak_watts": [200.0, 200.0],
        "numa_nodes": pa.array([2, None], pa.int64()),
    }
    pq.write_table(pa.table(hosts), snap / "hosts.parquet")
    vms = {
        "id": pa.array([10, 11, 12], pa.int64()),
        "cpu": [1.0, 1.0, 1.0],
        "mem_gb": [1.0, 1.0, 1.0],
        "host": pa.array([8, None, 7], pa.int64()),
        "priority": pa.array([None, 5, 1], pa.int64()),
    }
    pq.write_table(pa.table(vms), snap / "vms.parquet")
    c = load_snapshot(snap)
    assert list(c.hosts.ids) == ["7", "8"]
    assert list(c.vms.ids) == ["10", "11", "12"]
    assert_same_arrays(c.vms.current, np.array([1, -1, 0], dtype=np.int32))
    assert_same_arrays(c.vms.priority, np.array([0, 5, 1], dtype=np.int32))
    assert_same_arrays(c.hosts.numa_nodes, np.array([2, 1], dtype=np.int32))


def test_mixed_formats_in_one_snapshot(tmp_path: Path, example_cluster: Cluster) -> None:
    snap = copy_example(tmp_path / "snap")
    for name in ("vms", "power_curves"):
        pd.read_csv(snap / f"{name}.csv", dtype=str, keep_default_na=False).to_parquet(
            snap / f"{name}.parquet"
        )
        (snap / f"{name}.csv").unlink()
    assert_same_cluster(example_cluster, load_snapshot(snap))
