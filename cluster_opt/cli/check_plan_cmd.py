"""``cluster-opt check-plan``: replay a plan with the independent validator."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from cluster_opt.cli.render import ISSUE_LIMIT, console, print_json
from cluster_opt.io import load_snapshot
from cluster_opt.validate_plan import Report, check_plan_dir

ORDER = 62
NAME = "check-plan"
HELP = "replay a migration plan wave by wave and report every broken safety rule"
EXAMPLE = """example:
  cluster-opt check-plan snap out/plan                 # a plan directory (or its plan.json)
  cluster-opt check-plan snap out/plan --target want.csv --json

The plan is replayed from the snapshot's current placement by code that shares nothing with
the planner. Each violation names its rule, wave and move (rules: docs/plan-format.md).
Exit code 0 when the plan is safe and ends in its stated target (target.parquet beside
plan.json, or --target), 1 otherwise."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("snapshot", type=Path, help="snapshot directory the plan was made for")
    p.add_argument("plan", type=Path, help="plan directory or plan.json")
    p.add_argument(
        "--target", type=Path, help="assignment the plan must end in (default: its target.parquet)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def print_report(report: Report, show_all: bool = False) -> None:
    """The verdict and a table of violations (rule, wave, move, detail)."""
    out = console()
    if report.safe:
        out.print(
            f"[green]safe[/green]: {report.moves:,} moves in {report.waves:,} waves replayed, no violation"
        )
        return
    shown = report.violations if show_all else report.violations[:ISSUE_LIMIT]
    table = Table(title=f"{len(report.violations)} violation(s)", title_justify="left")
    for name in ("rule", "wave", "vm", "from", "to", "detail"):
        table.add_column(name, overflow="fold")
    for v in shown:
        table.add_row(
            v.rule, "" if v.wave is None else str(v.wave), v.vm or "", v.src or "", v.dst or "", v.detail
        )
    out.print(table)
    if len(shown) < len(report.violations):
        out.print(f"... and {len(report.violations) - len(shown)} more; run with --all to list every one")
    counts = ", ".join(f"{rule} {n}" for rule, n in report.by_rule().items())
    out.print(f"[red]UNSAFE[/red]: {counts}")


def run(args: argparse.Namespace) -> int:
    cluster = load_snapshot(args.snapshot)
    report = check_plan_dir(cluster, args.plan, args.target)
    if args.json:
        print_json(
            {
                "safe": report.safe,
                "moves": report.moves,
                "waves": report.waves,
                "by_rule": report.by_rule(),
                "violations": [vars(v) for v in report.violations],
            }
        )
    else:
        print_report(report, show_all=args.all)
    return 0 if report.safe else 1
