"""Writing a ROADEF/EURO 2012 solution file: the machine of every process, 0-based, on one
line (FORMAT.md section 3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cluster_opt.io.tables import write_atomic
from cluster_opt.roadef.instance import Instance


def format_solution(instance: Instance, assignment: np.ndarray) -> str:
    """The official text of an assignment int[P] (validated: shape and machine range). O(P)."""
    x = instance.validate_assignment(assignment, "solution")
    return " ".join(map(str, x.tolist())) + "\n"


def write_solution(path: str | Path, instance: Instance, assignment: np.ndarray) -> None:
    """Write a solution file atomically (a reader never sees half a file). O(P)."""
    text = format_solution(instance, assignment)
    write_atomic(Path(path), lambda tmp: tmp.write_text(text))
