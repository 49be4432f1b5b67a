"""``cluster-opt solve``: one algorithm of the solver library on a snapshot or a reference
packing instance, within a time budget."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cluster_opt.cli.evaluate_cmd import load_config
from cluster_opt.cli.render import console, print_evaluation
from cluster_opt.evaluate import Problem, evaluate
from cluster_opt.io import load_snapshot, write_assignment
from cluster_opt.io.packing_formats import packing_cluster, packing_config, read_packing
from cluster_opt.io.tables import atomic_directory
from cluster_opt.solve.run import algorithms, solve

ORDER = 40
NAME = "solve"
HELP = "place VMs with one algorithm (ffd, bfd, anneal, cpsat, lns, ga, nsga2, auto) within a time budget"
EXAMPLE = """example:
  cluster-opt solve snap --algo anneal --time 30 --seed 1 --out runs/solve
  cluster-opt solve ../shared/data/bpplib_1d/instances/Hard28/Hard28_BPP14.txt --time 10 --out runs/h14

INPUT is a snapshot directory, a .vbp vector packing file or a BPPLIB 1-D file (identical
hosts; the objective is the number of active hosts). Writes DIR/assignment.csv (vm, host)
and DIR/evaluation.json (the object `evaluate --json` prints)."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", type=Path, help="snapshot directory, .vbp file or BPPLIB .txt file")
    p.add_argument("--algo", default="auto", help=f"one of: {', '.join(algorithms())}, or RULE-KEY")
    p.add_argument("--time", type=float, default=10.0, help="time budget in seconds (default 10)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--config", type=Path, help="evaluation config YAML (snapshots only)")
    p.add_argument("--out", type=Path, required=True, help="output directory (must not exist unless --force)")
    p.add_argument("--force", action="store_true", help="replace an existing output directory")


def run(args: argparse.Namespace) -> int:
    if args.input.is_dir():
        cluster = load_snapshot(args.input)
        problem = Problem(cluster, load_config(args.config))
    else:
        cluster = packing_cluster(read_packing(args.input))
        problem = Problem(cluster, packing_config(cluster.n_hosts))
    best, solver = solve(problem, args.algo, seconds=args.time, seed=args.seed)
    result = evaluate(problem, best.x)
    with atomic_directory(args.out, overwrite=args.force) as tmp:
        write_assignment(tmp / "assignment.csv", cluster, best.x)
        (tmp / "evaluation.json").write_text(json.dumps(result.to_json(), indent=2) + "\n")
    print_evaluation(result, title=f"{args.input}: {args.algo}, {args.time:g} s, seed {args.seed}")
    for note in solver.progress.notes if solver else []:
        console().print(f"note: {note}")
    console().print(f"wrote {args.out}/assignment.csv and evaluation.json")
    return 0
