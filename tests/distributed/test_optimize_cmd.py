"""``cluster-opt optimize``: its output folder, and Ctrl-C keeping the best so far."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from cluster_opt.cli.main import main
from cluster_opt.evaluate import EvaluationConfig, Problem, evaluate
from cluster_opt.generate import GeneratorSettings, generate
from cluster_opt.io import load_snapshot, read_assignment, write_snapshot


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    return write_snapshot(
        generate(GeneratorSettings(hosts=120, vms=900, regions=2, seed=2)),
        tmp_path_factory.mktemp("s") / "snap",
    )


def test_outputs_describe_the_chosen_solution_and_the_run(local_ray, snapshot, tmp_path, capsys):
    out = tmp_path / "opt"
    code = main(
        ["optimize", str(snapshot), "--time", "10", "--islands", "2", "--seed", "3", "--out", str(out)]
    )
    printed = capsys.readouterr().out
    assert code == 0 and "islands: 2 started, 0 lost" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "assignment.csv",
        "evaluation.json",
        "front.csv",
        "progress.csv",
        "run.json",
    ]
    cluster = load_snapshot(snapshot)
    x = read_assignment(out / "assignment.csv", cluster)
    ev = json.loads((out / "evaluation.json").read_text())
    assert ev == json.loads(json.dumps(evaluate(Problem(cluster, EvaluationConfig()), x).to_json()))
    front = pd.read_csv(out / "front.csv")
    assert front["chosen"].sum() == 1
    assert {"energy_watts", "hourly_cost", "latency_ms", "migrations", "score"} <= set(front.columns)
    assert np.isclose(front.loc[front["chosen"], "score"].iloc[0], ev["score"])
    run = json.loads((out / "run.json").read_text())
    assert run["islands"]["started"] == 2 and run["seed"] == 3 and not run["cancelled"]
    assert run["time_to_first_feasible_s"] >= 0 and "migrants_exchanged" in run
    progress = pd.read_csv(out / "progress.csv")
    assert list(progress.columns) == ["island", "elapsed_s", "best_score"]


def test_ctrl_c_stops_the_search_and_writes_the_best_so_far(snapshot, tmp_path):
    out = tmp_path / "interrupted"
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    cmd = [
        sys.executable,
        "-m",
        "cluster_opt.cli.main",
        "optimize",
        str(snapshot),
        "--time",
        "600",
        "--quiet",
    ]
    proc = subprocess.Popen(
        [*cmd, "--out", str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        time.sleep(25)  # Ray started, islands at work
        proc.send_signal(signal.SIGINT)
        text, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, text.decode()[-3000:]
    run = json.loads((out / "run.json").read_text())
    assert run["cancelled"] and run["elapsed_s"] < 300
    assert json.loads((out / "evaluation.json").read_text())["feasible"]
