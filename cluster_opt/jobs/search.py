"""The search step every job shares: the distributed engine (``algo: engine``, the
default) or one solver of the library in this process (any other ``algo``), reported in
the shape the run folder needs (islands' progress, the Pareto front, island counts)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cluster_opt.distributed import optimize
from cluster_opt.distributed.engine import SEARCH
from cluster_opt.distributed.outputs import front_table, progress_table
from cluster_opt.evaluate import Problem
from cluster_opt.jobs.config import SolverConfig
from cluster_opt.report import IslandCounts
from cluster_opt.solve import construct
from cluster_opt.solve.base import Solution
from cluster_opt.solve.run import seed_solutions, solve


@dataclass
class SearchOutcome:
    best: Solution
    islands: pd.DataFrame | None  # progress (island, elapsed_s, best_score)
    pareto: pd.DataFrame | None = None  # the front, objectives as columns
    pareto_chosen: int | None = None  # row of the chosen solution in ``pareto``
    counts: IslandCounts | None = None
    run: dict[str, Any] = field(default_factory=dict)  # the engine's run record (run.json)
    notes: list[str] = field(default_factory=list)  # the solvers' notes for the user


def search(
    problem: Problem,
    config: SolverConfig,
    *,
    seed: int,
    warm: np.ndarray | None = None,
    seeds: np.ndarray | None = None,
    cancel: threading.Event | None = None,
) -> SearchOutcome:
    """Run ``config`` on ``problem``. ``warm``: an assignment to start from (repaired
    first): the engine's start, or an extra seed of a single solver. ``seeds``: a single
    solver's seed pool when the caller already has it (default: ``seed_solutions``)."""
    if config.algo == "engine":
        res = optimize(
            problem,
            config.time_s,
            settings=config.engine,
            seed=seed,
            start=warm,
            ray_address=config.ray_address,
            cancel=cancel,
        )
        front = front_table(res)
        isl = res.run["islands"]
        progress = progress_table(res)
        return SearchOutcome(
            res.best,
            progress[progress["island"] != SEARCH].reset_index(drop=True),  # the report adds its own
            front.drop(columns=["solution", "chosen"]),
            int(np.flatnonzero(front["chosen"])[0]),
            IslandCounts(isl["started"], isl["lost"], isl["restarted"]),
            res.run,
            res.run["notes"],
        )
    seeds = seed_solutions(problem) if seeds is None else seeds
    if warm is not None:
        seeds = np.vstack([construct.repair(problem, warm)[None], seeds])
    best, solver = solve(
        problem,
        config.algo,
        seconds=config.time_s,
        seed=seed,
        seeds=seeds,
        settings=config.settings,
        cancel=cancel,
    )
    history = pd.DataFrame(solver.progress.history if solver else [], columns=["elapsed_s", "best_score"])
    history.insert(0, "island", config.algo)
    return SearchOutcome(
        best, history if len(history) else None, notes=solver.progress.notes if solver else []
    )
