"""Valid snapshots: examples/small loads into exactly the arrays its files describe;
defaults fill absent optional columns and tables; declared resources flow through."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from snapshot_helpers import EXAMPLE, add_row, assert_same_arrays, read_csv, set_cell, write_csv

from cluster_opt.io import SnapshotError, load_snapshot
from cluster_opt.io.issues import IssueCollector
from cluster_opt.io.load import cluster_from_tables
from cluster_opt.io.manifest import SnapshotManifest
from cluster_opt.io.write import SnapshotTables
from cluster_opt.model import Cluster, HostState, Pricing, SpreadLevel

HOST_IDS = [f"h{i:02d}" for i in range(1, 15)]
# fmt: off
VM_IDS = [
    "web-1", "web-2", "web-3", "db-1", "db-2", "db-3", "cache-1", "app-1",  # acme
    "batch-1", "batch-2", "batch-3", "batch-4", "train-1", "train-2",  # globex
    "infer-1", "api-1", "api-2", "api-3", "api-4", "ci-1", "ci-2", "ci-3", "ci-4", "ci-5",  # initech
    "mail-1", "mail-2", "crm-1", "crm-2", "new-1", "new-2",  # umbrella
]
# fmt: on
RESOURCES = ("cpu", "mem_gb", "net_gbps", "iops", "gpus", "local_ssd_gb")

ACT, MNT, FLD, OFF = HostState.ACTIVE, HostState.MAINTENANCE, HostState.FAILED, HostState.OFF
OD, SP, RE = Pricing.ON_DEMAND, Pricing.SPOT, Pricing.RESERVED


def test_example_name_tables(example_cluster: Cluster) -> None:
    c = example_cluster
    assert c.resources == RESOURCES
    assert c.units == ("vCPU", "GB", "Gbit/s", "IO/s", "GPU", "GB")
    assert list(c.hosts.ids) == HOST_IDS
    assert list(c.vms.ids) == VM_IDS
    assert c.topology.regions == ("eu-west", "us-east")
    assert c.topology.zones == ("eu-west/a", "eu-west/b", "us-east/a", "us-east/b")
    assert c.topology.racks == (
        "eu-west/a/r4",
        "eu-west/b/r5",
        "eu-west/b/r6",
        "us-east/a/r1",
        "us-east/a/r2",
        "us-east/b/r3",
    )
    assert c.gpu_models == ("A100", "T4")
    assert c.tenants == ("acme", "globex", "initech", "umbrella")
    assert c.host_types == ("dense-96", "gpu-a100", "gpu-t4", "std-64")
    assert c.anti_affinity.names == ("acme-db", "acme-web", "initech-api")
    assert c.affinity_groups == ("app-pair",)
    assert c.meta == {
        "source": str(EXAMPLE),
        "time": "2026-11-01T02:00:00+00:00",
        "metadata": {"description": "example snapshot shipped with cluster-opt"},
        "warnings": [],
    }


def test_example_hosts(example_cluster: Cluster) -> None:
    h = example_cluster.hosts
    std = [64, 512, 50, 200000, 0, 3840]
    expected_capacity = np.array(
        [std] * 5
        + [[96, 768, 100, 400000, 0, 7680]] * 2
        + [[64, 512, 100, 200000, 8, 3840]]
        + [std] * 4
        + [[32, 256, 25, 100000, 4, 1920]]
        + [std],
        dtype=np.float64,
    )
    assert_same_arrays(h.capacity, expected_capacity, "capacity")
    assert h.capacity.flags.c_contiguous
    # regions: 0 eu-west, 1 us-east; zones and racks index the name tables above
    assert_same_arrays(h.region, np.array([1] * 8 + [0] * 6, dtype=np.int32))
    assert_same_arrays(h.zone, np.array([2] * 5 + [3] * 3 + [0] * 3 + [1] * 3, dtype=np.int32))
    assert_same_arrays(h.rack, np.array([3, 3, 3, 4, 4, 5, 5, 5, 0, 0, 0, 1, 1, 2], dtype=np.int32))
    assert_same_arrays(h.state, np.array([ACT] * 4 + [MNT] + [ACT] * 5 + [OFF, ACT, ACT, FLD], dtype=np.int8))
    assert_same_arrays(h.gpu_model, np.array([-1] * 7 + [0] + [-1] * 4 + [1, -1], dtype=np.int32))
    assert_same_arrays(h.numa_nodes, np.array([2] * 12 + [1, 2], dtype=np.int32))
    assert_same_arrays(h.host_type, np.array([3] * 5 + [0, 0, 1] + [3] * 4 + [2, 3], dtype=np.int32))
    assert list(h.labels) == ["ssd=nvme"] * 3 + [""] * 4 + ["accel=gpu"] + [""] * 4 + ["accel=gpu", ""]
    assert_same_arrays(
        example_cluster.topology.zone_region, np.array([0, 0, 1, 1], dtype=np.int32), "zone_region"
    )
    assert_same_arrays(
        example_cluster.topology.rack_zone, np.array([0, 1, 1, 2, 2, 3], dtype=np.int32), "rack_zone"
    )
    assert list(example_cluster.usable) == [s == ACT for s in h.state]


def test_example_vms(example_cluster: Cluster) -> None:
    v = example_cluster.vms
    assert v.demand.shape == (30, 6) and v.demand.dtype == np.float64
    assert list(v.demand[VM_IDS.index("ci-1")]) == [1, 1.75, 0.5, 500, 0, 10]
    assert list(v.demand[VM_IDS.index("train-1")]) == [16, 128, 10, 10000, 4, 1000]
    assert list(v.demand[VM_IDS.index("cache-1")]) == [2, 28, 1, 1000, 0, 0]
    assert v.demand[:, 0].sum() == 163  # total cpu of the 30 VMs
    # current host: index of h01..h14, -1 for the two pending VMs
    current = [0, 1, 5, 0, 3, 5, 1, 1, 2, 2, 6, 6, 7, 7, 12, 8, 9, 11, 11, 8, 8, 9, 9, 11, 3, 8, 6, 11]
    current += [-1, -1]
    assert_same_arrays(v.current, np.array(current, dtype=np.int32))
    assert_same_arrays(v.tenant, np.array([0] * 8 + [1] * 6 + [2] * 10 + [3] * 6, dtype=np.int32))
    pricing = [OD] * 3 + [RE] * 3 + [OD, OD] + [SP] * 4 + [OD, SP, OD] + [OD] * 4 + [SP] * 5
    pricing += [RE, RE, OD, OD, OD, SP]
    assert_same_arrays(v.pricing, np.array(pricing, dtype=np.int8))
    user = [1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1]
    assert_same_arrays(v.user_region, np.array(user, dtype=np.int32))
    assert_same_arrays(
        v.anti_affinity, np.array([1] * 3 + [0] * 3 + [-1] * 9 + [2] * 4 + [-1] * 11, dtype=np.int32)
    )
    assert_same_arrays(v.affinity, np.array([-1] * 6 + [0, 0] + [-1] * 22, dtype=np.int32))
    assert_same_arrays(v.gpu_model, np.array([-1] * 12 + [0, -1, 1] + [-1] * 15, dtype=np.int32))
    assert_same_arrays(v.migratable, np.array([i != VM_IDS.index("db-3") for i in range(30)]))
    priority = [2, 2, 2, 3, 3, 3, 1, 1, 0, 0, 0, 0, 2, 1, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 1, 1, 2, 2, 1, 0]
    assert_same_arrays(v.priority, np.array(priority, dtype=np.int32))
    aa = example_cluster.anti_affinity
    assert_same_arrays(
        aa.level, np.array([SpreadLevel.RACK, SpreadLevel.HOST, SpreadLevel.ZONE], dtype=np.int8)
    )
    assert_same_arrays(aa.max_per_domain, np.array([1, 1, 2], dtype=np.int32))


def test_example_power_curves(example_cluster: Cluster) -> None:
    p = example_cluster.power
    # named curves first, then one linear curve per distinct (idle, peak), sorted
    assert p.names == ("dense-96", "linear:150-700", "linear:180-520", "linear:190-540", "linear:300-2400")
    assert list(p.watts[0]) == [210, 265, 300, 335, 370, 410, 455, 500, 550, 605, 660]
    assert list(p.watts[2]) == [180, 214, 248, 282, 316, 350, 384, 418, 452, 486, 520]  # +34 per 10 %
    assert list(p.watts[4]) == [300 + 210 * k for k in range(11)]
    curve = [2] * 5 + [0, 0, 4] + [3] * 4 + [1, 3]
    assert_same_arrays(example_cluster.hosts.power_curve, np.array(curve, dtype=np.int32))
    assert list(example_cluster.idle_watts) == [180] * 5 + [210, 210, 300] + [190] * 4 + [150, 190]


def test_example_latency_is_mirrored(example_cluster: Cluster) -> None:
    # regions.csv gives us-east -> eu-west only; the other direction is mirrored
    assert_same_arrays(example_cluster.topology.latency_ms, np.array([[0.0, 76.0], [76.0, 0.0]]))


def test_example_prices(example_cluster: Cluster) -> None:
    prices = example_cluster.prices
    rows = {  # (zone, resource): (on_demand, reserved, spot), as in prices.csv
        ("us-east/a", "cpu"): (0.04, 0.025, 0.012),
        ("us-east/a", "mem_gb"): (0.005, 0.0031, 0.0015),
        ("us-east/a", "gpus"): (2.1, 1.3, 0.7),
        ("us-east/b", "cpu"): (0.04, 0.025, 0.0095),
        ("us-east/b", "mem_gb"): (0.005, 0.0031, 0.0012),
        ("us-east/b", "gpus"): (2.1, 1.3, 0.65),
        ("eu-west/a", "cpu"): (0.044, 0.028, 0.014),
        ("eu-west/a", "mem_gb"): (0.0055, 0.0034, 0.0017),
        ("eu-west/b", "cpu"): (0.044, 0.028, 0.018),
        ("eu-west/b", "mem_gb"): (0.0055, 0.0034, 0.0021),
        ("eu-west/b", "gpus"): (1.2, 0.8, 0.4),
    }
    expected = np.zeros((4, 3, 6))
    zones = example_cluster.topology.zones
    for (zone, res), (od, rs, sp) in rows.items():
        z, k = zones.index(zone), RESOURCES.index(res)
        expected[z, OD, k], expected[z, RE, k], expected[z, SP, k] = od, rs, sp
    assert_same_arrays(prices.unit, expected, "unit")
    assert_same_arrays(prices.host_hourly, np.array([0.35] * 5 + [0.30] * 3 + [0.42] * 6), "host_hourly")


def test_declared_resource_flows_through(example_cluster: Cluster) -> None:
    c = example_cluster
    k = c.resource_index("local_ssd_gb")
    assert (k, c.units[k]) == (5, "GB")
    assert list(c.hosts.capacity[:, k]) == [3840] * 5 + [7680] * 2 + [3840] * 5 + [1920, 3840]
    vms = pd.read_csv(EXAMPLE / "vms.csv")
    assert list(c.vms.demand[:, k]) == vms["local_ssd_gb"].astype(float).tolist()
    with pytest.raises(KeyError, match="unknown resource 'fpga'"):
        c.resource_index("fpga")


def test_second_declared_resource(snapshot_dir: Path) -> None:
    """A resource declared in snapshot.yaml is required in hosts.csv, optional in vms.csv
    (default 0), can be priced, and counts in the fits-somewhere check."""
    yaml = snapshot_dir / "snapshot.yaml"
    yaml.write_text(yaml.read_text().replace("metadata:", "  - name: fpga\nmetadata:"))
    hosts = read_csv(snapshot_dir, "hosts")
    hosts["fpga"] = ["2" if h == "h13" else "0" for h in hosts["id"]]
    write_csv(snapshot_dir, "hosts", hosts)
    add_row(snapshot_dir, "prices", 0, zone="b", region="eu-west", item="fpga", on_demand="1.5")
    c = load_snapshot(snapshot_dir)
    assert c.resources == (*RESOURCES, "fpga")
    assert c.units[-1] == ""
    assert list(c.hosts.capacity[:, 6]) == [0] * 12 + [2, 0]
    assert not c.vms.demand[:, 6].any()
    assert c.prices.unit[1, :, 6].tolist() == [1.5, 0.012, 0.025]  # on_demand, spot, reserved

    set_cell(snapshot_dir, "vms", "infer-1", "gpu_model", "")  # so that any host is compatible
    vms = read_csv(snapshot_dir, "vms")
    vms["fpga"] = ["3" if v == "infer-1" else "" for v in vms["id"]]
    write_csv(snapshot_dir, "vms", vms)
    with pytest.raises(SnapshotError) as info:
        load_snapshot(snapshot_dir)
    [issue] = info.value.issues
    assert (issue.row, issue.row_id) == (15, "infer-1")
    assert issue.reason == "VM is larger than every compatible host: fpga 3 > largest 2"


def _write(path: Path, text: str) -> None:
    path.write_text(text.strip() + "\n")


@pytest.fixture
def minimal_dir(tmp_path: Path) -> Path:
    """Only the required tables, each with only its required columns (+ a power model)."""
    d = tmp_path / "minimal"
    d.mkdir()
    _write(d / "snapshot.yaml", "version: 1")
    _write(
        d / "hosts.csv",
        """
