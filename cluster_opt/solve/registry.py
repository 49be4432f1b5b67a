"""Every solver, registered by importing its module (``SOLVERS`` name -> class)."""

from __future__ import annotations

import importlib

from cluster_opt.solve.base import SOLVERS, Solver

#: Modules whose import registers a solver.
MODULES = (
    "cluster_opt.solve.anneal",
    "cluster_opt.solve.reduce",
    "cluster_opt.solve.cpsat.exact",
    "cluster_opt.solve.cpsat.lns",
    "cluster_opt.solve.ga",
    "cluster_opt.solve.nsga2",
)


def solvers() -> dict[str, type[Solver]]:
    """name -> Solver class for every general solver of the library (solvers registered
    elsewhere for special problems, such as ROADEF's, are left out)."""
    for module in MODULES:
        importlib.import_module(module)
    return {name: cls for name, cls in SOLVERS.items() if cls.__module__ in MODULES}
