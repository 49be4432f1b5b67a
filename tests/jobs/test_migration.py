"""The migration-planning job from a config: rack and zone drains (complete, and blocked by
pinned VMs), and planning to a given target assignment."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from cluster_opt.io import load_snapshot, read_assignment, write_assignment
from cluster_opt.model import Cluster
from tests.jobs.conftest import CONFIGS, OUTPUTS, cli


@pytest.fixture(scope="module")
def cluster(snapshot) -> Cluster:
    return load_snapshot(snapshot)


def vms_on(c: Cluster, codes: np.ndarray, code: int) -> np.ndarray:
    """VMs placed on hosts whose rack/zone code is ``code``."""
    x = c.vms.current
    return np.flatnonzero((x >= 0) & (codes[np.maximum(x, 0)] == code))


def migrate(tmp_path: Path, snapshot: Path, request: dict, name: str = "job") -> tuple[int, Path, dict]:
    """Write a migration config, run ``cluster-opt migrate``; (exit code, out, plan.json)."""
    config = tmp_path / f"{name}.yaml"
    config.write_text(yaml.safe_dump({"seed": 1, **request}))
    out = tmp_path / name
    result = cli("migrate", "--config", config, "--snapshot", snapshot, "--out", out)
    assert result.code in (0, 3), result.err
    assert all((out / f).is_file() for f in OUTPUTS)
    assert cli("check-plan", snapshot, out).code == 0  # the safe part of a partial plan too
    return result.code, out, json.loads((out / "plan.json").read_text())


def test_rack_drain_completes(snapshot, cluster, tmp_path):
    c = cluster
    racks = [r for r in range(len(c.topology.racks)) if len(vms_on(c, c.hosts.rack, r))]
    rack = next(r for r in racks if c.vms.migratable[vms_on(c, c.hosts.rack, r)].all())
    on_rack = vms_on(c, c.hosts.rack, rack)
    code, out, plan = migrate(tmp_path, snapshot, {"drain": {"rack": c.topology.racks[rack]}})
    assert code == 0
    drain = plan["drain"]
    assert drain["complete"] and drain["blocking_vms"] == [] and drain["left_on_drained_hosts"] == 0
    assert sorted(drain["hosts"]) == sorted(c.hosts.ids[c.hosts.rack == rack].astype(str).tolist())
    final = read_assignment(out / "assignment.csv", c)
    assert not np.isin(final, np.flatnonzero(c.hosts.rack == rack)).any()
    moved = pd.read_parquet(out / "plan.parquet")["vm"]
    assert set(moved) == set(c.vms.ids[on_rack].astype(str))  # only the VMs on the rack move
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["job"] == "plan" and manifest["config"]["drain"]["rack"] == c.topology.racks[rack]


def test_zone_with_pinned_vms_cannot_drain(snapshot, cluster, tmp_path):
    c = cluster
    zone = next(
        z for z in range(len(c.topology.zones)) if (~c.vms.migratable[vms_on(c, c.hosts.zone, z)]).any()
    )
    on_zone = vms_on(c, c.hosts.zone, zone)
    pinned = set(c.vms.ids[on_zone[~c.vms.migratable[on_zone]]].astype(str))
    code, out, plan = migrate(tmp_path, snapshot, {"drain": {"zone": c.topology.zones[zone]}})
    assert code == 3
    drain = plan["drain"]
    assert not drain["complete"] and drain["left_on_drained_hosts"] >= len(pinned)
    blocking = {b["vm"]: b["reason"] for b in drain["blocking_vms"]}
    assert pinned <= set(blocking)
    assert all(blocking[vm] == "VM is not migratable" for vm in pinned)
    assert all(b["host"] in set(drain["hosts"]) and b["reason"] for b in drain["blocking_vms"])
    assert drain["explanation"], "a partial drain says what blocks it"
    final = read_assignment(out / "assignment.csv", c)
    assert np.array_equal(
        final[[c.vm_index[vm] for vm in pinned]], c.vms.current[[c.vm_index[vm] for vm in pinned]]
    )


def test_shipped_migration_config(snapshot, tmp_path):
    out = tmp_path / "out"
    result = cli("migrate", "--config", CONFIGS / "migration.yaml", "--snapshot", snapshot, "--out", out)
    assert result.code in (0, 3), result.err
    assert f"report: {(out / 'report.html').resolve()}" in result.out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["profile"] == str(CONFIGS / "profiles" / "balanced.yaml")
    assert json.loads((out / "plan.json").read_text())["drain"]["complete"] == (result.code == 0)
    assert cli("check-plan", snapshot, out).code == 0


def test_target_mode_plans_to_the_given_assignment(snapshot, cluster, nightly_run, tmp_path):
    _, nightly_out = nightly_run
    target = nightly_out / "assignment.csv"
    code, out, plan = migrate(tmp_path, snapshot, {"target": str(target)})
    assert code == 0 and plan["drain"] is None
    assert np.array_equal(read_assignment(out / "assignment.csv", cluster), read_assignment(target, cluster))
    assert plan["summary"]["complete"] and plan["summary"]["moves"] > 0


def test_target_equal_to_the_current_placement_is_an_empty_plan(snapshot, cluster, tmp_path):
    target = tmp_path / "current.csv"
    write_assignment(target, cluster, cluster.current_assignment())
    code, out, plan = migrate(tmp_path, snapshot, {"target": str(target)})
    assert code == 0 and plan["summary"]["moves"] == 0 and plan["moves"] == []
    samples = {
        s.name: s.value
        for f in text_string_to_metric_families((out / "metrics.prom").read_text())
        for s in f.samples
    }
    assert samples["cluster_opt_plan_migrations"] == 0 and samples["cluster_opt_plan_waves"] == 0


def test_unknown_rack_is_exit_1_and_writes_nothing(snapshot, tmp_path):
    config = tmp_path / "job.yaml"
    config.write_text("drain: {rack: no-such-rack}\n")
    result = cli("migrate", "--config", config, "--snapshot", snapshot, "--out", tmp_path / "out")
    assert result.code == 1 and "no-such-rack" in result.err
    assert not (tmp_path / "out").exists()


def test_existing_out_is_refused(snapshot, tmp_path):
    (tmp_path / "out").mkdir()
    config = tmp_path / "job.yaml"
    config.write_text("drain: {zone: a}\n")
    result = cli("migrate", "--config", config, "--snapshot", snapshot, "--out", tmp_path / "out")
    assert result.code == 1 and "exists; choose another --out or pass --force" in result.err
    assert list((tmp_path / "out").iterdir()) == []


def test_drain_refined_on_the_engine(snapshot, cluster, tmp_path):
    """With a solver section the drain's minimal-move target is improved on the engine with
    the drained hosts closed; the plan still empties them and passes the validator."""
    c = cluster
    racks = [r for r in range(len(c.topology.racks)) if len(vms_on(c, c.hosts.rack, r))]
    rack = next(r for r in racks if c.vms.migratable[vms_on(c, c.hosts.rack, r)].all())
    request = {
        "drain": {"rack": c.topology.racks[rack]},
        "solver": {"algo": "engine", "time_s": 4, "engine": {"islands": 2}},
    }
    code, out, plan = migrate(tmp_path, snapshot, request)
    assert code == 0 and plan["drain"]["complete"]
    refined = plan["drain"]["refined"]
    assert refined["minimal_moves"] > 0 and isinstance(refined["kept"], bool)
    if refined["kept"]:
        assert refined["refined_score"] < refined["minimal_score"]
    final = read_assignment(out / "assignment.csv", c)
    assert not np.isin(final, np.flatnonzero(c.hosts.rack == rack)).any()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["solver"]["algo"] == "engine"
