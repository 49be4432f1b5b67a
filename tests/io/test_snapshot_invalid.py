"""A corpus of invalid snapshots.

Each case copies examples/small, applies one mutation and checks that loading raises a
SnapshotError holding an Issue at exactly (file basename, 1-based data row, row id, column)
whose reason contains the expected text. ``count`` is the total number of issues expected
(``None`` where one mistake knowingly causes follow-on issues).

Row numbers refer to examples/small: hosts h01..h14 are rows 1..14; in vms.csv web-1 is
row 1, db-1 4, db-3 6, cache-1 7, app-1 8, batch-1 9, train-1 13, train-2 14, infer-1 15,
api-1 16, api-3 18, new-1 29, new-2 30; prices.csv row 1 is (us-east, a, cpu) and row 12
(us-east, a, host:*).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from snapshot_helpers import (
    add_column,
    add_row,
    drop_column,
    edit_text,
    find_issue,
    load_error,
    read_csv,
    rename_column,
    set_cell,
    set_cells,
    where,
)


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Callable[[Path], object]
    file: str
    row: int | None
    row_id: str | None
    column: str | None
    reason: str
    count: int | None = 1


def _yaml(snap: Path) -> Path:
    return snap / "snapshot.yaml"


def _append_yaml(text: str) -> Callable[[Path], None]:
    return lambda s: _yaml(s).write_text(_yaml(s).read_text() + text)


def _declare_resource(name: str) -> Callable[[Path], None]:
    return lambda s: edit_text(_yaml(s), "metadata:", f"  - name: {name}\nmetadata:")


def _spread_too_wide(snap: Path) -> None:
    """initech-api: 5 members, zone spread, 1 per zone, but only 4 zones."""
    set_cells(snap, "vms", ["api-1", "api-2", "api-3", "api-4"], "max_per_domain", "1")
    add_row(snap, "vms", "api-4", id="api-5")


def _both_formats(snap: Path) -> None:
    read_csv(snap, "hosts").to_parquet(snap / "hosts.parquet")


def _junk_parquet(snap: Path) -> None:
    (snap / "prices.csv").unlink()
    (snap / "prices.parquet").write_bytes(b"not a parquet file")


def _every_row_one_field_longer(snap: Path) -> None:
    # pandas would take the first field as the index and shift every column left by one
    (snap / "regions.csv").write_text("src,dst,latency_ms\nus-east,eu-west,76,9\n")


# fmt: off
HOSTS = [
    Case("non-numeric", lambda s: set_cell(s, "hosts", "h03", "cpu", "abc"),
         "hosts.csv", 3, "h03", "cpu", "not a number: 'abc'"),
    Case("negative", lambda s: set_cell(s, "hosts", "h04", "mem_gb", "-512"),
         "hosts.csv", 4, "h04", "mem_gb", "negative: -512"),
    Case("literal-nan", lambda s: set_cell(s, "hosts", "h03", "cpu", "NaN"),
         "hosts.csv", 3, "h03", "cpu", "NaN is not a value"),
    Case("infinite", lambda s: set_cell(s, "hosts", "h03", "iops", "inf"),
         "hosts.csv", 3, "h03", "iops", "not finite"),
    Case("non-integer-int", lambda s: set_cell(s, "hosts", "h03", "numa_nodes", "1.5"),
         "hosts.csv", 3, "h03", "numa_nodes", "not an integer: 1.5"),
    Case("below-minimum", lambda s: set_cell(s, "hosts", "h03", "numa_nodes", "0"),
         "hosts.csv", 3, "h03", "numa_nodes", "below the minimum 1: 0"),
    Case("bad-state", lambda s: set_cell(s, "hosts", "h03", "state", "broken"),
         "hosts.csv", 3, "h03", "state", "unknown value 'broken'; allowed: active, maintenance, failed, off"),
    Case("duplicate-id", lambda s: add_row(s, "hosts", "h14", id="h01"),
         "hosts.csv", 15, "h01", "id", "duplicate id 'h01' (first seen in row 1)"),
    Case("missing-id", lambda s: set_cell(s, "hosts", "h14", "id", ""),
         "hosts.csv", 14, None, "id", "missing value"),
    Case("missing-required-value", lambda s: set_cell(s, "hosts", "h05", "region", ""),
         "hosts.csv", 5, "h05", "region", "missing value"),
    Case("missing-required-column", lambda s: drop_column(s, "hosts", "rack"),
         "hosts.csv", None, None, "rack", "required column is missing"),
    Case("unknown-column", lambda s: rename_column(s, "hosts", "labels", "label"),
         "hosts.csv", None, None, "label", "unknown column 'label'; did you mean 'labels'?"),
    # a declared extra resource is required in hosts.csv; its capacity then reads as 0, so
    # every VM that needs local SSD is also reported as too large
    Case("missing-declared-resource", lambda s: drop_column(s, "hosts", "local_ssd_gb"),
         "hosts.csv", None, None, "local_ssd_gb", "required column is missing", count=None),
    Case("gpu-model-without-gpus", lambda s: set_cell(s, "hosts", "h01", "gpu_model", "A100"),
         "hosts.csv", 1, "h01", "gpu_model", "gpu_model is set but the host has no gpus"),
    Case("idle-above-peak", lambda s: set_cell(s, "hosts", "h09", "idle_watts", "600"),
         "hosts.csv", 9, "h09", "peak_watts", "peak_watts 540 is below idle_watts 600"),
    Case("unknown-power-curve", lambda s: set_cell(s, "hosts", "h06", "power_curve", "dense-128"),
         "hosts.csv", 6, "h06", "power_curve", "unknown power curve 'dense-128'"),
    Case("no-power-curves-table", lambda s: (s / "power_curves.csv").unlink(),
         "hosts.csv", 7, "h07", "power_curve", "unknown power curve 'dense-96' (no power_curves table)",
         count=2),
    Case("no-power-model", lambda s: set_cell(s, "hosts", "h01", "peak_watts", ""),
         "hosts.csv", 1, "h01", "idle_watts",
         "no power model: give idle_watts and peak_watts, or power_curve"),
]

VMS = [
    Case("unknown-host", lambda s: set_cell(s, "vms", "web-1", "host", "h99"),
         "vms.csv", 1, "web-1", "host", "VM is on unknown host 'h99'"),
    Case("larger-than-every-host", lambda s: set_cell(s, "vms", "batch-1", "mem_gb", "1024"),
         "vms.csv", 9, "batch-1", None, "VM is larger than every compatible host: mem_gb 1024 > largest 768"),
    Case("no-host-has-every-resource",
         lambda s: (set_cell(s, "vms", "train-2", "cpu", "96"), set_cell(s, "vms", "train-2", "gpus", "1")),
         "vms.csv", 14, "train-2", None, "no single host has all of cpu >= 96, mem_gb >= 64, net_gbps >= 10, "
         "iops >= 10000, gpus >= 1, local_ssd_gb >= 500"),
    Case("larger-than-every-gpu-host", lambda s: set_cell(s, "vms", "train-1", "gpus", "16"),
         "vms.csv", 13, "train-1", None,
         "VM is larger than every compatible host with GPU model 'A100': gpus 16 > largest 8"),
    # h13 is the only T4 host; a failed host does not count
    Case("only-compatible-host-failed", lambda s: set_cell(s, "hosts", "h13", "state", "failed"),
         "vms.csv", 15, "infer-1", "gpu_model", "no non-failed host with GPU model 'T4' exists"),
    Case("unknown-gpu-model", lambda s: set_cell(s, "vms", "infer-1", "gpu_model", "H100"),
         "vms.csv", 15, "infer-1", "gpu_model", "no host has GPU model 'H100' (hosts have ['A100', 'T4'])"),
    Case("bad-pricing", lambda s: set_cell(s, "vms", "batch-1", "pricing", "preemptible"),
         "vms.csv", 9, "batch-1", "pricing",
         "unknown value 'preemptible'; allowed: on_demand, spot, reserved"),
    Case("bad-spread-level", lambda s: set_cell(s, "vms", "web-1", "spread_level", "region"),
         "vms.csv", 1, "web-1", "spread_level", "unknown value 'region'; allowed: host, rack, zone"),
    Case("bad-boolean", lambda s: set_cell(s, "vms", "db-3", "migratable", "maybe"),
         "vms.csv", 6, "db-3", "migratable", "not a boolean: 'maybe' (use true/false)"),
    Case("non-integer-priority", lambda s: set_cell(s, "vms", "db-3", "priority", "1.5"),
         "vms.csv", 6, "db-3", "priority", "not an integer: 1.5"),
    Case("max-per-domain-zero", lambda s: set_cell(s, "vms", "new-1", "max_per_domain", "0"),
         "vms.csv", 29, "new-1", "max_per_domain", "below the minimum 1: 0"),
    Case("negative-demand", lambda s: set_cell(s, "vms", "new-2", "cpu", "-2"),
         "vms.csv", 30, "new-2", "cpu", "negative: -2"),
    Case("nan-demand", lambda s: set_cell(s, "vms", "new-2", "local_ssd_gb", "nan"),
         "vms.csv", 30, "new-2", "local_ssd_gb", "NaN is not a value"),
    Case("non-numeric-demand", lambda s: set_cell(s, "vms", "new-2", "mem_gb", "8GB"),
         "vms.csv", 30, "new-2", "mem_gb", "not a number: '8GB'"),
    Case("duplicate-id", lambda s: add_row(s, "vms", "new-2", id="new-1"),
         "vms.csv", 31, "new-1", "id", "duplicate id 'new-1' (first seen in row 29)"),
    Case("missing-id", lambda s: set_cell(s, "vms", "new-2", "id", ""),
         "vms.csv", 30, None, "id", "missing value"),
    Case("missing-required-column", lambda s: drop_column(s, "vms", "cpu"),
         "vms.csv", None, None, "cpu", "required column is missing"),
    Case("unknown-column", lambda s: add_column(s, "vms", "colour", "red"),
         "vms.csv", None, None, "colour", "unknown column 'colour'"),
    Case("inconsistent-spread-level", lambda s: set_cell(s, "vms", "db-2", "spread_level", "zone"),
         "vms.csv", 5, "db-2", "spread_level", "group 'acme-db' has rack in row 4; all members must agree"),
    Case("inconsistent-max-per-domain", lambda s: set_cell(s, "vms", "api-3", "max_per_domain", "3"),
         "vms.csv", 18, "api-3", "max_per_domain",
         "group 'initech-api' has 2 in row 16; all members must agree"),
    # cache-1 and app-1 share affinity group app-pair (one host) and now also acme-web (1 per host)
    Case("contradictory-groups",
         lambda s: set_cells(s, "vms", ["cache-1", "app-1"], "anti_affinity_group", "acme-web"),
         "vms.csv", 8, "app-1", "affinity_group",
         "contradictory groups: affinity group 'app-pair' requires it on one host with cache-1, "
         "but anti-affinity group 'acme-web' allows 1 per domain", count=2),
    Case("spread-impossible", _spread_too_wide,
         "vms.csv", None, None, "anti_affinity_group",
         "anti-affinity group 'initech-api' has 5 members but only 4 zone domains at 1 per domain"),
    # app-pair = cache-1 (2 cpu) + app-1: 2 + 95 = 97 cpu > 96 on the largest host
    Case("affinity-group-too-large", lambda s: set_cell(s, "vms", "app-1", "cpu", "95"),
         "vms.csv", 7, "cache-1", "affinity_group",
         "affinity group 'app-pair' needs cpu 97, mem_gb 36, net_gbps 2, iops 2000, local_ssd_gb 50 "
         "on one host; no host is that large"),
]

REGIONS = [
    Case("unknown-src-region",
         lambda s: add_row(s, "regions", src="ap-south", dst="us-east", latency_ms="200"),
         "regions.csv", 2, None, "src", "unknown region 'ap-south': no host is in it and no VM's users are"),
    Case("unknown-dst-region", lambda s: add_row(s, "regions", src="us-east", dst="mars", latency_ms="9"),
         "regions.csv", 2, None, "dst", "unknown region 'mars'"),
    Case("missing-user-region-pair", lambda s: set_cell(s, "vms", "new-1", "user_region", "ap-south"),
         "regions.csv", None, None, None, "no latency for user region 'ap-south' -> host region 'us-east'",
         count=2),
    Case("negative-latency", lambda s: set_cell(s, "regions", 0, "latency_ms", "-5"),
         "regions.csv", 1, None, "latency_ms", "negative: -5"),
    Case("missing-latency", lambda s: set_cell(s, "regions", 0, "latency_ms", ""),
         "regions.csv", 1, None, "latency_ms", "missing value", count=None),
    Case("conflicting-pair", lambda s: add_row(s, "regions", 0, latency_ms="80"),
         "regions.csv", 2, None, "latency_ms",
         "pair (us-east, eu-west) given twice with different values (row 1: 76)"),
    Case("rows-longer-than-header", _every_row_one_field_longer,
         "regions.csv", None, None, None, "data rows have more fields than the header"),
    Case("empty-file", lambda s: (s / "regions.csv").write_text(""),
         "regions.csv", None, None, None, "cannot be read: EmptyDataError"),
]

PRICES = [
    Case("duplicate-row", lambda s: add_row(s, "prices", 0, on_demand="0.05"),
         "prices.csv", 16, None, "item", "(us-east/a, cpu) already priced in row 1"),
    Case("unknown-zone", lambda s: add_row(s, "prices", 0, zone="c"),
         "prices.csv", 16, None, "zone", "unknown zone 'us-east/c': no host is in it"),
    Case("unknown-item", lambda s: add_row(s, "prices", 0, item="disk"),
         "prices.csv", 16, None, "item",
         "unknown item 'disk': use a resource (cpu, mem_gb, net_gbps, iops, gpus, local_ssd_gb) "
         "or host:<type> / host:*"),
    Case("unknown-host-type", lambda s: add_row(s, "prices", 11, item="host:big"),
         "prices.csv", 16, None, "item",
         "unknown host type 'big'; hosts have ['dense-96', 'gpu-a100', 'gpu-t4', 'std-64']"),
    Case("host-item-with-spot", lambda s: set_cell(s, "prices", 11, "spot", "0.1"),
         "prices.csv", 12, None, "spot", "host items take only on_demand"),
    Case("host-item-without-price", lambda s: set_cell(s, "prices", 11, "on_demand", ""),
         "prices.csv", 12, None, "on_demand", "missing value"),
    Case("resource-missing-class", lambda s: set_cell(s, "prices", 0, "reserved", ""),
         "prices.csv", 1, None, "reserved", "missing value"),
    Case("negative-price", lambda s: set_cell(s, "prices", 1, "spot", "-0.1"),
         "prices.csv", 2, None, "spot", "negative: -0.1"),
    Case("missing-required-column", lambda s: drop_column(s, "prices", "item"),
         "prices.csv", None, None, "item", "required column is missing", count=None),
]

POWER = [
    Case("decreasing-curve", lambda s: set_cell(s, "power_curves", "dense-96", "p50", "100"),
         "power_curves.csv", 1, "dense-96", None, "power must not decrease as load rises"),
    Case("missing-point-column", lambda s: drop_column(s, "power_curves", "p100"),
         "power_curves.csv", None, None, "p100", "required column is missing"),
    Case("duplicate-name", lambda s: add_row(s, "power_curves", "dense-96"),
         "power_curves.csv", 2, "dense-96", "name", "duplicate id 'dense-96' (first seen in row 1)"),
    Case("negative-watts", lambda s: set_cell(s, "power_curves", "dense-96", "p0", "-1"),
         "power_curves.csv", 1, "dense-96", "p0", "negative: -1"),
]

TABLES = [
    Case("csv-and-parquet", _both_formats,
         "hosts.parquet", None, None, None, "both hosts.parquet and hosts.csv exist; keep one"),
    Case("missing-vms", lambda s: (s / "vms.csv").unlink(),
         "vms.csv", None, None, None, "required table 'vms' (.csv or .parquet) is missing"),
    Case("missing-hosts", lambda s: (s / "hosts.csv").unlink(),
         "hosts.csv", None, None, None, "required table 'hosts' (.csv or .parquet) is missing"),
    Case("unreadable-parquet", _junk_parquet,
         "prices.parquet", None, None, None, "cannot be read: ArrowInvalid"),
]

# A rejected snapshot.yaml falls back to the standard resources only, so the declared
# local_ssd_gb columns are then also reported as unknown in hosts.csv and vms.csv.
MANIFEST = [
    Case("unknown-key", _append_yaml("colour: red\n"),
         "snapshot.yaml", None, None, "colour", "Extra inputs are not permitted", count=None),
    Case("bad-version", lambda s: edit_text(_yaml(s), "version: 1", "version: 2"),
         "snapshot.yaml", None, None, "version", "unsupported snapshot version 2", count=None),
    Case("bad-resource-name", lambda s: edit_text(_yaml(s), "name: local_ssd_gb", "name: Local-SSD"),
         "snapshot.yaml", None, None, "resources.0.name", "must be lower-case letters, digits and '_'",
         count=None),
    Case("reserved-resource-name", lambda s: edit_text(_yaml(s), "name: local_ssd_gb", "name: host"),
         "snapshot.yaml", None, None, "resources.0.name", "'host' is a reserved column name", count=None),
    Case("unknown-resource-key", lambda s: edit_text(_yaml(s), "unit: GB", "unit: GB\n    size: 3"),
         "snapshot.yaml", None, None, "resources.0.size", "Extra inputs are not permitted", count=None),
    Case("resource-declared-twice", _declare_resource("local_ssd_gb"),
         "snapshot.yaml", None, None, "resources", "resource 'local_ssd_gb' declared twice"),
    Case("standard-resource-declared", _declare_resource("cpu"),
         "snapshot.yaml", None, None, "resources", "'cpu' is a standard resource; declare only extra ones"),
    Case("unit-of-unknown-resource", _append_yaml("units:\n  disk: GB\n"),
         "snapshot.yaml", None, None, "units.disk", "units given for an unknown standard resource"),
    Case("bad-time", lambda s: edit_text(_yaml(s), '"2026-11-01T02:00:00Z"', "yesterday"),
         "snapshot.yaml", None, None, "time", "valid datetime", count=None),
    Case("invalid-yaml", lambda s: _yaml(s).write_text("version: [1\n"),
         "snapshot.yaml", None, None, None, "not valid YAML", count=None),
    Case("not-a-mapping", lambda s: _yaml(s).write_text("- 1\n- 2\n"),
         "snapshot.yaml", None, None, None, "must be a mapping of keys to values", count=None),
    Case("missing", lambda s: _yaml(s).unlink(),
         "snapshot.yaml", None, None, None, "snapshot.yaml is missing", count=None),
]
# fmt: on


def _params(prefix: str, cases: list[Case]) -> list:
    return [pytest.param(c, id=f"{prefix}-{c.id}") for c in cases]


CORPUS = (
    _params("hosts", HOSTS)
    + _params("vms", VMS)
    + _params("regions", REGIONS)
    + _params("prices", PRICES)
    + _params("power", POWER)
    + _params("tables", TABLES)
    + _params("manifest", MANIFEST)
)


@pytest.mark.parametrize("case", CORPUS)
def test_invalid_snapshot_is_reported(case: Case, snapshot_dir: Path) -> None:
    case.mutate(snapshot_dir)
    err = load_error(snapshot_dir)
    find_issue(err.issues, case.file, case.row, case.row_id, case.column, case.reason)
    if case.count is not None:
        assert len(err.issues) == case.count, [str(i) for i in err.issues]


def test_manifest_error_does_not_flag_extra_resource_columns(snapshot_dir: Path) -> None:
    """A rejected snapshot.yaml hides the declared resources, so their columns are not
    reported as unknown (that would be follow-on noise): only the manifest problem is."""
    edit_text(_yaml(snapshot_dir), "version: 1", "version: 2")
    err = load_error(snapshot_dir)
    assert [where(i) for i in err.issues] == [("snapshot.yaml", None, None, "version")]


def test_missing_snapshot_directory(tmp_path: Path) -> None:
    err = load_error(tmp_path / "nowhere")
    assert [(where(i), i.reason) for i in err.issues] == [
        (("nowhere", None, None, None), "snapshot directory does not exist")
    ]


# --- every problem at once -----------------------------------------------------------------

# fmt: off
MANY = [
    # (mutation, expected issue: file, row, row_id, column, reason substring)
    (lambda s: set_cell(s, "hosts", "h03", "cpu", "abc"), ("hosts.csv", 3, "h03", "cpu", "not a number")),
    (lambda s: set_cell(s, "hosts", "h11", "state", "sleeping"),
     ("hosts.csv", 11, "h11", "state", "unknown value")),
    (lambda s: set_cell(s, "hosts", "h09", "idle_watts", "600"),
     ("hosts.csv", 9, "h09", "peak_watts", "below idle")),
    (lambda s: set_cell(s, "hosts", "h02", "gpu_model", "T4"),
     ("hosts.csv", 2, "h02", "gpu_model", "no gpus")),
    (lambda s: set_cell(s, "vms", "web-1", "host", "h99"),
     ("vms.csv", 1, "web-1", "host", "unknown host 'h99'")),
    (lambda s: set_cell(s, "vms", "batch-1", "mem_gb", "1024"),
     ("vms.csv", 9, "batch-1", None, "mem_gb 1024")),
    (lambda s: set_cell(s, "vms", "infer-1", "gpu_model", "H100"),
     ("vms.csv", 15, "infer-1", "gpu_model", "H100")),
    (lambda s: set_cell(s, "vms", "ci-1", "migratable", "perhaps"),
     ("vms.csv", 20, "ci-1", "migratable", "boolean")),
    (lambda s: set_cell(s, "vms", "db-2", "spread_level", "zone"),
     ("vms.csv", 5, "db-2", "spread_level", "agree")),
    (lambda s: set_cell(s, "vms", "ci-2", "priority", "x"),
     ("vms.csv", 21, "ci-2", "priority", "not a number")),
    (lambda s: add_row(s, "vms", "new-2", id="new-1"), ("vms.csv", 31, "new-1", "id", "duplicate id")),
    (lambda s: add_row(s, "regions", src="mars", dst="us-east", latency_ms="1"),
     ("regions.csv", 2, None, "src", "unknown region 'mars'")),
    (lambda s: add_row(s, "prices", 0, item="disk"), ("prices.csv", 16, None, "item", "unknown item 'disk'")),
    (lambda s: set_cell(s, "power_curves", "dense-96", "p90", "1"),
     ("power_curves.csv", 1, "dense-96", None, "must not decrease")),
    (_append_yaml("units:\n  disk: GB\n"), ("snapshot.yaml", None, None, "units.disk", "unknown standard")),
]
# fmt: on


def test_every_problem_is_reported_in_one_error(snapshot_dir: Path) -> None:
    for mutate, _ in MANY:
        mutate(snapshot_dir)
    err = load_error(snapshot_dir)
    for _, expected in MANY:
        find_issue(err.issues, *expected)
    assert len(err.issues) == len(MANY), [str(i) for i in err.issues]
    head, *lines = str(err).splitlines()
    assert head.startswith(f"{len(MANY)} problem(s) (")
    per_file = {"snapshot.yaml": 1, "hosts.csv": 4, "vms.csv": 7, "regions.csv": 1, "prices.csv": 1}
    per_file["power_curves.csv"] = 1
    for name, n in per_file.items():
        assert f"{n} in {snapshot_dir / name}" in head
    assert len(lines) == len(MANY)
    assert f"  {snapshot_dir / 'hosts.csv'} row 3 (id h03) column cpu: not a number: 'abc'" in lines


def test_every_row_of_a_bad_column_is_reported(snapshot_dir: Path) -> None:
    df = read_csv(snapshot_dir, "vms")
    df["priority"] = [f"p{i}" if i % 10 == 0 else "1" for i in range(len(df))]
    df.to_csv(snapshot_dir / "vms.csv", index=False)
    err = load_error(snapshot_dir)
    assert [(i.row, i.row_id, i.column, i.reason) for i in err.issues] == [
        (1, "web-1", "priority", "not a number: 'p0'"),
        (11, "batch-3", "priority", "not a number: 'p10'"),
        (21, "ci-2", "priority", "not a number: 'p20'"),
    ]


def test_parquet_problems_name_the_parquet_file(snapshot_dir: Path) -> None:
    vms = pd.read_csv(snapshot_dir / "vms.csv", dtype=str, keep_default_na=False)
    vms.loc[vms["id"] == "web-2", "host"] = "h77"
    vms.to_parquet(snapshot_dir / "vms.parquet")
    (snapshot_dir / "vms.csv").unlink()
    err = load_error(snapshot_dir)
    find_issue(err.issues, "vms.parquet", 2, "web-2", "host", "VM is on unknown host 'h77'")
    assert len(err.issues) == 1


def test_missing_capacity_column_is_one_problem_not_one_per_vm(snapshot_dir: Path) -> None:
    """Without a capacity column every VM would look too large; only the cause is reported."""
    drop_column(snapshot_dir, "hosts", "local_ssd_gb")
    err = load_error(snapshot_dir)
    assert [(where(i), i.reason) for i in err.issues] == [
        (("hosts.csv", None, None, "local_ssd_gb"), "required column is missing")
    ]
