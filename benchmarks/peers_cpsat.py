"""CP-SAT alone as a peer: our exact model of the whole problem (cluster_opt/solve/cpsat) with
CP-SAT's own search, no hint and no seed, run in a child process under a memory cap.

Building counts against the time budget (as our solver's seeding does). The child reports
each phase to the parent, so a model that does not build (out of memory, over time) or finds
nothing in time is reported as exactly that, with its size. The full model has one boolean
per (VM, usable host) pair that fits; ``restricted`` keeps the ``cpsat`` solver's candidate
limit (its ``max_pairs`` booleans: each VM's cheapest hosts by our cost score plus its
current host), still without a hint.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cluster_opt.evaluate import Problem
from cluster_opt.solve.base import Deadline
from cluster_opt.solve.cpsat.candidates import candidate_pairs
from cluster_opt.solve.cpsat.exact import ExactSettings, energy_mode
from cluster_opt.solve.cpsat.model import build_model
from cluster_opt.solve.cpsat.objective import LinearObjective
from cluster_opt.solve.cpsat.scaling import integer_sizes
from cluster_opt.solve.cpsat.search import run_cpsat
from cluster_opt.solve.rules import PlacementRules

#: Address-space cap of the CP-SAT child (GiB): the machine (23 GiB) is shared.
MEMORY_GIB = 10.0
#: VMs sampled to estimate the full model's pair count on large problems.
SAMPLE_VMS = 2000


def peak_rss_gib() -> float:
    """Peak resident memory of this process (GiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def child_peak_gib(pid: int) -> float | None:
    """Peak resident memory (VmHWM) of a running process (GiB); None when unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        return None
    return None


def full_model_pairs(problem: Problem, rng: np.random.Generator) -> tuple[int, bool]:
    """(candidate booleans of the full model, exact?): every free VM x every usable host it
    fits, counted exactly up to SAMPLE_VMS free VMs, else extrapolated from a random sample of
    them (affinity groups split by the sample are counted per member). O(n H R)."""
    rules = PlacementRules.of(problem)
    sizes = integer_sizes(problem, "safe")
    free = np.flatnonzero(~rules.pinned)
    x_fixed = np.full(problem.cluster.n_vms, -1, dtype=np.int32)
    x_fixed[rules.pinned] = rules.current[rules.pinned]
    load = np.zeros_like(sizes.capacity)
    np.add.at(load, x_fixed[rules.pinned], sizes.demand[rules.pinned])
    room = np.maximum(sizes.capacity - load, 0)
    exact = len(free) <= SAMPLE_VMS
    chosen = free if exact else np.sort(rng.choice(free, SAMPLE_VMS, replace=False))
    hosts = np.arange(problem.cluster.n_hosts)
    pairs = candidate_pairs(problem, LinearObjective.of(problem), chosen, hosts, x_fixed, room, sizes.demand)
    return (len(pairs) if exact else round(len(pairs) * len(free) / len(chosen))), exact


def solve_generated(problem: Problem, seconds: float, seed: int, restricted: bool, report: Callable) -> dict:
    """Child body: build the model (no hint), run CP-SAT for what is left of ``seconds``."""
    deadline = Deadline(seconds)
    c = problem.cluster
    free = np.flatnonzero(~PlacementRules.of(problem).pinned)
    usable = int(c.usable.sum())
    limit = None
    settings = ExactSettings()
    if restricted and len(free) * usable > settings.max_pairs:
        limit = max(settings.min_candidates, settings.max_pairs // max(len(free), 1))
    model = build_model(
        problem,
        free,
        np.arange(c.n_hosts),
        c.vms.current,
        limit=limit,
        energy=energy_mode(settings.energy, usable, settings.piecewise_hosts),
        hint=None,
    )
    built = {"build_s": deadline.elapsed(), "variables": model.n_variables, "pairs": len(model.pairs)}
    report("built", built)
    res = run_cpsat(model.writer.model, deadline, workers=settings.num_workers, seed=seed)
    x = model.decode(res.values) if res.has_solution else None
    return {**built, "status": res.status, "x": x, "bound": res.bound, "elapsed": deadline.elapsed()}


def _child(conn: Any, body: Callable, args: tuple, memory_gib: float) -> None:
    limit = int(memory_gib * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    def report(phase: str, info: dict) -> None:
        conn.send((phase, {**info, "peak_gib": peak_rss_gib()}))

    try:
        report("started", {})
        report("done", body(*args, report=report))
    except MemoryError:
        report("error", {"error": f"MemoryError (address space capped at {memory_gib:g} GiB)"})
    except Exception as exc:  # reported, not raised: the benchmark goes on with the next peer
        report("error", {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()})
    finally:
        conn.close()


def run_capped(body: Callable, args: tuple, seconds: float, memory_gib: float = MEMORY_GIB) -> dict:
    """Run ``body(*args, report=...)`` in a spawned process with an address-space cap; wait
    for ``seconds`` plus a grace of max(30 s, seconds / 2), then kill it. Returns the last
    phase's information, with ``outcome`` (done / error / killed / crashed), ``phase`` and
    ``wall`` (seconds, parent clock)."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, body, args, memory_gib), daemon=True)
    start = time.monotonic()
    proc.start()
    child.close()
    info: dict = {"phase": "spawning"}
    wait_until = start + seconds + max(30.0, seconds / 2)
    outcome = None
    while outcome is None:
        peak = child_peak_gib(proc.pid)
        if peak is not None:
            info["peak_gib"] = max(peak, info.get("peak_gib", 0.0))
        left = wait_until - time.monotonic()
        if left <= 0:
            proc.kill()
            outcome = "killed"
        elif parent.poll(min(left, 1.0)):
            try:
                phase, data = parent.recv()
            except EOFError:
                outcome = "crashed"
                continue
            info = {
                **info,
                **data,
                "phase": phase,
                "peak_gib": max(data["peak_gib"], info.get("peak_gib", 0)),
            }
            if phase in ("done", "error"):
                outcome = phase
        elif not proc.is_alive() and not parent.poll():
            outcome = "crashed"
    proc.join(5)
    info["wall"] = time.monotonic() - start
    info["outcome"] = outcome
    if outcome == "crashed":
        info["error"] = f"child exited with code {proc.exitcode} during phase {info['phase']!r}"
    return info
