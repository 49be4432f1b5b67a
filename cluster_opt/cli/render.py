"""Terminal output: issues and evaluations as rich tables, JSON for machines."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from cluster_opt.evaluate import Evaluation
from cluster_opt.io import Issue

#: Issues shown before the rest is summarised (``--all`` shows every one).
ISSUE_LIMIT = 200


def console(stderr: bool = False) -> Console:
    """A console; when the output is not a terminal (a pipe, a file, CI logs) lines are
    not cut at 80 columns."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, highlight=False, width=None if stream.isatty() else 200)


def print_issues(issues: list[Issue], show_all: bool = False, out: Console | None = None) -> None:
    """One table of every problem: file, row, id, column, reason."""
    out = out or console(stderr=True)
    shown = issues if show_all else issues[:ISSUE_LIMIT]
    table = Table(title=f"{len(issues)} problem(s) found", title_justify="left")
    for name in ("file", "row", "id", "column", "problem"):
        table.add_column(name, overflow="fold")
    for i in shown:
        table.add_row(i.file, "" if i.row is None else str(i.row), i.row_id or "", i.column or "", i.reason)
    out.print(table)
    if len(shown) < len(issues):
        out.print(f"... and {len(issues) - len(shown)} more; run with --all to list every one")


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.1f}"


def print_evaluation(ev: Evaluation, out: Console | None = None, title: str = "evaluation") -> None:
    """Every term with its weight, value, lower bound and gap; constraints first."""
    out = out or console()
    table = Table(title=title, title_justify="left")
    for name, justify in (
        ("term", "left"),
        ("kind", "left"),
        ("weight", "right"),
        ("value", "right"),
        ("unit", "left"),
        ("lower bound", "right"),
        ("gap", "right"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    gaps = ev.gaps
    for kind in ("constraint", "objective"):
        for name, value in ev.values.items():
            if ev.kinds[name] != kind:
                continue
            label = (
                "hard" if ev.hard[name] and ev.weights[name] > 0 else kind if ev.weights[name] > 0 else "off"
            )
            style = "red" if kind == "constraint" and value > 0 and label == "hard" else None
            gap = gaps.get(name)
            table.add_row(
                name,
                label,
                _fmt(ev.weights[name]),
                _fmt(value),
                ev.units[name],
                _fmt(ev.lower_bounds.get(name)),
                "-" if gap is None else f"{100 * gap:.1f}%",
                style=style,
            )
    out.print(table)
    verdict = "[green]feasible[/green]" if ev.feasible else "[red]INFEASIBLE[/red]"
    out.print(f"{verdict}  score {ev.score:,.4f} (penalty {ev.penalty:,.4f})")
    for name, facts in ev.details.items():
        out.print(f"  {name}: {json.dumps(facts)}")


def print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, sort_keys=False, default=float))


def plan_line(summary: dict) -> str:
    """One line on a written plan: moves, waves, estimated time, what was held back."""
    return (
        f"plan: {summary['moves']:,} moves in {summary['waves']:,} waves, "
        f"estimated {summary['estimated_seconds'] / 60:.1f} min; complete: {summary['complete']}; "
        f"blocked {summary['blocked']}, skipped {summary['skipped']}; validator: safe"
    )
