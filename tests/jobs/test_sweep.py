"""A tiny parameter sweep through ``cluster-opt sweep`` on the session's embedded Ray: the
results table, the quality-against-time plot and the best setting as a profile."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cluster_opt.jobs.config import NightlyConfig, SweepConfig, load_yaml
from cluster_opt.jobs.sweep import METRICS, run_sweep
from cluster_opt.solve.registry import solvers
from tests.jobs.conftest import cli


@pytest.fixture(scope="module")
def sweep(local_ray, snapshot, tmp_path_factory) -> Path:
    """2 settings x 1 snapshot x 1 repeat, 1 s each (the snapshot and time from the command
    line override the config's)."""
    folder = tmp_path_factory.mktemp("sweep")
    config = folder / "sweep.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "snapshots": ["absent"],
                "algo": "anneal",
                "time_s": 30,
                "repeats": 1,
                "seed": 4,
                "max_concurrent": 2,
                "grid": {"cooling": ["geometric", "adaptive"]},
            }
        )
    )
    out = folder / "out"
    result = cli("sweep", "--config", config, "--snapshot", snapshot, "--time", "1", "--out", out)
    assert result.code == 0, result.err
    assert "cooling=geometric" in result.out and "cooling=adaptive" in result.out
    return out


@pytest.mark.timeout(240)
def test_results_have_one_row_per_trial(sweep, snapshot):
    table = pd.read_csv(sweep / "results.csv")
    assert len(table) == 2
    assert sorted(table["setting.cooling"]) == ["adaptive", "geometric"]
    assert set(METRICS) <= set(table.columns)
    assert (table["snapshot"] == str(snapshot.resolve())).all()
    assert (table["algo"] == "anneal").all() and (table["time_s"] == 1).all() and (table["seed"] == 4).all()
    assert table["score"].map(math.isfinite).all() and table["feasible"].all()
    assert (table["time_to_best_s"] >= 0).all()
    assert "history" not in table.columns


def test_quality_against_time_is_an_svg(sweep):
    root = ET.parse(sweep / "quality_vs_time.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 2  # axes and the curves


def test_best_setting_is_a_nightly_solver_section(sweep):
    best = yaml.safe_load((sweep / "best_profile.yaml").read_text())
    solver = NightlyConfig.model_validate(best).solver
    assert (solver.algo, solver.time_s) == ("anneal", 1.0)
    solvers()["anneal"].Settings.model_validate(solver.settings)
    table = pd.read_csv(sweep / "results.csv")
    assert set(solver.settings) == {"cooling"}
    chosen = table.loc[table["setting.cooling"] == solver.settings["cooling"], "score"]
    assert chosen.min() == table["score"].min()  # the best (one of the best on a tie)
    # the file is usable as a config on its own
    assert load_yaml(sweep / "best_profile.yaml", NightlyConfig).solver == solver


def test_a_bad_grid_is_exit_1_before_ray_starts(snapshot, tmp_path, monkeypatch):
    monkeypatch.setattr("cluster_opt.jobs.sweep.connect", lambda address: pytest.fail("Ray was started"))
    config = tmp_path / "sweep.yaml"
    config.write_text(yaml.safe_dump({"snapshots": [str(snapshot)], "grid": {"cooling": ["fast"]}}))
    result = cli("sweep", "--config", config, "--out", tmp_path / "out")
    assert result.code == 1
    assert "grid.cooling: 'fast': Input should be 'geometric' or 'adaptive'" in result.err
    assert not (tmp_path / "out").exists()


@pytest.mark.timeout(240)
def test_failed_trials_are_an_error_not_a_table(local_ray, tmp_path):
    config = SweepConfig(snapshots=[tmp_path / "absent"], time_s=1, grid={"cooling": ["adaptive"]})
    with pytest.raises(
        RuntimeError, match=r"(?s)^1 of 1 trials failed; first: .*absent: snapshot directory does not exist"
    ):
        run_sweep(config, tmp_path / "out")
    assert not (tmp_path / "out" / "results.csv").exists()
