"""The nightly job end to end with nothing but a snapshot: every output file, the plan
passes the independent validator, the manifest repeats the run, and bad input writes
nothing."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from cluster_opt.io import load_snapshot, read_assignment
from cluster_opt.jobs.config import NightlyConfig
from cluster_opt.jobs.manifest import PACKAGES, snapshot_hash
from tests.jobs.conftest import OUTPUTS, cli


@pytest.fixture(scope="module")
def run(nightly_run) -> Path:
    result, out = nightly_run
    assert result.code in (0, 3), result.err
    return out


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def metrics(path: Path) -> dict[tuple[str, frozenset], float]:
    """(sample name, labels) -> value of a Prometheus text file."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(path.read_text())
        for s in family.samples
    }


def test_writes_every_output(nightly_run, run):
    result, _ = nightly_run
    for name in OUTPUTS:
        assert (run / name).is_file() and (run / name).stat().st_size > 0, name
    assert f"report: {(run / 'report.html').resolve()}" in result.out
    assert not list(run.parent.glob(".*")), "a temporary folder was left beside the output"


def test_plan_passes_check_plan(snapshot, run):
    result = cli("check-plan", snapshot, run)
    assert result.code == 0, result.out
    assert "safe" in result.out


def test_assignment_is_where_the_plan_ends(snapshot, run):
    cluster = load_snapshot(snapshot)
    final = read_assignment(run / "assignment.csv", cluster)
    x = cluster.current_assignment().copy()
    moves = pd.read_parquet(run / "plan.parquet").sort_values(["wave", "start_s"])
    for vm, dst in zip(moves["vm"], moves["to"], strict=True):
        x[cluster.vm_index[vm]] = cluster.host_index[dst] if dst else -1
    assert np.array_equal(x, final)
    plan = read_json(run / "plan.json")
    assert plan["summary"]["moves"] == len(moves)
    assert (plan["summary"]["complete"], plan["summary"]["blocked"]) == (True, 0)


def test_evaluation_before_and_after_with_lower_bounds(run):
    ev = read_json(run / "evaluation.json")
    assert set(ev) == {"before", "after"}
    for side in ev.values():
        assert side["lower_bounds"] and set(side["lower_bounds"]) <= set(side["objectives"])
    after = ev["after"]
    assert after["feasible"]
    assert after["score"] <= ev["before"]["score"]  # the nightly never makes the cluster worse
    for term, bound in after["lower_bounds"].items():  # a bound is a bound
        assert bound <= after["objectives"][term] + 1e-6 * max(1.0, abs(bound)), term


def test_metrics_parse_and_match_the_evaluation(run):
    got = metrics(run / "metrics.prom")
    job = frozenset({("job_kind", "nightly")})
    ev = read_json(run / "evaluation.json")["after"]
    plan = read_json(run / "plan.json")["summary"]
    assert got[("cluster_opt_run_duration_seconds", job)] > 0
    assert got[("cluster_opt_score", job)] == pytest.approx(ev["score"])
    assert got[("cluster_opt_feasible", job)] == 1.0
    assert got[("cluster_opt_plan_migrations", job)] == plan["moves"]
    assert got[("cluster_opt_plan_waves", job)] == plan["waves"]
    values = {dict(k[1])["term"]: v for k, v in got.items() if k[0] == "cluster_opt_term_value"}
    assert values == pytest.approx({**ev["objectives"], **ev["violations"]})
    bounds = {dict(k[1])["term"]: v for k, v in got.items() if k[0] == "cluster_opt_term_lower_bound"}
    assert bounds == pytest.approx(ev["lower_bounds"])


def test_manifest_names_config_seed_versions_and_snapshot(snapshot, run):
    manifest = read_json(run / "manifest.json")
    assert manifest["job"] == "nightly"
    assert manifest["snapshot_sha256"] == snapshot_hash(snapshot)
    assert manifest["snapshot"] == str(snapshot.resolve())
    config = NightlyConfig.model_validate(manifest["config"])
    assert (config.snapshot, config.seed, config.solver.time_s) == (snapshot, manifest["seed"], 8.0)
    assert set(PACKAGES) <= set(manifest["versions"]) and "python" in manifest["versions"]
    assert re.fullmatch(r"\d+\.\d+.*", manifest["versions"]["numpy"])
    assert manifest["validator"] == "safe" and manifest["duration_s"] > 0


