"""On-demand migration planning: drain hosts / a rack / a zone, or plan to a given target,
writing the same run folder as the nightly job."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from cluster_opt.evaluate import Problem
from cluster_opt.io import load_snapshot, read_assignment
from cluster_opt.jobs.config import MigrationConfig
from cluster_opt.jobs.manifest import run_manifest
from cluster_opt.jobs.outputs import RunOutputs, refuse_existing, write_outputs
from cluster_opt.jobs.search import SearchOutcome, search
from cluster_opt.model import HostState
from cluster_opt.plan import Plan, build_plan, load_previous
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
    drain, found = None, None
    if config.drain is not None:
        d = config.drain
        drained = drained_hosts(cluster, hosts=d.hosts or None, rack=d.rack, zone=d.zone)
        _, plan, drain = plan_drain(problem, drained, config.plan, previous)
        if config.solver is not None:
            plan, drain, found = refine_drain(problem, drained, plan, drain, config, previous)
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
            pareto=found.pareto if found else None,
            pareto_chosen=found.pareto_chosen if found else None,
            islands=found.islands if found else None,
            island_counts=found.counts if found else None,
            run_info={"solver_notes": "; ".join(found.notes)} if found and found.notes else {},
        ),
        overwrite=overwrite,
    )
    return (EXIT_PARTIAL if partial else EXIT_OK), summary


def refine_drain(
    problem: Problem,
    drained: np.ndarray,
    plan: Plan,
    drain: dict,
    config: MigrationConfig,
    previous: dict | None,
) -> tuple[Plan, dict, SearchOutcome]:
    """Search from the drain's minimal-move plan with the drained hosts closed; keep the
    refined plan when it empties the hosts at least as well and scores lower. Returns
    (plan, drain section, search outcome); the section records which plan was kept."""
    assert config.solver is not None
    c = problem.cluster
    state = c.hosts.state.copy()
    state[drained] = HostState.MAINTENANCE
    closed = Problem(dataclasses.replace(c, hosts=dataclasses.replace(c.hosts, state=state)), problem.config)
    found = search(closed, config.solver, seed=config.seed, warm=plan.final)
    refined = build_plan(problem, found.best.x, config.plan, previous, forbidden=drained)
    left = int(np.isin(refined.final, drained).sum())
    minimal_score = plan.after.score if plan.after else float("inf")
    better = (
        left <= drain["left_on_drained_hosts"]
        and refined.after is not None
        and (refined.after.score < minimal_score)
    )
    drain = {
        **drain,
        "refined": {
            "kept": better,
            "minimal_moves": plan.n_moves,
            "refined_moves": refined.n_moves,
            "minimal_score": minimal_score,
            "refined_score": refined.after.score if refined.after else None,
        },
    }
    if better:
        drain["complete"] = left == 0
        drain["left_on_drained_hosts"] = left
        return refined, drain, found
    return plan, drain, found
