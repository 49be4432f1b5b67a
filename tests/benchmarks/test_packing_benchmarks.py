"""The packing benchmark scripts end to end on one instance per class (1 s searches): the
markdown table has one line per class plus a total with the expected columns, and every
packing is feasible and never below the proven optimum or lower bound."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALGOS = ["ffd", "bfd", "best-heuristic", "auto"]


def script(name: str, data: Path, classes: list[str], *options: str) -> str:
    args = [sys.executable, str(ROOT / "benchmarks" / name), "--data", str(data), "--per-class", "1"]
    args += ["--classes", ",".join(classes), *options]
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=280, check=False)
    assert done.returncode == 0, done.stderr
    assert "BUG" not in done.stderr, done.stderr
    return done.stdout


def run_script(name: str, data: Path, classes: list[str], out: Path) -> tuple[str, list[dict[str, str]]]:
    """stdout and the per-instance CSV of one run with 1 s searches."""
    stdout = script(name, data, classes, "--time", "1", "--out", str(out))
    with out.open() as f:
        return stdout, list(csv.DictReader(f))


def table(stdout: str) -> list[list[str]]:
    """The cells of the markdown table in ``stdout`` (header first, separator dropped)."""
    lines = [line for line in stdout.splitlines() if line.startswith("| ")]
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]


def check_rows(rows: list[dict[str, str]], classes: list[str]) -> None:
    assert {r["class"] for r in rows} == set(classes)
    assert len(rows) == len(classes) * len(ALGOS)
    for r in rows:
        assert r["feasible"] == "True", r
        assert float(r["ratio"]) >= 1.0, r
        assert float(r["ratio"]) == pytest.approx(int(r["bins"]) / int(r["reference"]))
    # the best heuristic is at least as good as FFD and BFD on every instance
    bins = {(r["instance"], r["algo"]): int(r["bins"]) for r in rows}
    for instance in {r["instance"] for r in rows}:
        assert bins[instance, "best-heuristic"] <= min(bins[instance, "ffd"], bins[instance, "bfd"])


def check_table(cells: list[list[str]], classes: list[str], extra: list[str]) -> None:
    header, body = cells[0], cells[1:]
    assert header[:3] == ["class", "run", "ratio to"]
    assert header[3 : 3 + len(ALGOS)] == ALGOS
    assert all(any(e in h for h in header) for e in extra)
    assert [line[0] for line in body] == [*classes, "all classes", "all, proven OPT only"]
    for line in body:
        assert len(line) == len(header)
        for cell in line[3 : 3 + len(ALGOS)]:  # mean / max / hits
            mean, top, hits = (p.strip() for p in cell.split("/"))
            assert 1.0 <= float(mean) <= float(top)
            assert hits.isdigit()


def test_vector_packing_script(shared_data: Path, tmp_path: Path) -> None:
    classes = ["Panigrahy/class2", "Triplet/Caprara"]
    stdout, rows = run_script("vector_packing.py", shared_data, classes, tmp_path / "vp.csv")
    check_rows(rows, classes)
    cells = table(stdout)
    check_table(cells, classes, ["skipped files", "published best, same instances", "whole class"])
    skipped = {line[0]: line[cells[0].index("skipped files")] for line in cells[1:]}
    assert skipped["Panigrahy/class2"] == "0"
    assert int(skipped["Triplet/Caprara"]) > 0  # files with negative sizes in the source data
    for r in rows:  # the published best is a real packing: never below the optimum either
        assert int(r["published"]) >= int(r["reference"])
    # the tables can be printed again from the CSV without running anything
    again = script("vector_packing.py", shared_data, classes, "--tables-from", str(tmp_path / "vp.csv"))
    assert table(again) == cells


def test_bpplib_script(shared_data: Path, tmp_path: Path) -> None:
    classes = ["Falkenauer_T", "Hard28"]
    stdout, rows = run_script("bpplib.py", shared_data, classes, tmp_path / "bpp.csv")
    check_rows(rows, classes)
    cells = table(stdout)
    check_table(cells, classes, ["ffd − ref", "best known UB", "published FFD"])
    published = cells[0].index("published FFD, whole class: = OPT · mean − OPT (bins)")
    assert cells[1][published] == "0 of 61 · 11.10"  # published_results/README.md section 2
