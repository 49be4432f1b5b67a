"""Running CP-SAT under a :class:`~cluster_opt.solve.base.Deadline`.

The wall-clock limit is the smaller of the caller's slice and the deadline's remaining
time; cancellation (the deadline's event) stops the search from a watcher thread within
``POLL`` seconds, and a solution callback stops it as soon as a solution arrives after the
deadline. With ``deterministic_seconds`` the search is limited by CP-SAT's deterministic
time instead, so that with one worker and a fixed seed it is reproducible (the wall clock
then only cuts it when the deadline itself runs out).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from cluster_opt.solve.base import Deadline

#: Seconds between checks of the cancellation event while CP-SAT runs.
POLL = 0.05
#: For short searches from a hint: presolve keeps every feasible solution (its dual
#: reductions and symmetry breaking otherwise often make the hint infeasible, so the first
#: solution comes late or never), without symmetry detection and probing (seconds on a
#: neighbourhood of a few thousand booleans). Measured on 200-host neighbourhoods: the
#: hint is the first solution after 0.15-0.55 s instead of 0.6-1.8 s or not at all.
HINTED = {"keep_all_feasible_solutions_in_presolve": True, "symmetry_level": 0, "cp_model_probing_level": 0}


@dataclass(frozen=True)
class SearchResult:
    """What one CP-SAT run returned. ``values`` holds every model variable's value (empty
    without a solution); ``objective`` and ``bound`` are in the model's objective units."""

    status: str
    values: np.ndarray
    objective: float
    bound: float
    wall: float

    @property
    def has_solution(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")

    @property
    def optimal(self) -> bool:
        return self.status == "OPTIMAL"

    @property
    def proven(self) -> bool:
        """The search ended with a proof (optimality or infeasibility), not a limit."""
        return self.status in ("OPTIMAL", "INFEASIBLE")


class _StopAfterDeadline(cp_model.CpSolverSolutionCallback):
    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def on_solution_callback(self) -> None:
        if self.deadline.expired():
            self.stop_search()


def run_cpsat(
    model: cp_model.CpModel,
    deadline: Deadline,
    *,
    seconds: float | None = None,
    workers: int = 2,
    seed: int = 0,
    deterministic_seconds: float | None = None,
    log: bool = False,
    parameters: Mapping[str, Any] | None = None,
) -> SearchResult:
    """Solve ``model`` until optimal, ``seconds`` (or ``deterministic_seconds``) pass, or the
    deadline expires or is cancelled; ``parameters`` are further CP-SAT parameters by name.
    Returns immediately when the deadline has expired."""
    limit = deadline.remaining()
    if seconds is not None and deterministic_seconds is None:
        limit = min(limit, seconds)
    if limit <= 0:
        return SearchResult("UNKNOWN", np.zeros(0, dtype=np.int64), float("inf"), float("-inf"), 0.0)
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.num_workers = max(int(workers), 1)
    params.random_seed = int(seed) % (2**31)
    if np.isfinite(limit):
        params.max_time_in_seconds = float(limit)
    if deterministic_seconds is not None:
        params.max_deterministic_time = float(deterministic_seconds)
    params.log_search_progress = bool(log)
    for key, value in (parameters or {}).items():
        setattr(params, key, value)
    finished = threading.Event()

    def watch() -> None:  # keeps stopping: a stop sent just before solve() starts is lost
        while not finished.is_set():
            if deadline.cancelled.wait(POLL) and not finished.is_set():
                solver.stop_search()
                finished.wait(POLL)

    threading.Thread(target=watch, daemon=True).start()
    try:
        status = solver.solve(model, _StopAfterDeadline(deadline))
    finally:
        finished.set()  # the watcher exits within POLL seconds; no need to wait for it
    name = solver.status_name(status)
    if name == "MODEL_INVALID":
        raise RuntimeError(f"CP-SAT rejected the model: {model.validate()}")
    has = name in ("OPTIMAL", "FEASIBLE")
    return SearchResult(
        status=name,
        values=np.asarray(solver.response_proto.solution, dtype=np.int64) if has else np.zeros(0, np.int64),
        objective=float(solver.objective_value) if has else float("inf"),
        bound=float(solver.best_objective_bound),
        wall=float(solver.wall_time),
    )