def test_the_search_ran_on_the_engine(run):
    """The default search is the distributed engine: its islands, front and progress reach
    the manifest, the metrics and the report."""
    manifest = read_json(run / "manifest.json")
    assert manifest["algorithm"] == "engine" and manifest["islands"] == 2 and manifest["islands_lost"] == 0
    engine = manifest["engine"]
    assert engine["partitions"]["count"] >= 1 and engine["chosen_feasible"]
    assert engine["time_to_first_feasible_s"] is not None
    metrics = (run / "metrics.prom").read_text()
    assert 'cluster_opt_islands_started{job_kind="nightly"} 2.0' in metrics
    assert 'cluster_opt_islands_lost{job_kind="nightly"} 0.0' in metrics
    html = (run / "report.html").read_text()
    assert "kept no Pareto front" not in html
    assert "island 0 (reduce)" in html or engine["units"] == 0


def test_report_is_self_contained(run):
    html = (run / "report.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "<svg" in html and "cluster-opt nightly" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "the report loads from the network"


@pytest.mark.parametrize(
    "solver",
    [{"algo": "anneal", "time_s": 60, "settings": {"iterations": 30000}}, {"algo": "ffd", "time_s": 1}],
    ids=["anneal-iterations", "heuristic"],
)
def test_manifest_repeats_the_run(snapshot, tmp_path, monkeypatch, solver):
    monkeypatch.chdir(tmp_path)  # relative paths, as an operator types them
    (tmp_path / "snap").symlink_to(snapshot)
    Path("first.yaml").write_text(yaml.safe_dump({"snapshot": "snap", "seed": 5, "solver": solver}))
    first = cli("nightly", "--config", "first.yaml", "--out", "first")
    assert first.code in (0, 3), first.err
    manifest = read_json(tmp_path / "first" / "manifest.json")
    again = tmp_path / "elsewhere" / "again.yaml"  # relative paths would now point elsewhere
    again.parent.mkdir()
    again.write_text(yaml.safe_dump(manifest["config"]))
    second = cli("nightly", "--config", again, "--out", tmp_path / "second")
    assert second.code == first.code, second.err
    a = (tmp_path / "first" / "assignment.csv").read_text()
    assert a == (tmp_path / "second" / "assignment.csv").read_text()
    assert a != "vm,host\n" and read_json(tmp_path / "second" / "manifest.json")["seed"] == 5
    moves = [
        pd.read_parquet(tmp_path / d / "plan.parquet")[["vm", "from", "to", "wave"]]
        for d in ("first", "second")
    ]
    pd.testing.assert_frame_equal(*moves)


def test_existing_out_is_refused_before_any_work(snapshot, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = cli("nightly", "--snapshot", snapshot, "--time", "2", "--out", out)
    assert result.code == 1
    assert "exists; choose another --out or pass --force" in result.err
    assert [p.name for p in out.iterdir()] == ["keep.txt"] and (out / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_force_replaces_an_existing_out(snapshot, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    result = cli("nightly", "--snapshot", snapshot, "--algo", "ffd", "--out", out, "--force")
    assert result.code in (0, 3), result.err
    assert sorted(p.name for p in out.iterdir() if p.name in OUTPUTS) == sorted(OUTPUTS)
    assert not (out / "keep.txt").exists()


def test_bad_snapshot_is_exit_1_and_writes_nothing(snapshot, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(snapshot, bad)
    vms = pd.read_parquet(bad / "vms.parquet")
    vms.loc[3, "host"] = "no-such-host"
    vms.to_parquet(bad / "vms.parquet", index=False)
    out = tmp_path / "out"
    result = cli("nightly", "--snapshot", bad, "--time", "2", "--out", out)
    assert result.code == 1
    assert "no-such-host" in result.out + result.err and "nothing was written" in result.err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad"]


def test_no_snapshot_is_exit_1(tmp_path):
    result = cli("nightly", "--out", tmp_path / "out")
    assert result.code == 1 and "no snapshot" in result.err
    assert not (tmp_path / "out").exists()
