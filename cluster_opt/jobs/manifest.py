"""``manifest.json`` of a run: everything needed to repeat it exactly (the config as
parsed, the seed, the snapshot's content hash, package versions, the command line)."""

from __future__ import annotations

import hashlib
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from cluster_opt.jobs.config import resolve_paths

PACKAGES = (
    "cluster-opt",
    "numpy",
    "pandas",
    "pyarrow",
    "numba",
    "ortools",
    "deap",
    "pymoo",
    "ray",
    "pydantic",
)


def snapshot_hash(directory: str | Path) -> str:
    """sha256 over the snapshot's files (names and bytes, in name order). O(size)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(directory).iterdir() if p.is_file()):
        digest.update(path.name.encode())
        with path.open("rb") as f:
            for block in iter(lambda f=f: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def run_manifest(job: str, config: BaseModel, snapshot: Path, seed: int, **extra: Any) -> dict[str, Any]:
    """The manifest of one run (JSON-ready). Relative paths (to the working directory) are
    made absolute, so the config repeats the run from anywhere."""
    return {
        "job": job,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": sys.argv,
        "seed": seed,
        "snapshot": str(Path(snapshot).resolve()),
        "snapshot_sha256": snapshot_hash(snapshot),
        "config": resolve_paths(config.model_dump(mode="json", by_alias=True), Path.cwd()),
        "versions": versions(),
        **extra,
    }
