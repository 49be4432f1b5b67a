"""Plan output: ``plan.json``, ``plan.parquet``, the end state and the request as assignment
files, written atomically into one directory; a short human summary. Schema:
docs/plan-format.md.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cluster_opt.evaluate import Evaluation
from cluster_opt.io import write_assignment
from cluster_opt.io.tables import atomic_directory, write_table
from cluster_opt.model import Cluster
from cluster_opt.plan.moves import KIND_NAMES, PLACE, ROLE_NAMES
from cluster_opt.plan.planner import Plan, Unmoved

FORMAT = "cluster-opt-plan"
VERSION = 1
PLAN_JSON, PLAN_PARQUET, TARGET_FILE, REQUESTED_FILE = (
    "plan.json",
    "plan.parquet",
    "target.parquet",
    "requested.parquet",
)


def _host_names(cluster: Cluster, hosts: np.ndarray) -> np.ndarray:
    """Host ids, None for -1."""
    table = np.asarray([*map(str, cluster.hosts.ids), None], dtype=object)
    return table[np.where(hosts >= 0, hosts, len(cluster.hosts.ids))]


def moves_columns(plan: Plan, cluster: Cluster) -> dict[str, list]:
    """One list per column of the moves table (Python values; None for no host); waves
    are numbered from 1. O(M)."""
    return {
        "vm": cluster.vms.ids[plan.vm].astype(str).tolist(),
        "from": _host_names(cluster, plan.src).tolist(),
        "to": _host_names(cluster, plan.dst).tolist(),
        "wave": (plan.wave.astype(np.int64) + 1).tolist(),
        "start_s": plan.start_s.astype(np.float64).tolist(),
        "seconds": plan.seconds.astype(np.float64).tolist(),
        "gbps": plan.gbps.astype(np.float64).tolist(),
        "kind": np.asarray(KIND_NAMES, dtype=object)[plan.kind].tolist(),
        "role": np.asarray(ROLE_NAMES, dtype=object)[plan.role].tolist(),
        "forced": plan.forced.astype(bool).tolist(),
        "benefit": plan.benefit.astype(np.float64).tolist(),
        "reason": list(plan.reason),
    }


def moves_frame(plan: Plan, cluster: Cluster) -> pd.DataFrame:
    """The plan.parquet table: one row per move."""
    return pd.DataFrame(moves_columns(plan, cluster))


def _records(columns: dict[str, list]) -> list[dict[str, Any]]:
    keys = list(columns)
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _unmoved_rows(rows: Unmoved, cluster: Cluster) -> list[dict[str, Any]]:
    return _records(
        {
            "vm": cluster.vms.ids[rows.vm].astype(str).tolist(),
            "from": _host_names(cluster, rows.src).tolist(),
            "to": _host_names(cluster, rows.dst).tolist(),
            "reason": list(rows.reason),
        }
    )


def _evaluation(ev: Evaluation | None) -> dict[str, Any] | None:
    if ev is None:
        return None
    return {
        "feasible": ev.feasible,
        "score": ev.score,
        "objectives": ev.objectives,
        "violations": ev.violations,
    }


def benefit_by_term(plan: Plan) -> dict[str, dict[str, float]]:
    """Per objective term: value before and after the plan, the change, and the weighted
    change (negative = better)."""
    if plan.before is None or plan.after is None:
        return {}
    b, a = plan.before, plan.after
    return {
        name: {
            "before": b.values[name],
            "after": a.values[name],
            "change": a.values[name] - b.values[name],
            "weighted_change": (a.values[name] - b.values[name]) * b.weights[name],
        }
        for name in b.values
        if b.kinds[name] == "objective"
    }


def plan_document(
    plan: Plan,
    cluster: Cluster,
    *,
    command: str = "plan",
    snapshot: str | None = None,
    drain: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The plan.json object. O(M)."""
    kinds = np.bincount(plan.kind, minlength=len(KIND_NAMES))
    summary = {
        "moves": plan.n_moves,
        "migrations": int(kinds[0]),
        "placements": int(kinds[PLACE]),
        "evictions": int(kinds[2]),
        "extra_moves": plan.extra_moves,
        "forced_moves": int(plan.forced.sum()),
        "waves": plan.n_waves,
        "estimated_seconds": plan.total_seconds,
        "complete": plan.complete,
        "blocked": len(plan.blocked),
        "skipped": len(plan.skipped),
        "benefit": float(plan.benefit.sum()),
        "benefit_by_term": benefit_by_term(plan),
        "per_move_term_change": plan.term_change,
        "before": _evaluation(plan.before),
        "after": _evaluation(plan.after),
    }
    waves = [
        {
            "wave": w + 1,
            "start_s": float(plan.wave_start[w]),
            "seconds": float(plan.wave_seconds[w]),
            "moves": int(n),
        }
        for w, n in enumerate(np.bincount(plan.wave, minlength=plan.n_waves))
    ]
    return {
        "format": FORMAT,
        "version": VERSION,
        "command": command,
        "snapshot": snapshot,
        "snapshot_time": cluster.meta.get("time"),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": plan.settings.model_dump(mode="json", by_alias=True),
        "summary": summary,
        "target": {"file": TARGET_FILE, "requested_file": REQUESTED_FILE, "complete": plan.complete},
        "forbidden_hosts": [str(h) for h in cluster.hosts.ids[np.flatnonzero(plan.forbidden)]],
        "drain": drain,
        "waves": waves,
        "moves": _records(moves_columns(plan, cluster)),
        "blocked": _unmoved_rows(plan.blocked, cluster),
        "skipped": _unmoved_rows(plan.skipped, cluster),
    }


