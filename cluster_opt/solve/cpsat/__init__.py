"""OR-Tools CP-SAT used three ways: the exact model of small problems (solver ``cpsat``),
large-neighbourhood search on big ones (solver ``lns``), and lower bounds on powered hosts
and energy. Importing this package registers both solvers."""

from cluster_opt.solve.cpsat.exact import CpSatSettings, CpSatSolver, ExactSettings
from cluster_opt.solve.cpsat.lns import LnsSettings, LnsSolver

__all__ = ["CpSatSettings", "CpSatSolver", "ExactSettings", "LnsSettings", "LnsSolver"]
