"""An independent plan validator: replays a plan wave by wave and reports every broken rule.

It imports nothing from the planner (``cluster_opt.plan``) or the evaluator kernels, only
the data model and the snapshot I/O, so that it can catch the planner's mistakes.
"""

from pathlib import Path

import numpy as np

from cluster_opt.io import read_assignment
from cluster_opt.model import Cluster
from cluster_opt.validate_plan.document import Violation, read_document
from cluster_opt.validate_plan.replay import Report, check_plan


def check_plan_dir(cluster: Cluster, plan: str | Path, target: str | Path | None = None) -> Report:
    """Check a written plan (a directory or its plan.json): the replay must be safe and end
    in the target file the plan names (or ``target`` when given)."""
    doc, folder = read_document(plan)
    stated = Path(target) if target is not None else folder / str((doc.get("target") or {}).get("file", ""))
    final: np.ndarray | None = None
    if stated.is_file():
        final = read_assignment(stated, cluster)
        report = check_plan(cluster, doc, final)
    else:
        report = check_plan(cluster, doc, None)
        report.violations.append(Violation("final-state", f"the stated target file {stated} does not exist"))
    return report


__all__ = ["Report", "Violation", "check_plan", "check_plan_dir", "read_document"]
