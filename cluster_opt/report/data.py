"""What the run report shows: one container, every part optional.

A job fills in what it has; a partial run (no Pareto front, no plan yet, no islands) still
yields a page in which the missing sections say what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cluster_opt.evaluate import Evaluation
from cluster_opt.model import Cluster

#: Columns the migration-wave table must have: wave number, start of the move (seconds
#: after the plan starts), its estimated duration in seconds, and the VM (id or index).
MOVE_COLUMNS: tuple[str, ...] = ("wave", "start_s", "seconds", "vm")
#: Columns of the islands' progress table: one row per report of an island's best score.
ISLAND_COLUMNS: tuple[str, ...] = ("island", "elapsed_s", "best_score")


@dataclass(frozen=True)
class IslandCounts:
    """How the search's islands fared: started, lost (actor died) and restarted."""

    started: int = 0
    lost: int = 0
    restarted: int = 0


@dataclass(frozen=True)
class PlanSummary:
    """The size of a migration plan: moves, waves, memory moved and estimated duration."""

    migrations: int
    waves: int
    moved_gb: float | None = None
    duration_s: float | None = None

    @classmethod
    def from_moves(cls, moves: pd.DataFrame) -> PlanSummary:
        """Summarise a move table with :data:`MOVE_COLUMNS` (and ``mem_gb`` if present). O(M)."""
        check_columns(moves, MOVE_COLUMNS, "moves")
        if moves.empty:
            return cls(migrations=0, waves=0, moved_gb=0.0, duration_s=0.0)
        end = (moves["start_s"] + moves["seconds"]).max() - moves["start_s"].min()
        gb = float(moves["mem_gb"].sum()) if "mem_gb" in moves.columns else None
        return cls(
            migrations=len(moves), waves=int(moves["wave"].nunique()), moved_gb=gb, duration_s=float(end)
        )


def check_columns(frame: pd.DataFrame, required: tuple[str, ...], name: str) -> None:
    """Raise ``ValueError`` naming the table and the missing columns."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; have {list(frame.columns)}")


@dataclass
class ReportData:
    """Everything ``report.html`` can show. Every field is optional.

    - ``cluster`` with ``before`` / ``after`` (int32[V] host per VM, -1 = unplaced): the
      per-rack utilisation heat maps. ``before`` defaults to the snapshot's placement.
    - ``evaluation_before`` / ``evaluation_after``: the table of objective terms.
    - ``pareto``: one row per solution, one numeric column per objective (or the columns
      named in ``pareto_objectives``); ``pareto_chosen`` is the position of the chosen row.
    - ``moves``: one row per migration with :data:`MOVE_COLUMNS`.
    - ``islands``: the islands' progress with :data:`ISLAND_COLUMNS`; ``island_counts``.
    - ``run_info``: free-form facts shown in the "Run" table (seed, config, versions, ...).
    """

    title: str = "cluster-opt run report"
    snapshot: str | None = None
    cluster: Cluster | None = None
    before: np.ndarray | None = None
    after: np.ndarray | None = None
    evaluation_before: Evaluation | None = None
    evaluation_after: Evaluation | None = None
    pareto: pd.DataFrame | None = None
    pareto_chosen: int | None = None
    pareto_objectives: list[str] | None = None
    moves: pd.DataFrame | None = None
    islands: pd.DataFrame | None = None
    island_counts: IslandCounts | None = None
    duration_s: float | None = None
    run_info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("before", "after"):
            x = getattr(self, name)
            if x is None:
                continue
            if self.cluster is None:
                raise ValueError(f"{name}: an assignment needs the cluster it refers to")
            if np.shape(x) != (self.cluster.n_vms,):
                raise ValueError(f"{name}: shape {np.shape(x)}, expected ({self.cluster.n_vms},)")
        if self.moves is not None:
            check_columns(self.moves, MOVE_COLUMNS, "moves")
        if self.islands is not None:
            check_columns(self.islands, ISLAND_COLUMNS, "islands")
        if self.pareto is not None:
            if self.pareto_objectives is not None:
                check_columns(self.pareto, tuple(self.pareto_objectives), "pareto")
            if self.pareto_chosen is not None and not 0 <= self.pareto_chosen < len(self.pareto):
                raise ValueError(
                    f"pareto_chosen: {self.pareto_chosen} is not a row of the {len(self.pareto)}"
                )

    @property
    def before_assignment(self) -> np.ndarray | None:
        """The placement before the run: ``before``, else the snapshot's current placement."""
        if self.before is not None:
            return np.asarray(self.before)
        return self.cluster.current_assignment() if self.cluster is not None else None

    @property
    def plan_summary(self) -> PlanSummary | None:
        return PlanSummary.from_moves(self.moves) if self.moves is not None else None
