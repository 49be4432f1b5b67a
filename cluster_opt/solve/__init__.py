"""Solvers: construction heuristics, repair, local search and annealing, CP-SAT, GA and
NSGA-II behind one interface (:class:`~cluster_opt.solve.base.Solver`)."""

from cluster_opt.solve.base import (
    SOLVERS,
    Archive,
    Deadline,
    Solution,
    Solver,
    SolverSettings,
    register_solver,
)
from cluster_opt.solve.construct import Heuristic, construct, insert, repair

__all__ = [
    "SOLVERS",
    "Archive",
    "Deadline",
    "Heuristic",
    "Solution",
    "Solver",
    "SolverSettings",
    "construct",
    "insert",
    "register_solver",
    "repair",
]
