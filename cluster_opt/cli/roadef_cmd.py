"""``cluster-opt roadef``: solve a ROADEF/EURO 2012 machine reassignment instance and print
the cost the exact checker gives the solution."""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from cluster_opt.cli.render import console, print_json
from cluster_opt.cli.roadef_check_cmd import print_table
from cluster_opt.roadef.adapter import roadef_problem
from cluster_opt.roadef.checker import check
from cluster_opt.roadef.parse import read_assignment, read_model
from cluster_opt.roadef.search import RoadefSearch
from cluster_opt.roadef.write import write_solution
from cluster_opt.solve.base import Deadline

ORDER = 71
NAME = "roadef"
HELP = "solve a ROADEF/EURO 2012 machine reassignment instance (annealing, then CP-SAT neighbourhoods)"
EXAMPLE = """example:
  cluster-opt roadef model_a1_4.txt assignment_a1_4.txt --time 60 --seed 1 --out solution_a1_4.txt

Starts from the original assignment, anneals with feasible moves only (shifts, swaps,
ejections) for 70% of the time, then re-places the processes of a few machines at a time
exactly with CP-SAT, keeping results the exact checker accepts: every solution it writes
is valid. Writes the solution in the official format
and prints the exact checker's verdict and cost by component, the lower bound, and the gap
to the best known cost when best_known.csv (instance,initial_cost,best_known_cost,...) lies
beside the model file (or is given with --best-known) and names the instance."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", type=Path, help="model file (model_*.txt)")
    p.add_argument("assignment", type=Path, help="original assignment (assignment_*.txt)")
    p.add_argument("--time", type=float, default=60.0, help="time budget in seconds (default 60)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", type=Path, required=True, help="solution file to write")
    p.add_argument("--best-known", type=Path, help="best_known.csv (default: beside the model file)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def instance_name(model: Path) -> str:
    """``a1_4`` for ``model_a1_4.txt`` (the file's stem without a ``model_`` prefix)."""
    return model.stem.removeprefix("model_")


def read_best_known(path: Path) -> dict[str, int]:
    """instance -> best known cost from a best_known.csv; empty when the file is absent."""
    if not path.is_file():
        return {}
    with path.open(newline="") as f:
        return {row["instance"]: int(row["best_known_cost"]) for row in csv.DictReader(f)}


def gap(cost: int, reference: int) -> float:
    """Relative gap in percent (inf for a positive cost against a reference of 0)."""
    if reference == 0:
        return 0.0 if cost == 0 else float("inf")
    return 100.0 * (cost - reference) / reference


def run(args: argparse.Namespace) -> int:
    instance = read_model(args.model)
    x0 = read_assignment(args.assignment, instance)
    name = instance_name(args.model)
    best_known = read_best_known(args.best_known or args.model.parent / "best_known.csv").get(name)
    start = time.monotonic()
    solver = RoadefSearch(roadef_problem(instance, x0), seed=args.seed)
    x = solver.run(Deadline(args.time)).x
    seconds = time.monotonic() - start
    result = check(instance, x0, x)
    initial = check(instance, x0).total
    write_solution(args.out, instance, x)
    bound = instance.load_lower_bound() + instance.balance_lower_bound()
    summary = {
        "instance": name,
        "initial_cost": initial,
        "seconds": round(seconds, 2),
        "moves_tried": solver.iterations,
        "moves_applied": solver.applied,
        "lns_neighbourhoods": solver.neighbourhoods,
        "lns_improved": solver.lns_improved,
        "best_known": best_known,
        "gap_to_best_known_pct": None if best_known is None else gap(result.total, best_known),
    }
    if args.json:
        print_json({**result.to_json(), "lower_bound": bound, **summary})
    else:
        print_table(argparse.Namespace(model=args.model, solution=args.out), result, bound, None)
        out = console()
        out.print(
            f"initial cost {initial:,} -> {result.total:,} ({gap(result.total, initial):+.2f}%) in "
            f"{seconds:.1f} s, {solver.iterations:,} moves tried, {solver.applied:,} applied, "
            f"{solver.neighbourhoods:,} LNS neighbourhoods ({solver.lns_improved:,} improving)"
        )
        if best_known is not None:
            out.print(f"best known {best_known:,}: gap {summary['gap_to_best_known_pct']:.2f}%")
        out.print(f"wrote {args.out}")
    return 0 if result.valid else 1
