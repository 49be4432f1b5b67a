"""The plan, drain and check-plan commands: files written, exit codes, output."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cluster_opt.cli.main import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def target_file(example_dir, tmp_path):
    """The example's placement with web-1 moved to h03 and the pending new-1 placed on h12."""
    vms = pd.read_csv(example_dir / "vms.csv", dtype=str, keep_default_na=False)
    target = pd.DataFrame({"vm": vms.id, "host": vms.host})
    target.loc[target.vm == "web-1", "host"] = "h03"
    target.loc[target.vm == "new-1", "host"] = "h12"
    path = tmp_path / "target.csv"
    target.to_csv(path, index=False)
    return path


def test_plan_writes_every_file_and_passes_check_plan(capsys, example_dir, target_file, tmp_path):
    out = tmp_path / "plan"
    code, text, _ = run(capsys, "plan", example_dir, "--target", target_file, "--out", out)
    assert code == 0
    assert "2 moves (1 migrations, 1 placements, 0 evictions" in text and "validator: safe" in text
    assert sorted(p.name for p in out.iterdir()) == [
        "plan.json",
        "plan.parquet",
        "requested.parquet",
        "target.parquet",
    ]
    doc = json.loads((out / "plan.json").read_text())
    assert doc["format"] == "cluster-opt-plan" and doc["summary"]["complete"] is True
    assert {m["vm"] for m in doc["moves"]} == {"web-1", "new-1"}
    for key in ("vm", "from", "to", "wave", "start_s", "seconds", "reason"):
        assert key in doc["moves"][0]
    for key in ("moves", "waves", "estimated_seconds", "benefit_by_term", "before", "after"):
        assert key in doc["summary"]
    table = pd.read_parquet(out / "plan.parquet")
    assert len(table) == 2 and list(table.columns)[:4] == ["vm", "from", "to", "wave"]
    code, text, _ = run(capsys, "check-plan", example_dir, out)
    assert code == 0 and "safe" in text
    code, _, err = run(capsys, "plan", example_dir, "--target", target_file, "--out", out)
    assert code == 1 and "exists" in err
    assert run(capsys, "plan", example_dir, "--target", target_file, "--out", out, "--force")[0] == 0


def test_check_plan_reports_a_tampered_plan(capsys, example_dir, target_file, tmp_path):
    out = tmp_path / "plan"
    run(capsys, "plan", example_dir, "--target", target_file, "--out", out)
    doc = json.loads((out / "plan.json").read_text())
    doc["moves"][0]["to"] = "h05"  # a host in maintenance
    (out / "plan.json").write_text(json.dumps(doc))
    code, text, _ = run(capsys, "check-plan", example_dir, out, "--json")
    report = json.loads(text)
    assert code == 1 and not report["safe"]
    assert "host-state" in report["by_rule"] and "final-state" in report["by_rule"]
    code, text, _ = run(capsys, "check-plan", example_dir, out / "plan.json")
    assert code == 1 and "UNSAFE" in text and "host-state" in text


def test_check_plan_against_another_target(capsys, example_dir, target_file, tmp_path):
    out = tmp_path / "plan"
    run(capsys, "plan", example_dir, "--target", target_file, "--out", out)
    code, _, _ = run(capsys, "check-plan", example_dir, out, "--target", example_dir / "vms.csv")
    assert code == 1  # vms.csv (vm id + current host columns) is not where the plan ends


def test_plan_with_a_blocked_move_exits_3(capsys, example_dir, target_file, tmp_path):
    target = pd.read_csv(target_file, dtype=str, keep_default_na=False)
    target.loc[target.vm == "db-3", "host"] = "h07"  # db-3 is not migratable
    target.to_csv(target_file, index=False)
    code, text, _ = run(
        capsys, "plan", example_dir, "--target", target_file, "--out", tmp_path / "p", "--json"
    )
    summary = json.loads(text)
    assert code == 3 and summary["blocked"] == 1 and summary["moves"] == 2
    doc = json.loads((tmp_path / "p" / "plan.json").read_text())
    assert doc["blocked"] == [{"vm": "db-3", "from": "h06", "to": "h07", "reason": "VM is not migratable"}]


def test_previous_plan_puts_its_vms_in_cooldown(capsys, example_dir, target_file, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    assert run(capsys, "plan", example_dir, "--target", target_file, "--out", first)[0] == 0
    code, text, _ = run(
        capsys, "plan", example_dir, "--target", target_file, "--out", second, "--previous", first, "--json"
    )
    assert code == 0 and json.loads(text)["moves"] == 1  # web-1 moved last time; new-1 is placed
    doc = json.loads((second / "plan.json").read_text())
    assert doc["skipped"][0]["vm"] == "web-1" and doc["skipped"][0]["reason"].startswith("cooldown")


def test_plan_options_and_settings_file(capsys, example_dir, target_file, tmp_path):
    settings = tmp_path / "plan.yaml"
    settings.write_text("concurrency: {per_host: 1, global: 1}\nmigration_gbps: 5\nlinks: {host_gbps: 5}\n")
    code, text, _ = run(
        capsys,
        "plan",
        example_dir,
        "--target",
        target_file,
        "--out",
        tmp_path / "p",
        "--settings",
        settings,
        "--json",
    )
    assert code == 0 and json.loads(text)["waves"] == 2
    settings.write_text("migration_gbps: 50\n")  # above the default 25 Gbit/s host link
    code, _, err = run(
        capsys, "plan", example_dir, "--target", target_file, "--out", tmp_path / "q", "--settings", settings
    )
    assert code == 1 and "host_gbps" in err and not (tmp_path / "q").exists()


def test_drain_a_rack(capsys, example_dir, tmp_path):
    out = tmp_path / "drain"
    code, text, _ = run(capsys, "drain", example_dir, "--rack", "r1", "--out", out)
    assert code == 0 and "can be emptied" in text
    doc = json.loads((out / "plan.json").read_text())
    assert doc["drain"]["complete"] and doc["drain"]["hosts"] == ["h01", "h02", "h03"]
    assert doc["forbidden_hosts"] == ["h01", "h02", "h03"]
    assert {m["from"] for m in doc["moves"]} == {"h01", "h02", "h03"}
    assert all(m["reason"].startswith("forced: drain of h0") for m in doc["moves"])
    assert run(capsys, "check-plan", example_dir, out)[0] == 0


def test_impossible_drain_exits_3_and_explains(capsys, example_dir, tmp_path):
    out = tmp_path / "drain"
    code, text, _ = run(capsys, "drain", example_dir, "--hosts", "h08,h13", "--out", out)
    assert code == 3 and "cannot be emptied" in text
    assert "train-1 on h08: no active host outside the drain has GPU model A100" in text
    doc = json.loads((out / "plan.json").read_text())
    blocking = {b["vm"]: b["reason"] for b in doc["drain"]["blocking_vms"]}
    assert blocking == {
        "train-1": "no active host outside the drain has GPU model A100",
        "infer-1": "no active host outside the drain has GPU model T4",
        "train-2": "no host outside the drain has 2 free gpus for the VM (most free: 0 on h01)",
    }
    assert doc["drain"]["left_on_drained_hosts"] == 3
    assert run(capsys, "check-plan", example_dir, out)[0] == 0  # the partial plan is safe


def test_drain_needs_exactly_one_selector(capsys, example_dir, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["drain", str(example_dir), "--rack", "r1", "--zone", "us-east/a", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2
    code, _, err = run(capsys, "drain", example_dir, "--zone", "a", "--out", tmp_path / "y")
    assert code == 1 and "ambiguous" in err
