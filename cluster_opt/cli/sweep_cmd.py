"""``cluster-opt sweep``: a parameter sweep over solver settings with Ray Tune."""

from __future__ import annotations

import argparse
from pathlib import Path

from cluster_opt.cli.render import console
from cluster_opt.jobs.config import SweepConfig, load_yaml
from cluster_opt.jobs.sweep import run_sweep, setting_label

ORDER = 57
NAME = "sweep"
HELP = "parameter sweep of solver settings on snapshots with Ray Tune; writes the best as a profile"
EXAMPLE = """example:
  cluster-opt sweep --config configs/sweep.yaml --snapshot snap --out runs/sweep
  cluster-opt sweep --config configs/sweep.yaml --snapshot a --snapshot b --ray-address auto --out runs/sweep

Writes DIR/results.csv (one row per trial: settings, seed, score, feasibility, time to the
best, key objectives), DIR/quality_vs_time.svg and DIR/best_profile.yaml (a `solver:`
section for configs/nightly.yaml). Runs on embedded local Ray unless --ray-address is given."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, required=True, help="sweep config YAML (configs/sweep.yaml)")
    p.add_argument(
        "--snapshot", type=Path, action="append", help="snapshot directory (repeatable; overrides)"
    )
    p.add_argument("--time", type=float, help="seconds per trial (overrides time_s)")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--ray-address", help="existing Ray cluster (default: embedded local Ray)")


def run(args: argparse.Namespace) -> int:
    snapshots = [str(s) for s in args.snapshot] if args.snapshot else None
    config = load_yaml(args.config, SweepConfig, snapshots=snapshots, time_s=args.time)
    table = run_sweep(config, args.out, ray_address=args.ray_address)
    out = console()
    summary = (
        table.assign(setting=table.apply(setting_label, axis=1))
        .groupby("setting")[["score", "time_to_best_s"]]
        .mean()
        .sort_values("score")
    )
    out.print(summary.to_string())
    out.print(f"wrote {args.out}/results.csv, quality_vs_time.svg, best_profile.yaml")
    return 0
