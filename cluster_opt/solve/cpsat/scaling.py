"""Integer sizes for CP-SAT: demands and capacities scaled per resource to int64.

CP-SAT only takes integer coefficients, while snapshots hold floats. Per resource the
smallest power of ten at which every demand and capacity is an integer (to a relative
1e-12, i.e. decimal data with up to six digits after the point) scales them exactly; then a
model solution is feasible for the evaluator's float capacity check, whose slack (1e-9
relative) is far above the rounding. When no such scale exists, values are rounded at a
scale of about 1e9 per largest capacity, in the direction the caller asks for:

``safe``
    demands up, capacities down (beyond a millionth of a scaled unit): model solutions are
    evaluator-feasible (the model may reject a few exact fits).
``relax``
    demands down, capacities plus the evaluator's slack up: every evaluator-feasible
    assignment is model-feasible, so the model's optimum is a valid lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from cluster_opt.evaluate import Problem
from cluster_opt.evaluate.context import CAPACITY_RTOL

Rounding = Literal["safe", "relax"]

#: Largest scaled capacity when rounding is needed (keeps sums over thousands of VMs in int64).
MAX_SCALED = 1e9
#: Relative distance from an integer below which a scaled value counts as exact.
EXACT_RTOL = 1e-12
MAX_DIGITS = 6


@dataclass(frozen=True)
class IntegerSizes:
    """Scaled sizes: ``demand`` int64[V, R], ``capacity`` int64[H, R], ``scale`` float64[R]
    (integer units per unit of the resource), ``exact`` bool[R] (no rounding was needed)."""

    demand: np.ndarray
    capacity: np.ndarray
    scale: np.ndarray
    exact: np.ndarray


def _exact_scale(values: np.ndarray) -> float | None:
    """The smallest 10^k (k <= MAX_DIGITS) making every value an integer, or None."""
    top = float(np.abs(values).max(initial=0.0))
    for k in range(MAX_DIGITS + 1):
        s = 10.0**k
        if top * s > 2.0**52:
            return None
        a = values * s
        if np.all(np.abs(a - np.rint(a)) <= EXACT_RTOL * np.maximum(np.abs(a), 1.0)):
            return s
    return None


def integer_sizes(problem: Problem, rounding: Rounding = "safe") -> IntegerSizes:
    """The scaled sizes of ``problem`` for ``rounding`` (cached on the problem).
    O((V + H) R) per resource scale tried."""
    cache: dict[str, IntegerSizes] = problem.__dict__.setdefault("_cpsat_integer_sizes", {})
    if rounding not in cache:
        cache[rounding] = _build(problem, rounding)
    return cache[rounding]


def _build(problem: Problem, rounding: Rounding) -> IntegerSizes:
    c = problem.cluster
    dem, cap = c.vms.demand, c.hosts.capacity
    n_res = c.n_resources
    d_int = np.zeros(dem.shape, dtype=np.int64)
    c_int = np.zeros(cap.shape, dtype=np.int64)
    scale = np.ones(n_res)
    exact = np.zeros(n_res, dtype=bool)
    for r in range(n_res):
        values = np.unique(np.concatenate([dem[:, r], cap[:, r]]))
        s = _exact_scale(values)
        if s is not None:
            scale[r], exact[r] = s, True
            d_int[:, r] = np.rint(dem[:, r] * s)
            c_int[:, r] = np.rint(cap[:, r] * s)
            continue
        top = max(float(np.abs(values).max(initial=0.0)), 1e-300)
        s = 10.0 ** np.floor(np.log10(MAX_SCALED / top))
        scale[r] = s
        if rounding == "safe":  # a millionth of a unit is far below the evaluator's slack
            d_int[:, r] = np.maximum(np.ceil(dem[:, r] * s - 1e-6), 0)
            c_int[:, r] = np.maximum(np.floor(cap[:, r] * s + 1e-6), 0)
        else:  # the evaluator's slack is capacity too
            d_int[:, r] = np.maximum(np.floor(dem[:, r] * s), 0)
            slack = CAPACITY_RTOL * np.maximum(cap[:, r], 1.0)
            c_int[:, r] = np.maximum(np.ceil((cap[:, r] + slack) * s), 0)
    return IntegerSizes(d_int, c_int, scale, exact)
