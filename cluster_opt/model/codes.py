"""Integer codes used in the cluster arrays, and their names at the edges."""

from __future__ import annotations

from enum import IntEnum


class HostState(IntEnum):
    """Operational state of a host. Only ``ACTIVE`` hosts may run VMs."""

    ACTIVE = 0
    MAINTENANCE = 1
    FAILED = 2
    OFF = 3


class Pricing(IntEnum):
    """How a VM is billed."""

    ON_DEMAND = 0
    SPOT = 1
    RESERVED = 2


class SpreadLevel(IntEnum):
    """Topology level at which an anti-affinity group is spread."""

    HOST = 0
    RACK = 1
    ZONE = 2


def names(enum: type[IntEnum]) -> list[str]:
    """Lower-case names of an enum, in code order (the spelling used in snapshot files)."""
    return [m.name.lower() for m in sorted(enum, key=int)]


#: Resources every snapshot has, in this order; more can be declared in snapshot.yaml.
STANDARD_RESOURCES: tuple[str, ...] = ("cpu", "mem_gb", "net_gbps", "iops", "gpus")
STANDARD_UNITS: dict[str, str] = {
    "cpu": "vCPU",
    "mem_gb": "GB",
    "net_gbps": "Gbit/s",
    "iops": "IO/s",
    "gpus": "GPU",
}

#: Utilisation points (fraction of CPU) at which power curves are tabulated: 0 %, 10 %, ... 100 %.
POWER_POINTS = 11