id,region,zone,rack,cpu,mem_gb,idle_watts,peak_watts
a1,north,z1,k1,16,64,100,300
a2,north,z2,k2,8,32,100,300
""",
    )
    _write(
        d / "vms.csv",
        """
id,cpu,mem_gb
v1,4,8
v2,8,32
v3,1,1
""",
    )
    return d


def test_defaults_fill_absent_columns_and_tables(minimal_dir: Path) -> None:
    c = load_snapshot(minimal_dir)
    assert c.resources == ("cpu", "mem_gb", "net_gbps", "iops", "gpus")
    assert c.units == ("vCPU", "GB", "Gbit/s", "IO/s", "GPU")
    assert_same_arrays(c.hosts.capacity, np.array([[16, 64, 0, 0, 0], [8, 32, 0, 0, 0]], dtype=np.float64))
    assert_same_arrays(c.hosts.state, np.zeros(2, dtype=np.int8))
    assert_same_arrays(c.hosts.gpu_model, np.array([-1, -1], dtype=np.int32))
    assert_same_arrays(c.hosts.numa_nodes, np.ones(2, dtype=np.int32))
    assert c.host_types == ("default",)
    assert list(c.hosts.labels) == ["", ""]
    assert_same_arrays(
        c.vms.demand, np.array([[4, 8, 0, 0, 0], [8, 32, 0, 0, 0], [1, 1, 0, 0, 0]], dtype=float)
    )
    none = np.full(3, -1, dtype=np.int32)
    for name in ("current", "tenant", "gpu_model", "user_region", "anti_affinity", "affinity"):
        assert_same_arrays(getattr(c.vms, name), none, name)
    assert_same_arrays(c.vms.pricing, np.zeros(3, dtype=np.int8))
    assert_same_arrays(c.vms.migratable, np.ones(3, dtype=bool))
    assert_same_arrays(c.vms.priority, np.zeros(3, dtype=np.int32))
    assert (c.tenants, c.anti_affinity.names, c.affinity_groups, c.gpu_models) == ((), (), (), ())
    assert_same_arrays(c.anti_affinity.level, np.zeros(0, dtype=np.int8))
    assert_same_arrays(c.anti_affinity.max_per_domain, np.zeros(0, dtype=np.int32))
    # no regions / prices / power_curves tables
    assert_same_arrays(c.topology.latency_ms, np.zeros((1, 1)))
    assert c.meta["warnings"] == ["no regions table: latency objective is zero"]
    assert c.meta["time"] is None
    assert_same_arrays(c.prices.unit, np.zeros((2, 3, 5)))
    assert_same_arrays(c.prices.host_hourly, np.zeros(2))
    assert c.power.names == ("linear:100-300",)
    assert_same_arrays(c.hosts.power_curve, np.zeros(2, dtype=np.int32))


def test_vms_with_only_id_cpu_mem_host(snapshot_dir: Path, example_cluster: Cluster) -> None:
    vms = read_csv(snapshot_dir, "vms")[["id", "cpu", "mem_gb", "host"]]
    write_csv(snapshot_dir, "vms", vms)
    c = load_snapshot(snapshot_dir)
    assert_same_arrays(c.vms.current, example_cluster.vms.current)
    assert_same_arrays(c.vms.demand[:, :2], example_cluster.vms.demand[:, :2])
    assert not c.vms.demand[:, 2:].any()
    assert (c.tenants, c.anti_affinity.names, c.affinity_groups) == ((), (), ())
    assert set(c.vms.pricing.tolist()) == {Pricing.ON_DEMAND}
    assert c.vms.migratable.all() and not c.vms.priority.any()
    assert (c.vms.user_region == -1).all() and (c.vms.gpu_model == -1).all()
    # the host side is unchanged
    assert_same_arrays(c.hosts, example_cluster.hosts, "hosts")
    assert_same_arrays(c.topology, example_cluster.topology, "topology")


def test_cell_spellings(minimal_dir: Path) -> None:
    """Enums and booleans ignore case and surrounding blanks; numbers accept exponents; a
    missing optional cell takes the column default."""
    _write(
        minimal_dir / "hosts.csv",
        """
