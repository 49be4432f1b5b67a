"""``cluster-opt migrate``: the migration-planning job from a config (a drain or a target),
writing the full run folder (plan, evaluation, report, metrics, manifest)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cluster_opt.cli.render import console, plan_line
from cluster_opt.jobs.config import MigrationConfig, load_yaml
from cluster_opt.jobs.migration import run_migration

ORDER = 55
NAME = "migrate"
HELP = "migration-planning job from a config: drain hosts/rack/zone or plan to a target, with report"
EXAMPLE = """example:
  cluster-opt migrate --config configs/migration.yaml --snapshot snap --out runs/drain-r001

The config names a drain (hosts, rack or zone) or a target assignment, the objective profile
and the planner limits (configs/migration.yaml). For one-off plans without a config see
`cluster-opt drain` and `cluster-opt plan`. Exit codes: 0 complete plan; 1 invalid input
(nothing written); 3 the drain cannot be completed or moves are blocked: the safe part is
written with the reasons."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", type=Path, required=True, help="migration config YAML (configs/migration.yaml)"
    )
    p.add_argument("--snapshot", type=Path, help="snapshot directory (overrides the config)")
    p.add_argument("--out", type=Path, required=True, help="run folder to create")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")


def run(args: argparse.Namespace) -> int:
    config = load_yaml(args.config, MigrationConfig, snapshot=str(args.snapshot) if args.snapshot else None)
    code, s = run_migration(config, args.out, overwrite=args.force)
    out = console()
    out.print(plan_line(s))
    out.print(f"report: {(args.out / 'report.html').resolve()}")
    return code
