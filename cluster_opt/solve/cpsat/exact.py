"""The ``cpsat`` solver: the whole problem as one CP-SAT model, solved to optimality when it
is small enough.

Every VM that is not pinned is free and every host is in the model (see
:mod:`cluster_opt.solve.cpsat.model`), hinted with the best seed (or a BFD construction).
Energy is exact (``piecewise``) up to ``piecewise_hosts`` hosts and the convex envelope
above. When the model would exceed ``max_pairs`` candidate booleans, each VM keeps only its
cheapest hosts plus its seed and current host, so large inputs still yield a model (the
result is then optimal only for that restriction; :attr:`CpSatSolver.restricted` says so).
``step`` runs CP-SAT for the remaining time of the deadline; ``done`` is set when it proves
optimality (or infeasibility).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from cluster_opt.solve.base import Deadline, Solver, SolverSettings, register_solver
from cluster_opt.solve.construct import construct
from cluster_opt.solve.cpsat.model import Energy, PlacementModel, build_model
from cluster_opt.solve.cpsat.objective import ignored_note
from cluster_opt.solve.cpsat.search import run_cpsat
from cluster_opt.solve.rules import PlacementRules


class CpSatSettings(SolverSettings):
    """Settings shared by the CP-SAT solvers."""

    num_workers: int = Field(default=2, ge=1, description="CP-SAT search workers")
    energy: Literal["auto", "envelope", "piecewise"] = "auto"
    piecewise_hosts: int = Field(default=64, ge=0, description="auto: exact energy up to this many hosts")
    deterministic: bool = Field(default=False, description="limit searches by deterministic time")
    log: bool = False


class ExactSettings(CpSatSettings):
    """Settings of the ``cpsat`` solver."""

    max_pairs: int = Field(default=100_000, ge=1, description="candidate (VM, host) booleans at most")
    min_candidates: int = Field(default=4, ge=1, description="hosts per VM kept when restricting")
    seconds: float | None = Field(default=None, gt=0, description="deterministic time when deterministic")


def energy_mode(setting: str, n_hosts: int, piecewise_hosts: int) -> Energy:
    """``auto``: piecewise (exact) for at most ``piecewise_hosts`` hosts, else envelope."""
    if setting == "auto":
        return "piecewise" if n_hosts <= piecewise_hosts else "envelope"
    return setting  # type: ignore[return-value]


def starting_point(solver: Solver) -> np.ndarray:
    """The best of what the archive holds (the seeds, scored when the solver was made, and
    migrants); a BFD construction when it is empty."""
    if not len(solver.archive):
        solver.evaluate(construct(solver.problem, "bfd")[None, :])
    return solver.best().x.copy()


@register_solver
class CpSatSolver(Solver):
    """Exact CP-SAT model of the whole problem (see the module docstring)."""

    name = "cpsat"
    Settings = ExactSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if len(self.seeds):
            self.evaluate(self.seeds)
        self.model: PlacementModel | None = None
        self.status: str | None = None
        #: The model's proven lower bound on its objective (the evaluator's score without
        #: imbalance); a bound on the problem only when not :attr:`restricted`.
        self.objective_bound: float | None = None
        self.restricted = False
        self.progress.notes += ignored_note(self.name, self.problem)

    def _build(self) -> PlacementModel:
        s = self.settings
        c = self.problem.cluster
        hint = starting_point(self)
        free = np.flatnonzero(~PlacementRules.of(self.problem).pinned)
        hosts = np.arange(c.n_hosts)
        usable = int(c.usable.sum())
        limit = None
        if len(free) * usable > s.max_pairs:
            limit = max(s.min_candidates, s.max_pairs // max(len(free), 1))
            self.restricted = limit < usable
        energy = energy_mode(s.energy, usable, s.piecewise_hosts)
        return build_model(self.problem, free, hosts, hint, limit=limit, energy=energy, hint=hint)

    def step(self, deadline: Deadline) -> None:
        if deadline.expired():
            return
        if self.model is None:
            self.model = self._build()
        else:
            self.model.set_hint(self.best().x)
        s = self.settings
        res = run_cpsat(
            self.model.writer.model,
            deadline,
            workers=s.num_workers,
            seed=self.seed,
            deterministic_seconds=s.seconds if s.deterministic else None,
            log=s.log,
        )
        self.progress.steps += 1
        self.status = res.status
        if res.has_solution:
            self.evaluate(self.model.decode(res.values)[None, :])
        if np.isfinite(res.bound):
            self.objective_bound = res.bound - self.model.watts_rounding
        self.done = res.proven or (s.deterministic and s.seconds is not None)
