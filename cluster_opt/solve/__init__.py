"""Solvers: construction heuristics, repair, local search and annealing, CP-SAT, GA and
NSGA-II behind one interface (:class:`~cluster_opt.solve.base.Solver`).

Modules: ``construct`` (heuristics, insert, repair), ``delta`` and ``moves`` (delta
evaluation), ``anneal``, ``cpsat``, ``ga``, ``nsga2``; ``run.solve`` picks and runs one.
"""

from cluster_opt.solve.base import (
    SOLVERS,
    Archive,
    Deadline,
    Solution,
    Solver,
    SolverSettings,
    register_solver,
)

__all__ = ["SOLVERS", "Archive", "Deadline", "Solution", "Solver", "SolverSettings", "register_solver"]
