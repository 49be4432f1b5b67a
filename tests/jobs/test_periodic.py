"""Periodic mode: re-optimise the newest snapshot of a folder, warm-started from the last
kept plan; keep a run (in a folder named by its UTC time) only when it gains enough."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from cluster_opt.io import load_snapshot
from cluster_opt.jobs import nightly
from cluster_opt.jobs.config import NightlyConfig, PeriodicConfig, SolverConfig
from tests.jobs.conftest import OUTPUTS, cli, make_snapshot

STAMP = re.compile(r"\d{8}T\d{6}Z")


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory) -> Path:
    """A folder of two snapshot directories, ``old`` and ``new`` (newest by mtime), and a
    stray folder that is not a snapshot."""
    folder = tmp_path_factory.mktemp("incoming")
    for seed, name in ((1, "old"), (2, "new")):
        make_snapshot(folder / name, hosts=30, vms=200, seed=seed)
    (folder / "notes").mkdir()
    touch(folder / "old", 1_000_000)
    touch(folder / "new", 2_000_000)
    return folder


def touch(snapshot: Path, mtime: float) -> None:
    os.utime(snapshot / "snapshot.yaml", (mtime, mtime))


@pytest.fixture
def calls(monkeypatch) -> list[dict]:
    """Every run_nightly call of run_periodic: its config, its warm start and its result."""
    seen: list[dict] = []
    real = nightly.run_nightly

    def spy(config, out, **kwargs):
        result = real(config, out, **kwargs)
        seen.append({"config": config, "warm": kwargs.get("warm"), "result": result})
        return result

    monkeypatch.setattr(nightly, "run_nightly", spy)
    return seen


def periodic(snapshots: Path, min_benefit: float) -> NightlyConfig:
    return NightlyConfig(
        seed=3,
        solver=SolverConfig(algo="anneal", time_s=1),
        periodic=PeriodicConfig(every=0.01, snapshots=snapshots, min_benefit=min_benefit, max_runs=2),
    )


def check_folders(root: Path, kept: list[nightly.NightlyResult]) -> None:
    """Only the kept runs are left, each named by a UTC time of this run and complete."""
    assert sorted(p.name for p in root.iterdir()) == sorted(r.out.name for r in kept)
    now = datetime.now(UTC)
    for r in kept:
        assert STAMP.fullmatch(r.out.name) and r.out.parent == root
        when = datetime.strptime(r.out.name, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        assert now - timedelta(hours=1) < when <= now
        assert all((r.out / name).is_file() for name in OUTPUTS)


def test_second_run_is_warm_started_and_dropped_when_it_does_not_pay(snapshots, calls, tmp_path):
    lines: list[str] = []

    def sleep(seconds: float) -> bool:  # between runs a newer snapshot arrives
        assert seconds == 0.01
        touch(snapshots / "old", 3_000_000)
        return False

    try:
        kept = nightly.run_periodic(periodic(snapshots, 1e9), tmp_path, log=lines.append, sleep=sleep)
    finally:
        touch(snapshots / "old", 1_000_000)
    assert [c["config"].snapshot.name for c in calls] == ["new", "old"]
    first, second = calls
    assert first["warm"] is None
    assert np.array_equal(second["warm"][0], first["result"].vm_ids)
    assert np.array_equal(second["warm"][1], first["result"].host_ids)
    assert second["config"].previous == first["result"].out  # new snapshot: the cooldown applies
    assert second["config"].seed == first["config"].seed + 1
    assert [r.out for r in kept] == [first["result"].out]
    assert "new plan in" in lines[0] and "below min_benefit 1e+09" in lines[1]
    check_folders(tmp_path, kept)


def test_second_run_is_kept_when_it_pays(snapshots, calls, tmp_path):
    kept = nightly.run_periodic(periodic(snapshots, 0.0), tmp_path, log=lambda _: None, sleep=lambda _: False)
    first, second = calls
    assert second["warm"] is not None
    assert second["config"].previous is None  # same snapshot: the previous plan has not run
    assert [r.out for r in kept] == [first["result"].out, second["result"].out]
    assert second["result"].score <= first["result"].score + 1e-9  # never worse than its warm start
    check_folders(tmp_path, kept)
    for r in kept:
        assert cli("check-plan", snapshots / "new", r.out).code == 0


def test_periodic_from_the_command_line(snapshots, tmp_path):
    root = tmp_path / "periodic"
    result = cli(
        "nightly",
        "--snapshots",
        snapshots,
        "--every",
        "1s",
        "--max-runs",
        "1",
        "--algo",
        "anneal",
        "--time",
        "1",
        "--out",
        root,
    )
    assert result.code == 0, result.err
    assert "1 plan(s) kept" in result.out
    (run,) = root.iterdir()
    assert STAMP.fullmatch(run.name)
    assert cli("check-plan", snapshots / "new", run).code == 0


def test_periodic_needs_a_folder(tmp_path):
    with pytest.raises(ValueError, match=r"periodic\.snapshots"):
        nightly.run_periodic(NightlyConfig(), tmp_path)


def test_newest_snapshot(snapshots, tmp_path):
    assert nightly.newest_snapshot(snapshots) == snapshots / "new"
    with pytest.raises(FileNotFoundError, match="no snapshot directory"):
        nightly.newest_snapshot(tmp_path)


def test_carry_over_matches_vms_and_hosts_by_id(snapshots):
    c = load_snapshot(snapshots / "new")
    x = c.current_assignment()
    hosts = np.where(x >= 0, c.hosts.ids[np.maximum(x, 0)].astype(str), "")
    order = np.random.default_rng(0).permutation(c.n_vms)
    assert np.array_equal(nightly.carry_over(c, c.vms.ids.astype(str)[order], hosts[order]), x)
    hosts[0], keep = "gone-host", np.arange(1, c.n_vms - 1)  # a host gone, and the last VM is new
    moved = nightly.carry_over(c, c.vms.ids.astype(str)[keep], hosts[keep])
    assert moved[0] == -1 and moved[-1] == -1 and np.array_equal(moved[1:-1], x[1:-1])
