"""``metrics.prom``: one Prometheus text file per run, for node_exporter's textfile collector
(or any scraper of text files).

Every sample carries ``job_kind`` (nightly, plan, sweep). It is not called ``job`` because
Prometheus sets its own ``job`` label on every scraped target and would rename ours to
``exported_job``. Names and meanings are listed in docs/report.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

from cluster_opt.evaluate import Evaluation
from cluster_opt.report.data import IslandCounts, PlanSummary

PREFIX = "cluster_opt"


def metrics_registry(
    *,
    duration_s: float,
    evaluation: Evaluation | None,
    before: Evaluation | None = None,
    plan_summary: PlanSummary | None = None,
    islands: IslandCounts | None = None,
    job: str = "nightly",
    timestamp: float | None = None,
) -> CollectorRegistry:
    """A registry holding the run's gauges; what is not given is not exported."""
    registry = CollectorRegistry()

    def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(f"{PREFIX}_{name}", doc, ("job_kind", *labels), registry=registry)

    gauge("run_duration_seconds", "Wall-clock duration of the run.").labels(job).set(duration_s)
    gauge("run_completed_timestamp_seconds", "Unix time at which the run finished.").labels(job).set(
        time.time() if timestamp is None else timestamp
    )
    if evaluation is not None:
        _evaluation_gauges(gauge, job, evaluation, before)
    if plan_summary is not None:
        gauge("plan_migrations", "VMs moved by the plan.").labels(job).set(plan_summary.migrations)
        gauge("plan_waves", "Waves of the migration plan.").labels(job).set(plan_summary.waves)
        if plan_summary.moved_gb is not None:
            gauge("plan_moved_gigabytes", "Memory of the migrated VMs (GB).").labels(job).set(
                plan_summary.moved_gb
            )
        if plan_summary.duration_s is not None:
            gauge("plan_duration_seconds", "Estimated time to execute every wave of the plan.").labels(
                job
            ).set(plan_summary.duration_s)
    if islands is not None:
        for field, doc in (
            ("started", "Islands (search actors) started."),
            ("lost", "Islands lost (actor died) during the run."),
            ("restarted", "Islands restarted after a loss."),
        ):
            gauge(f"islands_{field}", doc).labels(job).set(getattr(islands, field))
    return registry


def _evaluation_gauges(
    gauge: Callable[..., Gauge], job: str, ev: Evaluation, before: Evaluation | None
) -> None:
    """Per-term values, bounds and gaps, the score and feasibility."""
    term = ("term", "kind", "unit")
    value = gauge("term_value", "Value of each objective or constraint term for the chosen placement.", term)
    for name, v in ev.values.items():
        value.labels(job, name, ev.kinds[name], ev.units.get(name, "")).set(v)
    if before is not None:
        old = gauge("term_value_before", "Value of each term for the placement before the run.", term)
        for name, v in before.values.items():
            old.labels(job, name, before.kinds[name], before.units.get(name, "")).set(v)
        gauge("score_before", "Weighted score of the placement before the run.").labels(job).set(before.score)
    bound = gauge("term_lower_bound", "Lower bound of each objective term with one.", ("term",))
    for name, lb in ev.lower_bounds.items():
        bound.labels(job, name).set(lb)
    gap = gauge(
        "term_gap_ratio", "(value - lower bound) / lower bound, where the bound is positive.", ("term",)
    )
    for name, g in ev.gaps.items():
        if g is not None:
            gap.labels(job, name).set(g)
    gauge("score", "Weighted score of the chosen placement (lower is better).").labels(job).set(ev.score)
    gauge("feasible", "1 if the chosen placement violates no hard constraint, else 0.").labels(job).set(
        float(ev.feasible)
    )


def write_metrics(
    path: str | Path,
    *,
    duration_s: float,
    evaluation: Evaluation | None,
    before: Evaluation | None = None,
    plan_summary: PlanSummary | None = None,
    islands: IslandCounts | None = None,
    job: str = "nightly",
    timestamp: float | None = None,
) -> Path:
    """Write the run's metrics in the Prometheus text format (atomically) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    registry = metrics_registry(
        duration_s=duration_s,
        evaluation=evaluation,
        before=before,
        plan_summary=plan_summary,
        islands=islands,
        job=job,
        timestamp=timestamp,
    )
    write_to_textfile(str(path), registry)
    return path
