"""Columns of the snapshot tables: name, type, whether required, default.

The single source for the loader, the writer, the generator and docs/snapshot-format.md.
Resource columns (cpu, mem_gb, ... and any declared in snapshot.yaml) are added per
snapshot by :func:`host_columns` / :func:`vm_columns`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cluster_opt.model.codes import (
    POWER_POINTS,
    STANDARD_RESOURCES,
    HostState,
    Pricing,
    SpreadLevel,
    names,
)

Kind = Literal["id", "str", "float", "int", "bool", "enum"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    doc: str = ""


def resource_column(name: str, required: bool, doc: str) -> Column:
    return Column(name, "float", required=required, default=0.0, minimum=0.0, doc=doc)


REQUIRED_RESOURCES = ("cpu", "mem_gb")

HOST_BASE: tuple[Column, ...] = (
    Column("id", "id", required=True, doc="unique host id"),
    Column("region", "str", required=True, doc="region name"),
    Column("zone", "str", required=True, doc="zone name, unique within its region"),
    Column("rack", "str", required=True, doc="rack name, unique within its zone"),
    Column("gpu_model", "str", default="", doc="GPU model of the host's GPUs; empty = none"),
    Column("numa_nodes", "int", default=1, minimum=1, doc="NUMA nodes"),
    Column("idle_watts", "float", minimum=0.0, doc="power at 0 % CPU (with peak_watts: linear curve)"),
    Column("peak_watts", "float", minimum=0.0, doc="power at 100 % CPU"),
    Column("power_curve", "str", default="", doc="name of a row of power_curves (instead of idle/peak)"),
    Column("state", "enum", default="active", choices=tuple(names(HostState)), doc="operational state"),
    Column("type", "str", default="default", doc="host type (hardware SKU); prices may be per type"),
    Column("labels", "str", default="", doc="free-form 'key=value,key=value'"),
)

VM_BASE: tuple[Column, ...] = (
    Column("id", "id", required=True, doc="unique VM id"),
    Column("tenant", "str", default="", doc="owner"),
    Column("gpu_model", "str", default="", doc="required GPU model; empty = any"),
    Column("host", "str", default="", doc="current host id; empty = pending (not placed)"),
    Column("pricing", "enum", default="on_demand", choices=tuple(names(Pricing)), doc="billing class"),
    Column("user_region", "str", default="", doc="region its users are in; empty = none"),
    Column("anti_affinity_group", "str", default="", doc="replica group; empty = none"),
    Column(
        "spread_level",
        "enum",
        default="host",
        choices=tuple(names(SpreadLevel)),
        doc="domain over which the anti-affinity group is spread",
    ),
    Column("max_per_domain", "int", default=1, minimum=1, doc="members of the group allowed per domain"),
    Column("affinity_group", "str", default="", doc="VMs that must share a host; empty = none"),
    Column("migratable", "bool", default=True, doc="may be live-migrated"),
    Column("priority", "int", default=0, doc="higher = more important"),
)

LATENCY_COLUMNS: tuple[Column, ...] = (
    Column("src", "str", required=True, doc="region"),
    Column("dst", "str", required=True, doc="region"),
    Column("latency_ms", "float", required=True, minimum=0.0, doc="round-trip latency, ms"),
)

PRICE_COLUMNS: tuple[Column, ...] = (
    Column("region", "str", required=True, doc="region"),
    Column("zone", "str", required=True, doc="zone within the region"),
    Column("item", "str", required=True, doc="a resource name, or 'host:<type>' / 'host:*'"),
    Column("on_demand", "float", minimum=0.0, doc="$/h per unit (resource) or per host (host item)"),
    Column("reserved", "float", minimum=0.0, doc="$/h per unit for reserved VMs"),
    Column("spot", "float", minimum=0.0, doc="current spot $/h per unit"),
)

POWER_POINT_NAMES: tuple[str, ...] = tuple(f"p{10 * i}" for i in range(POWER_POINTS))
POWER_CURVE_COLUMNS: tuple[Column, ...] = (
    Column("name", "id", required=True, doc="curve name referenced by hosts.power_curve"),
    *(
        Column(p, "float", required=True, minimum=0.0, doc=f"watts at {p[1:]} % CPU")
        for p in POWER_POINT_NAMES
    ),
)


def host_columns(resources: tuple[str, ...]) -> tuple[Column, ...]:
    """Host table columns for a snapshot with these resources (capacity columns)."""
    res = tuple(
        resource_column(r, r in REQUIRED_RESOURCES or r not in STANDARD_RESOURCES, f"capacity of {r}")
        for r in resources
    )
    return HOST_BASE[:4] + res + HOST_BASE[4:]


def vm_columns(resources: tuple[str, ...]) -> tuple[Column, ...]:
    """VM table columns for a snapshot with these resources (demand columns)."""
    res = tuple(resource_column(r, r in REQUIRED_RESOURCES, f"demand of {r}") for r in resources)
    return VM_BASE[:2] + res + VM_BASE[2:]
