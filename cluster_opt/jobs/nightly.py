"""The nightly rebalance: optimise the whole cluster from a snapshot, plan safe migration
waves to the result, and write the run's output folder; and its periodic mode, which
re-optimises from the newest snapshot in a folder, warm-started from the previous best,
and writes a new plan only when it pays enough over the previous one."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from cluster_opt.evaluate import Evaluator, Problem, evaluate
from cluster_opt.io import load_snapshot
from cluster_opt.jobs.config import NightlyConfig
from cluster_opt.jobs.manifest import run_manifest, snapshot_hash
from cluster_opt.jobs.outputs import RunOutputs, refuse_existing, write_outputs
from cluster_opt.jobs.search import search
from cluster_opt.model import Cluster
from cluster_opt.plan import build_plan, load_previous
from cluster_opt.solve import construct

EXIT_OK, EXIT_PARTIAL = 0, 3


@dataclass
class NightlyResult:
    out: Path
    exit_code: int
    summary: dict
    assignment: np.ndarray  # int32[V] where the plan ends
    vm_ids: np.ndarray
    host_ids: np.ndarray  # host id per VM at the plan's end ("" = unplaced)
    score: float


def carry_over(cluster: Cluster, vm_ids: np.ndarray, host_ids: np.ndarray) -> np.ndarray:
    """int32[V]: a previous assignment (VM id -> host id) on a new snapshot: VMs and hosts
    matched by id; VMs that are new, or whose host is gone, unplaced. O(V)."""
    x = np.full(cluster.n_vms, -1, dtype=np.int32)
    host_of = dict(zip(vm_ids.tolist(), host_ids.tolist(), strict=True))
    hosts = cluster.host_index
    for v, vm in enumerate(cluster.vms.ids.tolist()):
        h = hosts.get(host_of.get(vm, ""), -1)
        x[v] = h
    return x


def run_nightly(
    config: NightlyConfig,
    out: Path,
    *,
    overwrite: bool = False,
    warm: tuple[np.ndarray, np.ndarray] | None = None,
    cancel: threading.Event | None = None,
) -> NightlyResult:
    """One nightly run on ``config.snapshot`` into ``out``. ``warm``: a previous result's
    (vm ids, host ids), repaired and added to the seeds. Exit code 0 for a complete plan,
    3 when some moves were blocked (the safe prefix is written)."""
    if config.snapshot is None:
        raise ValueError("no snapshot: set 'snapshot' in the config or pass --snapshot")
    refuse_existing(out, overwrite)
    started = time.monotonic()
    cluster = load_snapshot(config.snapshot)
    problem = Problem(cluster, config.evaluation())
    start = carry_over(cluster, *warm) if warm is not None else None
    found = search(problem, config.solver, seed=config.seed, warm=start, cancel=cancel)
    previous = load_previous(config.previous) if config.previous else None
    plan = build_plan(problem, found.best.x, config.plan, previous)
    manifest = run_manifest("nightly", config, config.snapshot, config.seed)
    engine = found.run
    info = {"algorithm": config.solver.algo, "solver_score": found.best.score, "seed": config.seed}
    if found.notes:
        info["solver_notes"] = "; ".join(found.notes)
    if engine:
        info |= {
            "islands": engine["islands"]["started"],
            "islands_lost": engine["islands"]["lost"],
            "islands_restarted": engine["islands"]["restarted"],
            "partitions": engine["partitions"]["count"],
            "migrants_exchanged": engine["migrants_exchanged"],
            "time_to_first_feasible_s": engine["time_to_first_feasible_s"],
            "engine": engine,
        }
    summary = write_outputs(
        out,
        RunOutputs(
            job="nightly",
            cluster=cluster,
            problem=problem,
            plan=plan,
            manifest=manifest,
            duration_s=time.monotonic() - started,
            pareto=found.pareto,
            pareto_chosen=found.pareto_chosen,
            islands=found.islands,
            island_counts=found.counts,
            run_info=info,
        ),
        overwrite=overwrite,
    )
    final = plan.final
    hosts = np.where(final >= 0, cluster.hosts.ids[np.maximum(final, 0)].astype(str), "")
    after = plan.after or evaluate(problem, final)
    return NightlyResult(
        out,
        EXIT_PARTIAL if len(plan.blocked) else EXIT_OK,
        summary,
        final,
        cluster.vms.ids.astype(str),
        hosts,
        after.score,
    )


def newest_snapshot(folder: Path) -> Path:
    """The most recently modified snapshot directory (one holding snapshot.yaml) in
    ``folder``; FileNotFoundError when there is none."""
    found = [p for p in Path(folder).iterdir() if (p / "snapshot.yaml").is_file()]
    if not found:
        raise FileNotFoundError(f"{folder}: no snapshot directory (with snapshot.yaml) in it")
    return max(found, key=lambda p: ((p / "snapshot.yaml").stat().st_mtime, p.name))


def run_periodic(
    config: NightlyConfig,
    out_root: Path,
    *,
    cancel: threading.Event | None = None,
    log: Callable[[str], None] = print,
    sleep: Callable[[float], bool] | None = None,
) -> list[NightlyResult]:
    """Every ``config.periodic.every`` seconds: optimise the newest snapshot in
    ``config.periodic.snapshots`` (warm-started from the previous best) into a scratch
    folder, and keep it as ``out_root/<UTC time>`` only when its score beats the previous
    plan's target on the same snapshot by at least ``min_benefit``. Stops after
    ``max_runs`` runs or on ``cancel``. Returns the kept runs."""
    p = config.periodic
    if p.snapshots is None:
        raise ValueError("periodic mode needs 'periodic.snapshots' (or --snapshots): the folder to watch")
    cancel = cancel or threading.Event()
    wait = sleep or (lambda seconds: cancel.wait(seconds))
    kept: list[NightlyResult] = []
    warm: tuple[np.ndarray, np.ndarray] | None = None
    kept_snapshot = ""  # content hash of the snapshot the last kept plan was made on
    runs = 0
    out_root.mkdir(parents=True, exist_ok=True)
    while not cancel.is_set():
        snapshot = newest_snapshot(p.snapshots)
        digest = snapshot_hash(snapshot)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        run_config = config.model_copy(update={"snapshot": snapshot, "seed": config.seed + runs})
        if kept and digest != kept_snapshot:
            # a new snapshot: the previous plan may have run since, so its cooldown applies (on
            # the same snapshot it has not run, and its cooldown would block its own moves)
            run_config = run_config.model_copy(update={"previous": kept[-1].out})
        scratch = out_root / f".{stamp}.candidate"
        result = run_nightly(run_config, scratch, overwrite=True, warm=warm, cancel=cancel)
        runs += 1
        gain = float("inf")
        if warm is not None:
            cluster = load_snapshot(snapshot)
            problem = Problem(cluster, config.evaluation())
            old = construct.repair(problem, carry_over(cluster, *warm))
            gain = float(Evaluator(problem).batch(old[None]).score[0]) - result.score
        if gain >= p.min_benefit:
            final = out_root / stamp
            scratch.rename(final)
            result.out = final
            kept.append(result)
            kept_snapshot = digest
            warm = (result.vm_ids, result.host_ids)
            log(f"{stamp}: new plan in {final} (gain {gain:.4g} over the previous plan's target)")
        else:
            shutil.rmtree(scratch)
            log(f"{stamp}: no new plan: gain {gain:.4g} below min_benefit {p.min_benefit:g}")
        if p.max_runs is not None and runs >= p.max_runs:
            break
        if wait(p.every):
            break
    return kept
