"""``cluster-opt plan``: safe migration waves from the current placement to a target."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cluster_opt.cli.check_plan_cmd import print_report
from cluster_opt.cli.evaluate_cmd import load_config
from cluster_opt.cli.render import console, print_json
from cluster_opt.evaluate import Problem
from cluster_opt.io import load_snapshot, read_assignment
from cluster_opt.model import Cluster
from cluster_opt.plan import (
    Plan,
    build_plan,
    load_previous,
    load_settings,
    plan_document,
    summary_lines,
    write_plan,
)
from cluster_opt.validate_plan import check_plan

ORDER = 60
NAME = "plan"
HELP = "plan safe, ordered migration waves from the current placement to a target assignment"
EXAMPLE = """example:
  cluster-opt plan snap --target best.csv --out plans/tonight
  cluster-opt plan snap --target best.csv --out plans/tonight --window 7200 --max-migrations 2000 \\
      --min-benefit 0.01 --previous plans/last-night --settings plan.yaml

Writes DIR/plan.json (summary and every move with its wave, start, duration and reason),
DIR/plan.parquet (one row per move), DIR/target.parquet (where the plan ends) and
DIR/requested.parquet. Every plan is replayed by the independent validator before it is
written (see cluster-opt check-plan). --settings takes a YAML of concurrency limits, link
budgets, timing and budgets (docs/plan-format.md).
Exit codes: 0 plan written; 1 invalid input or the plan failed validation (nothing
written); 3 some moves cannot be done safely: the safe partial plan is written and the
blocked moves are listed with their reason."""

EXIT_OK, EXIT_INVALID, EXIT_PARTIAL = 0, 1, 3


def add_plan_options(p: argparse.ArgumentParser) -> None:
    """Options shared by ``plan`` and ``drain``."""
    p.add_argument("--out", type=Path, required=True, help="output directory to create")
    p.add_argument("--settings", type=Path, help="plan settings YAML (limits, links, timing, budgets)")
    p.add_argument("--config", type=Path, help="evaluation config YAML (term weights)")
    p.add_argument(
        "--window", type=float, help="maintenance window, seconds: cut the plan at the best prefix"
    )
    p.add_argument("--max-migrations", type=int, help="keep at most this many moves (forced ones first)")
    p.add_argument("--min-benefit", type=float, help="drop moves whose net benefit per move is below this")
    p.add_argument("--previous", type=Path, help="previous run's output directory (cooldown and stability)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--json", action="store_true", help="print the plan summary as JSON")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("snapshot", type=Path, help="snapshot directory")
    p.add_argument("--target", type=Path, required=True, help="target assignment file (vm,host)")
    add_plan_options(p)


def prepare(args: argparse.Namespace) -> tuple[Cluster, Problem, Any, dict | None]:
    """Snapshot, problem, settings and previous plan from the shared options."""
    cluster = load_snapshot(args.snapshot)
    settings = load_settings(
        args.settings,
        window_seconds=args.window,
        max_migrations=args.max_migrations,
        min_benefit_per_move=args.min_benefit,
    )
    previous = load_previous(args.previous) if args.previous else None
    return cluster, Problem(cluster, load_config(args.config)), settings, previous


def finish(args: argparse.Namespace, cluster: Cluster, plan: Plan, doc: dict, partial: bool) -> int:
    """Validate independently, write, print; the exit code."""
    report = check_plan(cluster, doc, plan.final)
    if not report.safe:
        print_report(report, show_all=args.all)
        console(stderr=True).print("[red]the plan failed validation; nothing was written[/red]")
        return EXIT_INVALID
    write_plan(args.out, plan, cluster, doc, overwrite=args.force)
    if args.json:
        print_json({**doc["summary"], "validator": "safe", "out": str(args.out), "drain": doc["drain"]})
    else:
        out = console()
        for line in summary_lines(doc):
            out.print(line)
        out.print(
            f"validator: [green]safe[/green] ({report.moves:,} moves in {report.waves:,} waves replayed)"
        )
        out.print(f"wrote {args.out}/plan.json, plan.parquet, target.parquet, requested.parquet")
    return EXIT_PARTIAL if partial else EXIT_OK


def run(args: argparse.Namespace) -> int:
    cluster, problem, settings, previous = prepare(args)
    target = read_assignment(args.target, cluster)
    plan = build_plan(problem, target, settings, previous)
    doc = plan_document(plan, cluster, command="plan", snapshot=str(args.snapshot))
    return finish(args, cluster, plan, doc, partial=len(plan.blocked) > 0)