def write_plan(
    out: str | Path, plan: Plan, cluster: Cluster, document: dict[str, Any], overwrite: bool = False
) -> Path:
    """Write plan.json, plan.parquet, target.parquet (where the plan ends) and
    requested.parquet (what was asked) into directory ``out``, all or nothing."""
    out = Path(out)
    with atomic_directory(out, overwrite=overwrite) as tmp:
        write_plan_files(tmp, plan, cluster, document)
    return out


def write_plan_files(directory: Path, plan: Plan, cluster: Cluster, document: dict[str, Any]) -> None:
    """The plan files into an existing (temporary) directory: callers that write more
    files beside them (the jobs) own the atomic rename."""
    (directory / PLAN_JSON).write_text(json.dumps(document, indent=1, default=_json_default) + "\n")
    write_table(moves_frame(plan, cluster), directory / PLAN_PARQUET)
    write_assignment(directory / TARGET_FILE, cluster, plan.final)
    write_assignment(directory / REQUESTED_FILE, cluster, plan.requested)


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def load_previous(directory: str | Path) -> dict[str, Any]:
    """The plan.json of a previous run's output directory (for cooldown and stability)."""
    path = Path(directory) / PLAN_JSON
    if not path.is_file():
        raise FileNotFoundError(f"--previous {directory}: no {PLAN_JSON} there")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from None
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a cluster-opt plan (format {data.get('format')!r})")
    return data


def _duration(seconds: float) -> str:
    minutes, sec = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min {sec:02d} s" if hours else f"{minutes} min {sec:02d} s"


def summary_lines(document: dict[str, Any]) -> list[str]:
    """A short human summary of a plan.json object."""
    s = document["summary"]
    lines = [
        f"{s['moves']:,} moves ({s['migrations']:,} migrations, {s['placements']:,} placements, "
        f"{s['evictions']:,} evictions; {s['extra_moves']:,} extra for staging) in {s['waves']:,} waves, "
        f"estimated {_duration(s['estimated_seconds'])}",
    ]
    changes = [
        f"{name} {t['change']:+,.4g}" for name, t in s["benefit_by_term"].items() if abs(t["change"]) > 1e-12
    ]
    if changes:
        lines.append("change: " + ", ".join(changes))
    if s["blocked"]:
        lines.append(f"{s['blocked']:,} VM(s) blocked (cannot move safely), e.g.:")
        lines += [f"  {b['vm']}: {b['from']} -> {b['to']}: {b['reason']}" for b in document["blocked"][:5]]
    if s["skipped"]:
        reasons = pd.Series([r["reason"].split()[0].rstrip(":") for r in document["skipped"]]).value_counts()
        lines.append(
            f"{s['skipped']:,} VM(s) left for later: " + ", ".join(f"{k} {v}" for k, v in reasons.items())
        )
    lines.append("ends in the requested target" if s["complete"] else "does not reach the requested target")
    return lines
