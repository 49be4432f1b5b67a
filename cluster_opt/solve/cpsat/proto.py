"""A thin, array-oriented writer of CP-SAT models.

The ``cp_model`` Python layer creates one Python object per variable and per term, which
costs seconds for the tens of thousands of booleans of an LNS neighbourhood. This writer
fills the model's protocol buffer directly: variables in bulk (one text-format merge),
constraints from numpy index and coefficient arrays. Variables are plain int indices; a
negated literal is ``-index - 1`` as in the CP-SAT protocol.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ortools.sat.python import cp_model

#: "No bound" for linear constraints (CP-SAT's int64 range minus headroom).
INF = 2**62
#: Largest objective magnitude in CP-SAT's integer units (see :meth:`ModelWriter.minimize`).
OBJECTIVE_RANGE = 1e12


class ModelWriter:
    """Builds a :class:`cp_model.CpModel` from index arrays. Each method is O(its terms)."""

    def __init__(self) -> None:
        self.model = cp_model.CpModel()
        self.proto = self.model.proto
        self.n_vars = 0
        self._upper: list[np.ndarray] = []

    def bools(self, n: int) -> np.ndarray:
        """int64[n]: indices of ``n`` new boolean variables."""
        return self.ints(np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64))

    def ints(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """int64[n]: indices of new integer variables with domains [lo[i], hi[i]]."""
        lo = np.asarray(lo, dtype=np.int64)
        hi = np.asarray(hi, dtype=np.int64)
        n = len(lo)
        if n:
            if np.all(lo == lo[0]) and np.all(hi == hi[0]):
                text = f"variables{{domain:{lo[0]} domain:{hi[0]}}}" * n
            else:
                text = "".join(
                    f"variables{{domain:{a} domain:{b}}}"
                    for a, b in zip(lo.tolist(), hi.tolist(), strict=True)
                )
            self.proto.merge_text_format(text)
        first = self.n_vars
        self.n_vars += n
        self._upper.append(np.maximum(np.abs(lo), np.abs(hi)))
        return np.arange(first, first + n, dtype=np.int64)

    def linear(
        self,
        variables: Sequence[int] | np.ndarray,
        coeffs: Sequence[int] | np.ndarray,
        lo: int = -INF,
        hi: int = INF,
        enforce: Sequence[int] = (),
    ) -> None:
        """lo <= sum coeffs[i] * variables[i] <= hi (only when every ``enforce`` literal holds)."""
        c = self.proto.constraints.add()
        if len(enforce):
            c.enforcement_literal.extend([int(e) for e in enforce])
        lin = c.linear
        lin.vars.extend(np.asarray(variables, dtype=np.int64).tolist())
        lin.coeffs.extend(np.asarray(coeffs, dtype=np.int64).tolist())
        lin.domain.extend([int(max(lo, -INF)), int(min(hi, INF))])

    def exactly_one(self, literals: Sequence[int] | np.ndarray) -> None:
        self.proto.constraints.add().exactly_one.literals.extend(
            np.asarray(literals, dtype=np.int64).tolist()
        )

    def equal(self, a: np.ndarray, b: np.ndarray) -> None:
        """a[i] == b[i] for every i (one two-term linear constraint each)."""
        for u, v in zip(np.asarray(a).tolist(), np.asarray(b).tolist(), strict=True):
            self.linear([u, v], [1, -1], 0, 0)

    def minimize(self, variables: np.ndarray, coeffs: np.ndarray, offset: float = 0.0) -> None:
        """Minimise offset + sum coeffs * variables. May be called once.

        CP-SAT objectives are integer: coefficients are multiplied by a power of ten chosen
        so that the largest possible objective is about OBJECTIVE_RANGE units, and rounded
        (error at most half a unit per term); the proto's scaling factor maps the reported
        objective and bound back to the caller's units."""
        variables = np.asarray(variables, dtype=np.int64)
        coeffs = np.asarray(coeffs, dtype=np.float64)
        keep = coeffs != 0
        variables, coeffs = variables[keep], coeffs[keep]
        upper = np.concatenate(self._upper)[variables] if len(variables) else np.zeros(0)
        span = float(np.abs(coeffs * upper).sum()) + abs(offset)
        scale = 10.0 ** np.floor(np.log10(OBJECTIVE_RANGE / span)) if span > 0 else 1.0
        obj = self.proto.objective
        obj.vars.extend(variables.tolist())
        obj.coeffs.extend(np.rint(coeffs * scale).astype(np.int64).tolist())
        obj.offset = float(offset * scale)
        obj.scaling_factor = float(1.0 / scale)

    def hint(self, variables: np.ndarray, values: np.ndarray) -> None:
        """Replace the solution hint by ``variables = values``."""
        self.proto.clear_solution_hint()
        h = self.proto.solution_hint
        h.vars.extend(np.asarray(variables, dtype=np.int64).tolist())
        h.values.extend(np.asarray(values, dtype=np.int64).tolist())
