"""Reading a plan.json object into arrays, with every unreadable part reported.

This module, like the whole package, shares nothing with the planner but the data model
and the snapshot I/O: it reads the documented format (docs/plan-format.md) on its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cluster_opt.model import Cluster

FORMAT = "cluster-opt-plan"
VERSION = 1


@dataclass(frozen=True)
class Violation:
    """One broken rule: where (wave, 1-based; the move) and why."""

    rule: str
    detail: str
    wave: int | None = None
    vm: str | None = None
    src: str | None = None
    dst: str | None = None

    def __str__(self) -> str:
        where = [] if self.wave is None else [f"wave {self.wave}"]
        if self.vm is not None:
            where.append(f"{self.vm} {self.src or '-'} -> {self.dst or '-'}")
        return f"[{self.rule}] {' '.join(where)}{': ' if where else ''}{self.detail}"


@dataclass
class PlanArrays:
    """The moves of a plan as index arrays (rows with unknown ids are left out)."""

    row: np.ndarray  # int64[M] row in the moves list (0-based)
    vm: np.ndarray  # int64[M]
    src: np.ndarray  # int64[M] -1 = none
    dst: np.ndarray  # int64[M] -1 = none
    wave: np.ndarray  # int64[M] 1-based
    start_s: np.ndarray  # float64[M]
    seconds: np.ndarray  # float64[M]
    gbps: np.ndarray  # float64[M]
    wave_start: dict[int, float] = field(default_factory=dict)
    wave_seconds: dict[int, float] = field(default_factory=dict)


def read_document(path: str | Path) -> tuple[dict[str, Any], Path]:
    """(plan.json object, its directory) from a plan directory or a plan.json path."""
    path = Path(path)
    file = path / "plan.json" if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"{path}: no plan.json")
    try:
        return json.loads(file.read_text()), file.parent
    except json.JSONDecodeError as exc:
        raise ValueError(f"{file}: not valid JSON: {exc}") from None


def _index(names: np.ndarray, wanted: pd.Series) -> np.ndarray:
    """Position of each wanted name in ``names`` (-1 when absent or missing)."""
    return pd.Index(names.astype(str)).get_indexer(wanted.astype(str)).astype(np.int64)


def parse(doc: dict[str, Any], cluster: Cluster, out: list[Violation]) -> PlanArrays:
    """The moves and waves of ``doc``; unknown ids, missing fields and bad numbers are
    reported into ``out`` (rules ``schema``, ``unknown-vm``, ``unknown-host``). O(M + V)."""
    if doc.get("format") != FORMAT or doc.get("version") != VERSION:
        out.append(
            Violation(
                "schema",
                f"format/version is {doc.get('format')!r}/{doc.get('version')!r}; "
                f"expected {FORMAT!r}/{VERSION}",
            )
        )
    raw = doc.get("moves") or []
    shaped = [isinstance(m, dict) and "vm" in m and "wave" in m for m in raw]
    for k in np.flatnonzero(~np.array(shaped, dtype=bool)).tolist():
        out.append(Violation("schema", f"move #{k + 1} lacks 'vm' or 'wave'"))
    frame = pd.DataFrame([m for m, ok in zip(raw, shaped, strict=True) if ok])
    for key in ("vm", "from", "to", "wave", "start_s", "seconds", "gbps"):
        if key not in frame:
            frame[key] = None
    row = np.flatnonzero(shaped).astype(np.int64)
    vm = _index(cluster.vms.ids, frame["vm"])
    hosts = {key: _index(cluster.hosts.ids, frame[key].fillna("")) for key in ("from", "to")}
    given = {key: frame[key].notna().to_numpy() for key in ("from", "to")}
    nums = np.column_stack(
        [
            pd.to_numeric(frame[k], errors="coerce").to_numpy(np.float64)
            for k in ("wave", "start_s", "seconds", "gbps")
        ]
    ).reshape(len(frame), 4)
    unknown_vm = vm < 0
    unknown_host = ~unknown_vm & ((given["from"] & (hosts["from"] < 0)) | (given["to"] & (hosts["to"] < 0)))
    bad_number = np.isnan(nums).any(axis=1) | (nums[:, 0] < 1) | (nums[:, 0] != np.floor(nums[:, 0]))
    bad_number &= ~unknown_vm & ~unknown_host
    for i in np.flatnonzero(unknown_vm | unknown_host | bad_number).tolist():
        ids = tuple(
            None if pd.isna(frame[k].iloc[i]) else str(frame[k].iloc[i]) for k in ("vm", "from", "to")
        )
        if unknown_vm[i]:
            rule, text = "unknown-vm", f"no VM {ids[0]!r} in the snapshot"
        elif unknown_host[i]:
            name = ids[1] if given["from"][i] and hosts["from"][i] < 0 else ids[2]
            rule, text = "unknown-host", f"no host {name!r} in the snapshot"
        else:
            rule, text = "schema", "wave, start_s, seconds and gbps must be numbers (wave >= 1)"
        out.append(Violation(rule, f"move #{row[i] + 1}: {text}", None, *ids))
    ok = ~(unknown_vm | unknown_host | bad_number)
    arrays = PlanArrays(
        row=row[ok],
        vm=vm[ok],
        src=np.where(given["from"], hosts["from"], -1)[ok],
        dst=np.where(given["to"], hosts["to"], -1)[ok],
        wave=nums[ok, 0].astype(np.int64),
        start_s=nums[ok, 1],
        seconds=nums[ok, 2],
        gbps=nums[ok, 3],
    )
    for w in doc.get("waves") or []:
        try:
            arrays.wave_start[int(w["wave"])] = float(w["start_s"])
            arrays.wave_seconds[int(w["wave"])] = float(w["seconds"])
        except (KeyError, TypeError, ValueError):
            out.append(Violation("schema", f"wave entry {w!r} lacks wave, start_s or seconds"))
    return arrays
