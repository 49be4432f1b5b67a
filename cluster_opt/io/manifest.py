"""``snapshot.yaml``: resource names and units, time, free-form metadata."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cluster_opt.io.issues import IssueCollector
from cluster_opt.model.codes import STANDARD_RESOURCES, STANDARD_UNITS

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
RESERVED_NAMES = frozenset(
    (
        "id",
        "region",
        "zone",
        "rack",
        "gpu_model",
        "numa_nodes",
        "idle_watts",
        "peak_watts",
        "power_curve",
        "state",
        "type",
        "labels",
        "tenant",
        "host",
        "pricing",
        "user_region",
        "anti_affinity_group",
        "spread_level",
        "max_per_domain",
        "affinity_group",
        "migratable",
        "priority",
    )
)


class ResourceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    unit: str = ""

    @field_validator("name")
    @classmethod
    def _valid_name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("must be lower-case letters, digits and '_', starting with a letter")
        if v in RESERVED_NAMES:
            raise ValueError(f"'{v}' is a reserved column name")
        return v


class SnapshotManifest(BaseModel):
    """Contents of ``snapshot.yaml``."""

    model_config = ConfigDict(extra="forbid")
    version: int = 1
    time: datetime | None = None
    resources: list[ResourceSpec] = Field(
        default_factory=list,
        description="extra resources beyond the standard cpu, mem_gb, net_gbps, iops, gpus",
    )
    units: dict[str, str] = Field(default_factory=dict, description="override units of standard resources")
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if v != 1:
            raise ValueError(f"unsupported snapshot version {v}; this release reads version 1")
        return v

    def resource_names(self) -> tuple[str, ...]:
        return STANDARD_RESOURCES + tuple(r.name for r in self.resources)

    def resource_units(self) -> tuple[str, ...]:
        units = dict(STANDARD_UNITS) | self.units
        return tuple(units[r] for r in STANDARD_RESOURCES) + tuple(r.unit for r in self.resources)


def read_manifest(path: Path, issues: IssueCollector) -> SnapshotManifest:
    """Parse ``snapshot.yaml``; problems go to ``issues`` and a default manifest is returned."""
    if not path.exists():
        issues.add(str(path), "snapshot.yaml is missing")
        return SnapshotManifest()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        issues.add(str(path), f"not valid YAML: {exc}")
        return SnapshotManifest()
    if not isinstance(data, dict):
        issues.add(str(path), "must be a mapping of keys to values")
        return SnapshotManifest()
    try:
        manifest = SnapshotManifest.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            issues.add(str(path), err["msg"], column=key)
        return SnapshotManifest()
    unknown_units = set(manifest.units) - set(STANDARD_RESOURCES)
    for name in sorted(unknown_units):
        issues.add(str(path), "units given for an unknown standard resource", column=f"units.{name}")
    names = [r.name for r in manifest.resources]
    for name in sorted({n for n in names if n in STANDARD_RESOURCES}):
        issues.add(str(path), f"'{name}' is a standard resource; declare only extra ones", column="resources")
    for name in sorted({n for n in names if names.count(n) > 1 and n not in STANDARD_RESOURCES}):
        issues.add(str(path), f"resource '{name}' declared twice", column="resources")
    return manifest


def manifest_dict(manifest: SnapshotManifest) -> dict[str, Any]:
    """Plain YAML-ready dict, with the time as an ISO string."""
    out = manifest.model_dump(mode="json", exclude_defaults=False)
    return out
