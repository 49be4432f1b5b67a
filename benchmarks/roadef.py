"""ROADEF/EURO 2012 set A: the ``roadef-ls`` solver (annealing, then CP-SAT neighbourhoods) for
``--time`` seconds per instance, from the official initial assignment; initial cost, our cost,
best known cost and the best result of the challenge itself, the gaps, and the exact checker's
verdict; then the mean gaps.

    python benchmarks/roadef.py [--time 300] [--instances a1_1,a2_3] [--seed 0] [--out runs/roadef.csv]
                                [--solutions runs/roadef-solutions]
"""

from __future__ import annotations

import argparse
import csv
import re
import statistics
import time
from pathlib import Path

from common import DEFAULT_DATA, machine

from cluster_opt.cli.roadef_cmd import gap, read_best_known
from cluster_opt.roadef.adapter import roadef_problem
from cluster_opt.roadef.checker import check
from cluster_opt.roadef.parse import read_assignment, read_model
from cluster_opt.roadef.search import RoadefSearch
from cluster_opt.roadef.write import write_solution
from cluster_opt.solve.base import Deadline

A_INSTANCES = ("a1_1", "a1_2", "a1_3", "a1_4", "a1_5", "a2_1", "a2_2", "a2_3", "a2_4", "a2_5")
#: Best result of the challenge participants on set A (STEGUA2012, quoted in the source
#: column of best_known.csv); where it equals the best known cost the csv says so.
CHALLENGE_BEST = {
    "a1_1": 44306501,
    "a1_2": 777532896,
    "a1_3": 583005717,
    "a1_4": 252728589,
    "a1_5": 727578309,
    "a2_1": 198,
    "a2_2": 816523983,
    "a2_3": 1306868761,
    "a2_4": 1681353943,
    "a2_5": 336170182,
}


#: The winning team's own 300 s runs (S41), as the source column of best_known.csv quotes them.
S41_300S = re.compile(r"S41(?: 300 s run gives)? (\d{3,})")


def read_winners_300s(path: Path) -> dict[str, int]:
    """instance -> cost of the winning team's own 300 s run, where best_known.csv quotes it."""
    if not path.is_file():
        return {}
    with path.open(newline="") as f:
        found = {row["instance"]: S41_300S.search(row["source"]) for row in csv.DictReader(f)}
    return {name: int(m.group(1)) for name, m in found.items() if m}


def solve_one(folder: Path, name: str, seconds: float, seed: int, solutions: Path | None = None) -> dict:
    """One instance: solve within ``seconds``, check exactly, and write the solution file
    into ``solutions`` (official format) when given. O(the search)."""
    inst = read_model(folder / f"model_{name}.txt")
    x0 = read_assignment(folder / f"assignment_{name}.txt", inst)
    start = time.monotonic()
    solver = RoadefSearch(roadef_problem(inst, x0), seed=seed)
    x = solver.run(Deadline(seconds)).x
    wall = time.monotonic() - start
    result = check(inst, x0, x)
    if solutions is not None:
        solutions.mkdir(parents=True, exist_ok=True)
        write_solution(solutions / f"solution_{name}_seed{seed}.txt", inst, x)
    return {
        "instance": name,
        "initial": check(inst, x0).total,
        "cost": result.total,
        "valid": result.valid,
        "reason": result.reason or "",
        "seconds": round(wall, 1),
        "moves_tried": solver.iterations,
        "moves_applied": solver.applied,
        "lns_neighbourhoods": solver.neighbourhoods,
        "lns_improved": solver.lns_improved,
    }


def _or_dash(value: float | None, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def pct(value: float) -> str:
    return f"{value:.2f}%" if value < 1e4 else f"{value:.3g}%"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="reference data folder (../shared/data)")
    p.add_argument("--time", type=float, default=300.0, help="seconds per instance (default 300)")
    p.add_argument("--instances", default=",".join(A_INSTANCES), help="comma-separated subset")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="also write the rows as CSV")
    p.add_argument("--solutions", type=Path, help="also write every solution file into this folder")
    args = p.parse_args()
    folder = args.data / "roadef2012"
    best = read_best_known(folder / "best_known.csv")
    winners = read_winners_300s(folder / "best_known.csv")
    names = [n.strip() for n in args.instances.split(",") if n.strip()]
    print(f"machine: {machine()}; {args.time:g} s per instance, seed {args.seed}", flush=True)
    print(
        "| instance | initial cost | ours | best known | gap | challenge best | gap "
        "| winners' 300 s (S41) | its gap to best known | checker | moves tried | LNS (improving) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|", flush=True)
    rows = []
    for name in names:
        row = solve_one(folder, name, args.time, args.seed, args.solutions)
        row["best_known"] = best.get(name)
        row["gap_best_known"] = gap(row["cost"], row["best_known"]) if row["best_known"] else None
        row["challenge_best"] = CHALLENGE_BEST.get(name)
        row["gap_challenge"] = gap(row["cost"], row["challenge_best"]) if row["challenge_best"] else None
        row["winners_300s"] = winners.get(name)
        row["winners_gap_best_known"] = (
            gap(row["winners_300s"], row["best_known"]) if row["winners_300s"] and row["best_known"] else None
        )
        rows.append(row)
        verdict = "valid" if row["valid"] else f"INVALID: {row['reason']}"
        print(
            f"| {name} | {row['initial']:,} | {row['cost']:,} | {row['best_known'] or 0:,} | "
            f"{pct(row['gap_best_known'] or 0)} | {row['challenge_best'] or 0:,} | "
            f"{pct(row['gap_challenge'] or 0)} | {_or_dash(row['winners_300s'], '{:,}')} | "
            f"{_or_dash(row['winners_gap_best_known'], '{:.2f}%')} | {verdict} | {row['moves_tried']:,} | "
            f"{row['lns_neighbourhoods']:,} ({row['lns_improved']:,}) |",
            flush=True,
        )
    print()
    for key, label in (("gap_best_known", "best known"), ("gap_challenge", "challenge best")):
        gaps = {r["instance"]: r[key] for r in rows if r[key] is not None}
        if gaps:
            mean = pct(statistics.mean(gaps.values()))
            line = f"- mean gap to {label}: {mean} over {len(gaps)} instance(s)"
            rest = [g for n, g in gaps.items() if n != "a2_1"]
            if "a2_1" in gaps and rest:
                line += f"; without a2_1 (costs in the hundreds): {pct(statistics.mean(rest))}"
            print(line)
    quoted = [r for r in rows if r["winners_gap_best_known"] is not None]
    if quoted:
        ours = statistics.mean(r["gap_best_known"] for r in quoted)
        theirs = statistics.mean(r["winners_gap_best_known"] for r in quoted)
        print(
            f"- on the {len(quoted)} instance(s) where the winners' own 300 s run is quoted: their mean gap "
            f"to best known {pct(theirs)}, ours {pct(ours)}"
        )
    print(f"- every solution valid: {all(r['valid'] for r in rows)}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
