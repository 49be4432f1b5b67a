"""benchmarks/peers.py on a tiny generated cluster and on ROADEF a1_1 with 1 s per peer: every
peer has its row in the tables, and every solution reported as feasible (or valid) is
feasible for the evaluator (or valid for the exact checker) when checked again here."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import peers  # noqa: E402
from common import generated_snapshot  # noqa: E402

from cluster_opt.evaluate import Problem, evaluate  # noqa: E402
from cluster_opt.io import load_snapshot  # noqa: E402
from cluster_opt.roadef.checker import check  # noqa: E402

SOLUTION_PEERS = ["ours", "cpsat-full", "cpsat-restricted", "stock-nsga2", "ffd", "bfd"]
HV_PEERS = ["hv:ours-nsga2", "hv:stock-nsga2", "hv:stock-nsga2@time", "hv:stock-nsga2-seeded"]


def first_cells(lines: list[str]) -> list[str]:
    """First cell of each markdown table row (headers and separators dropped)."""
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| peer")]
    return [r.split("|")[1].strip() for r in rows if not r.startswith("| multi")]


def test_generated_rows_tables_and_feasibility(local_ray, tmp_path: Path) -> None:
    problem = Problem(load_snapshot(generated_snapshot(6, 30, 1, 3, None, tmp_path)))
    rows = peers.generated_rows(problem, 1.0, seed=1, pairs=0)
    assert [r["peer"] for r in rows] == SOLUTION_PEERS[:4] + HV_PEERS + SOLUTION_PEERS[4:]
    for row in rows:
        if row.get("x") is not None and row.get("feasible"):
            ev = evaluate(problem, np.asarray(row["x"], dtype=np.int32))
            assert ev.feasible, row["peer"]
            assert ev.score == pytest.approx(row["score"]), row["peer"]
    by = {r["peer"]: r for r in rows}
    for name in ("ours", "ffd", "bfd"):  # these always place something feasible here
        assert by[name]["feasible"], name
    assert by["hv:ours-nsga2"]["hv"] > 0
    assert by["hv:stock-nsga2"]["evaluations"] >= by["hv:ours-nsga2"]["evaluations"]
    table = peers.generated_table("tiny", rows)
    assert first_cells(table) == SOLUTION_PEERS + [n[3:] for n in HV_PEERS]


def test_roadef_rows_are_checked(shared_data: Path) -> None:
    rows = peers.roadef_rows(shared_data / "roadef2012", "a1_1", 1.0, seed=1)
    assert [r["peer"] for r in rows] == ["initial", "ours", "cpsat-full", "stock-nsga2", "ffd", "bfd"]
    inst, x0, _ = peers.load(shared_data / "roadef2012", "a1_1")
    for row in rows:
        if row["valid"]:
            again = check(inst, x0, row["x"])
            assert again.valid and again.total == row["cost"], row["peer"]
    ours = rows[1]
    assert ours["valid"] and ours["cost"] <= rows[0]["cost"]
    table = peers.roadef_table([{"instance": "a1_1", **r} for r in rows])
    assert table[2].startswith("| a1_1 | 49,528,750 |")
