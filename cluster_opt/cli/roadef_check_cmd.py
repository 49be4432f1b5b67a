"""``cluster-opt roadef-check``: the exact ROADEF/EURO 2012 verdict and cost of a solution."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from rich.table import Table

from cluster_opt.cli.render import console, print_json
from cluster_opt.evaluate import evaluate
from cluster_opt.roadef.adapter import roadef_problem
from cluster_opt.roadef.checker import COMPONENTS, CheckResult, check
from cluster_opt.roadef.instance import Instance
from cluster_opt.roadef.parse import read_assignment, read_model
from cluster_opt.roadef.terms import COMPONENT_TERMS

ORDER = 70
NAME = "roadef-check"
HELP = "check a ROADEF/EURO 2012 machine reassignment solution exactly: verdict and cost by component"
EXAMPLE = """example:
  cluster-opt roadef-check model_a1_1.txt assignment_a1_1.txt            # initial cost
  cluster-opt roadef-check model_a1_1.txt assignment_a1_1.txt new.txt    # a solution
  cluster-opt roadef-check model_a1_1.txt assignment_a1_1.txt new.txt --terms --json

Reproduces the official checker: capacity (with transient resources), conflict, spread
and dependency, then load, balance, process-move, service-move and machine-move costs, each
already weighted. --terms also scores the solution with the evaluator's ROADEF terms and
says whether they agree. Exit code 0 when the solution is valid, 1 when it is not (or an
input file is malformed: every problem is listed with file, line and field)."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", type=Path, help="model file (model_*.txt)")
    p.add_argument("assignment", type=Path, help="original assignment (assignment_*.txt)")
    p.add_argument("solution", type=Path, nargs="?", help="new assignment to check (default: the original)")
    p.add_argument("--terms", action="store_true", help="also score with the evaluator terms and compare")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


#: The evaluator's weighted cost per checker component, and its verdict.
EvaluatorView = tuple[dict[str, int], bool]


def _evaluator_costs(instance: Instance, x0: np.ndarray, x: np.ndarray) -> EvaluatorView:
    """Weighted evaluator term values per checker component, and the evaluator's verdict."""
    problem = roadef_problem(instance, x0)
    ev = evaluate(problem, x)
    costs = {c: int(ev.values[t] * ev.weights[t]) for c, t in COMPONENT_TERMS.items()}
    return costs, ev.feasible


def print_table(
    args: argparse.Namespace, result: CheckResult, bound: int, terms: EvaluatorView | None
) -> None:
    """Print the checker's components and total (``args.model``, ``args.solution`` or
    ``args.assignment`` name what was checked), the lower bound and gap, the evaluator's
    costs beside them when ``terms`` is given, and the verdict."""
    out = console()
    which = args.solution or f"{args.assignment} (initial)"
    out.print(f"{args.model}: {which}")
    table = Table()
    table.add_column("component")
    table.add_column("cost", justify="right")
    if terms:
        table.add_column("evaluator", justify="right")
    for name in (*COMPONENTS, "total"):
        value = result.total if name == "total" else result.costs[name]
        row = [name.replace("_", " "), f"{value:,}"]
        if terms:
            row.append(f"{sum(terms[0].values()) if name == 'total' else terms[0][name]:,}")
        table.add_row(*row, style="bold" if name == "total" else None)
    out.print(table)
    gap = f", gap {100 * (result.total - bound) / bound:.2f}%" if bound > 0 else ""
    out.print(f"lower bound {bound:,}{gap}")
    if terms:
        agree = terms[0] == result.costs and terms[1] == result.valid
        out.print("evaluator terms agree" if agree else "[red]evaluator terms DISAGREE[/red]")
    if result.valid:
        out.print("[green]valid[/green]")
        return
    counts = ", ".join(f"{n} {c}" for n, c in result.violations.items() if c)
    out.print(f"[red]INVALID[/red]: {result.reason} (violations: {counts}; the cost above is not official)")


def run(args: argparse.Namespace) -> int:
    instance = read_model(args.model)
    x0 = read_assignment(args.assignment, instance)
    x = read_assignment(args.solution, instance) if args.solution else x0
    result = check(instance, x0, x)
    bound = instance.load_lower_bound() + instance.balance_lower_bound()
    terms = _evaluator_costs(instance, x0, x) if args.terms else None
    if args.json:
        obj = {**result.to_json(), "lower_bound": bound}
        if terms:
            obj["evaluator"] = {"costs": terms[0], "valid": terms[1]}
        print_json(obj)
    else:
        print_table(args, result, bound, terms)
    return 0 if result.valid else 1
