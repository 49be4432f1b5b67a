"""On-demand migration planning: drain hosts / a rack / a zone, or plan to a given target,
writing the same run folder as the nightly job."""

from __future__ import annotations

import time
from pathlib import Path

from cluster_opt.evaluate import Problem
from cluster_opt.io import load_snapshot, read_assignment
from cluster_opt.jobs.config import MigrationConfig
from cluster_opt.jobs.manifest import run_manifest
from cluster_opt.jobs.outputs import RunOutputs, refuse_existing, write_outputs
from cluster_opt.plan import build_plan, load_previous
from cluster_opt.plan.drain import drained_hosts, plan_drain

EXIT_OK, EXIT_PARTIAL = 0, 3


def run_migration(config: MigrationConfig, out: Path, *, overwrite: bool = False) -> tuple[int, dict]:
    """Plan the requested migration into ``out``; (exit code, plan summary). Exit 3 when the
    drain cannot be completed or moves are blocked (the safe part is written)."""
    if config.snapshot is None:
        raise ValueError("no snapshot: set 'snapshot' in the config or pass --snapshot")
    refuse_existing(out, overwrite)
    started = time.monotonic()
    cluster = load_snapshot(config.snapshot)
    problem = Problem(cluster, config.evaluation())
    previous = load_previous(config.previous) if config.previous else None
    drain = None
    if config.drain is not None:
        d = config.drain
        drained = drained_hosts(cluster, hosts=d.hosts or None, rack=d.rack, zone=d.zone)
        _, plan, drain = plan_drain(problem, drained, config.plan, previous)
        partial = not drain["complete"]
    else:
        assert config.target is not None
        plan = build_plan(problem, read_assignment(config.target, cluster), config.plan, previous)
        partial = len(plan.blocked) > 0
    summary = write_outputs(
        out,
        RunOutputs(
            job="plan",
            cluster=cluster,
            problem=problem,
            plan=plan,
            manifest=run_manifest("plan", config, config.snapshot, config.seed),
            duration_s=time.monotonic() - started,
            drain=drain,
        ),
        overwrite=overwrite,
    )
    return (EXIT_PARTIAL if partial else EXIT_OK), summary
