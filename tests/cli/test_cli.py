"""The cluster-opt command: exit codes, output, help with examples."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cluster_opt.cli.main import COMMANDS, build_parser, main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_validate_example(capsys, example_dir):
    code, out, _ = run(capsys, "validate", str(example_dir))
    assert code == 0
    assert "valid" in out and "14 hosts" in out and "30 VMs (2 pending)" in out


def test_validate_broken_snapshot_lists_every_problem(capsys, example_dir, tmp_path):
    snap = tmp_path / "broken"
    shutil.copytree(example_dir, snap)
    vms = pd.read_csv(snap / "vms.csv", dtype=str, keep_default_na=False)
    vms.loc[vms.id == "web-2", "cpu"] = "four"
    vms.loc[vms.id == "db-1", "host"] = "h99"
    vms.loc[vms.id == "ci-1", "pricing"] = "free"
    vms.to_csv(snap / "vms.csv", index=False)
    before = sorted(p.name for p in snap.iterdir())
    code, _, err = run(capsys, "validate", str(snap))
    assert code == 1
    assert "3 problem(s) found" in err
    for text in (
        "row 2",
        "web-2",
        "not a number: 'four'",
        "db-1",
        "unknown host 'h99'",
        "ci-1",
        "unknown value 'free'",
    ):
        assert text in err.replace("│", " ") or text.split()[-1] in err
    assert "nothing was written" in err
    assert sorted(p.name for p in snap.iterdir()) == before


def test_evaluate_json_has_the_promised_keys(capsys, example_dir):
    code, out, _ = run(capsys, "evaluate", str(example_dir), "--json")
    assert code == 0
    obj = json.loads(out)
    assert obj["feasible"] is True
    for key in ("feasible", "violations", "objectives", "lower_bounds"):
        assert key in obj
    for term in ("active_hosts", "energy_watts", "hourly_cost", "latency_ms", "migrations"):
        assert term in obj["objectives"]
    assert obj["objectives"]["active_hosts"] == 11
    assert obj["violations"]["unplaced"] == 2
    assert obj["lower_bounds"]["active_hosts"] <= obj["objectives"]["active_hosts"]


def test_evaluate_table_and_config(capsys, example_dir, tmp_path):
    config = tmp_path / "profile.yaml"
    config.write_text("terms:\n  unplaced: {hard: true}\n  active_hosts: {weight: 1}\n")
    code, out, _ = run(capsys, "evaluate", str(example_dir), "--config", str(config))
    assert code == 0
    assert "INFEASIBLE" in out  # two pending VMs violate a hard 'unplaced'
    assert "energy_watts" in out and "lower bound" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("terms:\n  no_such_term: {weight: 1}\n")
    code, _, err = run(capsys, "evaluate", str(example_dir), "--config", str(bad))
    assert code == 1 and "no_such_term" in err


def test_evaluate_an_assignment_file(capsys, example_dir, tmp_path):
    vms = pd.read_csv(example_dir / "vms.csv", dtype=str, keep_default_na=False)
    assignment = pd.DataFrame({"vm": vms.id, "host": vms.host})
    assignment.loc[assignment.vm == "new-1", "host"] = "h12"
    assignment.loc[assignment.vm == "web-1", "host"] = "h03"
    path = tmp_path / "assignment.csv"
    assignment.to_csv(path, index=False)
    code, out, _ = run(capsys, "evaluate", str(example_dir), "--assignment", str(path), "--json")
    obj = json.loads(out)
    assert code == 0
    assert obj["violations"]["unplaced"] == 1
    assert obj["objectives"]["migrations"] == 1


def test_generate_writes_a_valid_snapshot_and_refuses_to_overwrite(capsys, tmp_path):
    out_dir = tmp_path / "snap"
    args = [
        "generate",
        "--hosts",
        "80",
        "--vms",
        "500",
        "--regions",
        "2",
        "--seed",
        "3",
        "--out",
        str(out_dir),
        "--format",
        "csv",
    ]
    code, out, _ = run(capsys, *args)
    assert code == 0 and "80 hosts" in out
    assert run(capsys, "validate", str(out_dir))[0] == 0
    code, _, err = run(capsys, *args)
    assert code == 1 and "exists" in err
    assert run(capsys, *args, "--force")[0] == 0


@pytest.mark.parametrize("cmd", [c.NAME for c in COMMANDS])
def test_every_command_has_help_with_an_example(cmd):
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[cmd]
    assert "example" in sub.format_help()


def test_console_script_runs(example_dir):
    result = subprocess.run(
        [sys.executable, "-m", "cluster_opt.cli.main", "validate", str(example_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_usage_error_exit_code():
    with pytest.raises(SystemExit) as exc:
        main(["evaluate"])
    assert exc.value.code == 2


def test_missing_snapshot_is_exit_1(capsys, tmp_path):
    code, _, err = run(capsys, "validate", str(Path(tmp_path) / "nope"))
    assert code == 1 and "does not exist" in err
