"""The output folder of ``cluster-opt optimize``, written atomically (all files or none)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from cluster_opt.distributed.engine import EngineResult
from cluster_opt.evaluate import Problem, evaluate
from cluster_opt.io import write_assignment
from cluster_opt.io.tables import atomic_directory


def front_table(result: EngineResult) -> pd.DataFrame:
    """One row per front solution: its objective values, weighted score and whether it is
    the chosen one (sorted by score)."""
    fr = result.front
    table = pd.DataFrame(fr.values, columns=list(fr.objectives))
    table.insert(0, "solution", np.arange(len(table)))
    table["score"] = fr.scores
    table["chosen"] = table["solution"] == fr.chosen
    return table.sort_values("score", kind="stable").reset_index(drop=True)


def progress_table(result: EngineResult) -> pd.DataFrame:
    """Each island's objective (sum over partitions of the best it has seen) over time."""
    return pd.DataFrame(result.history, columns=["island", "elapsed_s", "best_score"])


def write_engine_outputs(
    out: Path, problem: Problem, result: EngineResult, *, overwrite: bool = False
) -> None:
    """assignment.csv, evaluation.json, front.csv, run.json and progress.csv into ``out``."""
    evaluation = evaluate(problem, result.best.x)
    with atomic_directory(out, overwrite=overwrite) as tmp:
        write_assignment(tmp / "assignment.csv", problem.cluster, result.best.x)
        (tmp / "evaluation.json").write_text(json.dumps(evaluation.to_json(), indent=2) + "\n")
        front_table(result).to_csv(tmp / "front.csv", index=False)
        (tmp / "run.json").write_text(json.dumps(result.run, indent=2, default=_plain) + "\n")
        progress_table(result).to_csv(tmp / "progress.csv", index=False)


def _plain(value: object) -> object:
    """JSON for numpy scalars and arrays in the run record."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
