"""``cluster-opt nightly``: optimise a snapshot, plan safe waves to the result, write the
run folder (plan, assignment, evaluation before/after, report.html, metrics, manifest)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cluster_opt.cli.render import console, plan_line
from cluster_opt.jobs.config import NightlyConfig, load_yaml, parse_duration
from cluster_opt.jobs.nightly import run_nightly, run_periodic

ORDER = 50
NAME = "nightly"
HELP = "nightly rebalance: optimise, plan safe migration waves, write report and metrics"
EXAMPLE = """example:
  cluster-opt nightly --snapshot snap --time 60 --out runs/tonight
  cluster-opt nightly --config configs/nightly.yaml --out runs/tonight
  cluster-opt nightly --every 1h --snapshots /data/snapshots --out runs/periodic --config configs/nightly.yaml

Writes DIR/plan.json, plan.parquet, assignment.csv, evaluation.json (before and after with
lower bounds), report.html, metrics.prom and manifest.json (config, seed, versions and
snapshot hash: enough to repeat the run). The plan is checked by the independent validator
before anything is written. Exit codes: 0 complete plan; 1 invalid input (nothing written);
3 some moves were blocked: the safe part of the plan is written.
--every: re-optimise from the newest snapshot in --snapshots on that period, warm-started
from the previous best; a run is kept in DIR/<UTC time> only when it beats the previous
plan's target by periodic.min_benefit."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="nightly config YAML (configs/nightly.yaml)")
    p.add_argument("--snapshot", type=Path, help="snapshot directory (overrides the config)")
    p.add_argument("--time", type=float, help="search time in seconds (overrides solver.time_s)")
    p.add_argument(
        "--algo", help="solver (overrides solver.algo): auto, anneal, reduce, cpsat, lns, ga, nsga2"
    )
    p.add_argument("--seed", type=int, help="random seed (overrides the config)")
    p.add_argument("--previous", type=Path, help="previous run folder (cooldown and stability of moves)")
    p.add_argument("--out", type=Path, required=True, help="run folder to create (periodic: a root folder)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--every", help="periodic mode: period such as 15m, 1h")
    p.add_argument("--snapshots", type=Path, help="periodic mode: folder of snapshot directories to watch")
    p.add_argument("--max-runs", type=int, help="periodic mode: stop after this many runs")


def config_from_args(args: argparse.Namespace) -> NightlyConfig:
    """The config file (or the defaults) with the command-line overrides applied."""
    base = load_yaml(args.config, NightlyConfig) if args.config else NightlyConfig()
    solver = base.solver.model_copy(
        update={k: v for k, v in {"time_s": args.time, "algo": args.algo}.items() if v is not None}
    )
    periodic = base.periodic.model_copy(
        update={
            k: v
            for k, v in {
                "every": parse_duration(args.every) if args.every else None,
                "snapshots": args.snapshots,
                "max_runs": args.max_runs,
            }.items()
            if v is not None
        }
    )
    updates = {"snapshot": args.snapshot, "seed": args.seed, "previous": args.previous}
    return NightlyConfig.model_validate(
        {
            **base.model_dump(),
            **{k: v for k, v in updates.items() if v is not None},
            "solver": solver.model_dump(),
            "periodic": periodic.model_dump(),
        }
    )


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    out = console()
    if args.every or args.snapshots:
        kept = run_periodic(config, args.out, log=out.print)
        out.print(f"{len(kept)} plan(s) kept under {args.out}")
        return 0
    result = run_nightly(config, args.out, overwrite=args.force)
    s = result.summary
    out.print(plan_line(s))
    out.print(f"report: {(result.out / 'report.html').resolve()}")
    out.print(f"outputs: {result.out}/ (plan, assignment, evaluation, metrics, manifest)")
    return result.exit_code