id,region,zone,rack,cpu,mem_gb,idle_watts,peak_watts,state,numa_nodes
a1,north,z1,k1,1.6e1,64,100,300, Maintenance ,
a2,north,z2,k2,8,32,100,300,OFF,4
""",
    )
    _write(
        minimal_dir / "vms.csv",
        """
id,cpu,mem_gb,migratable,pricing,spread_level,anti_affinity_group,max_per_domain
v1,4,8,No,SPOT,Zone,g,2
v2,8,32,yes,,zone,g,2
v3,1,1,,Reserved,,,
v4,1,1,0,on_demand,,,
v5,1,1,T,on_demand,,,
""",
    )
    c = load_snapshot(minimal_dir)
    assert list(c.hosts.capacity[:, 0]) == [16, 8]
    assert_same_arrays(c.hosts.state, np.array([HostState.MAINTENANCE, HostState.OFF], dtype=np.int8))
    assert_same_arrays(c.hosts.numa_nodes, np.array([1, 4], dtype=np.int32))
    assert_same_arrays(c.vms.migratable, np.array([False, True, True, False, True]))
    assert_same_arrays(c.vms.pricing, np.array([SP, OD, RE, OD, OD], dtype=np.int8))
    assert_same_arrays(c.anti_affinity.level, np.array([SpreadLevel.ZONE], dtype=np.int8))
    assert_same_arrays(c.anti_affinity.max_per_domain, np.array([2], dtype=np.int32))


def test_latency_both_directions_and_user_only_region(snapshot_dir: Path) -> None:
    """An explicit reverse pair wins over mirroring; a region that only users are in is a
    valid region (it has latency pairs to every host region)."""
    add_row(snapshot_dir, "regions", src="eu-west", dst="us-east", latency_ms="80")
    add_row(snapshot_dir, "regions", src="ap-south", dst="us-east", latency_ms="210")
    add_row(snapshot_dir, "regions", src="ap-south", dst="eu-west", latency_ms="140")
    set_cell(snapshot_dir, "vms", "new-1", "user_region", "ap-south")
    c = load_snapshot(snapshot_dir)
    assert c.topology.regions == ("ap-south", "eu-west", "us-east")
    # only ap-south -> host regions are given; host regions -> ap-south are mirrored
    assert_same_arrays(
        c.topology.latency_ms, np.array([[0, 140, 210], [140, 0, 80], [210, 76, 0]], dtype=float)
    )
    assert c.vms.user_region[VM_IDS.index("new-1")] == 0


def test_host_type_prices_override_wildcard(snapshot_dir: Path) -> None:
    add_row(snapshot_dir, "prices", 11, item="host:std-64", on_demand="0.5")
    c = load_snapshot(snapshot_dir)
    # us-east/a holds h01..h05, all std-64; the other zones keep the host:* rate
    assert list(c.prices.host_hourly) == [0.5] * 5 + [0.30] * 3 + [0.42] * 6


def test_cluster_from_tables_in_memory(example_cluster: Cluster) -> None:
    """The same validation runs on DataFrames; issues name the tables, and a collector
    passed in receives them (even when it starts empty)."""
    manifest = SnapshotManifest.model_validate({"resources": [{"name": "local_ssd_gb", "unit": "GB"}]})
    frames = {name: pd.read_csv(EXAMPLE / f"{name}.csv") for name in ("hosts", "vms", "regions", "prices")}
    frames["power_curves"] = pd.read_csv(EXAMPLE / "power_curves.csv")
    c = cluster_from_tables(SnapshotTables(manifest, **frames))
    assert_same_arrays(c.hosts, example_cluster.hosts, "hosts")
    assert_same_arrays(c.vms, example_cluster.vms, "vms")
    assert c.meta["source"] == "<memory>" and c.meta["time"] is None

    frames["vms"].loc[0, "host"] = "h99"
    issues = IssueCollector()
    with pytest.raises(SnapshotError) as info:
        cluster_from_tables(SnapshotTables(manifest, **frames), issues=issues)
    assert [str(i) for i in info.value.issues] == [
        "vms row 1 (id web-1) column host: VM is on unknown host 'h99'"
    ]
    assert issues.issues == info.value.issues
