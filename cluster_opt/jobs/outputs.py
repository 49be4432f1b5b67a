"""The output folder every job writes, all or nothing: plan.json / plan.parquet (and the
plan's target files), the chosen assignment, evaluation.json (before and after, with lower
bounds), report.html, metrics.prom and manifest.json."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cluster_opt.evaluate import Problem, evaluate
from cluster_opt.io import write_assignment
from cluster_opt.io.tables import atomic_directory
from cluster_opt.model import Cluster
from cluster_opt.plan import Plan, plan_document, write_plan_files
from cluster_opt.plan.output import moves_frame
from cluster_opt.report import IslandCounts, PlanSummary, ReportData, write_metrics, write_report
from cluster_opt.validate_plan import check_plan


class UnsafePlanError(RuntimeError):
    """The independent validator rejected a plan; nothing was written."""


@dataclass
class RunOutputs:
    """What a job hands to :func:`write_outputs`."""

    job: str  # nightly | plan | sweep
    cluster: Cluster
    problem: Problem
    plan: Plan
    manifest: dict[str, Any]
    duration_s: float
    drain: dict[str, Any] | None = None
    pareto: pd.DataFrame | None = None
    pareto_chosen: int | None = None
    islands: pd.DataFrame | None = None
    island_counts: IslandCounts | None = None
    run_info: dict[str, Any] = field(default_factory=dict)


def write_outputs(out: Path, run: RunOutputs, overwrite: bool = False) -> dict[str, Any]:
    """Validate the plan independently, then write every output file into ``out``
    atomically; returns the plan document's summary. Raises UnsafePlanError (and writes
    nothing) when the validator finds a violation."""
    c = run.cluster
    doc = plan_document(run.plan, c, command=run.job, snapshot=run.manifest.get("snapshot"), drain=run.drain)
    report = check_plan(c, doc, run.plan.final)
    if not report.safe:
        first = "; ".join(str(v) for v in report.violations[:5])
        raise UnsafePlanError(
            f"the plan failed independent validation ({len(report.violations)} violations): {first}"
        )
    before = run.plan.before or evaluate(run.problem, c.current_assignment())
    after = run.plan.after or evaluate(run.problem, run.plan.final)
    moves = moves_frame(run.plan, c)
    with atomic_directory(out, overwrite=overwrite) as tmp:
        write_plan_files(tmp, run.plan, c, doc)
        write_assignment(tmp / "assignment.csv", c, run.plan.final)
        evaluation = {"before": before.to_json(), "after": after.to_json()}
        (tmp / "evaluation.json").write_text(json.dumps(evaluation, indent=2) + "\n")
        manifest = {**run.manifest, "duration_s": run.duration_s, "validator": "safe", **run.run_info}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=_plain) + "\n")
        write_metrics(
            tmp / "metrics.prom",
            duration_s=run.duration_s,
            evaluation=after,
            before=before,
            plan_summary=PlanSummary.from_moves(moves),  # zeros for an empty plan, not no series
            islands=run.island_counts,
            job=run.job,
        )
        write_report(
            tmp / "report.html",
            ReportData(
                title=f"cluster-opt {run.job}: {run.manifest.get('snapshot', '')}",
                snapshot=run.manifest.get("snapshot"),
                cluster=c,
                before=c.current_assignment(),
                after=run.plan.final,
                evaluation_before=before,
                evaluation_after=after,
                pareto=run.pareto,
                pareto_chosen=run.pareto_chosen,
                moves=moves if len(moves) else None,
                islands=run.islands,
                island_counts=run.island_counts,
                duration_s=run.duration_s,
                run_info={k: v for k, v in run.run_info.items() if isinstance(v, str | int | float)},
            ),
        )
    return doc["summary"]


def refuse_existing(out: Path, overwrite: bool) -> None:
    """Fail before any work (not after the search) when ``out`` exists and may not be
    replaced."""
    if Path(out).exists() and not overwrite:
        raise FileExistsError(f"{out} exists; choose another --out or pass --force")


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
