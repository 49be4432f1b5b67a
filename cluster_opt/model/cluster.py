"""The cluster snapshot as a struct of numpy arrays.

Strings (ids, names) live only in the name tables; every per-host and per-VM attribute is a
numpy array indexed by host index ``h`` in ``[0, H)`` or VM index ``v`` in ``[0, V)``. Codes
that refer to a name table use ``-1`` for "none".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from cluster_opt.model.codes import POWER_POINTS, HostState, SpreadLevel


@dataclass(frozen=True, eq=False)
class Hosts:
    """Per-host arrays (length H)."""

    ids: np.ndarray  # object[H] host id strings
    capacity: np.ndarray  # float64[H, R]
    region: np.ndarray  # int32[H] -> Topology.regions
    zone: np.ndarray  # int32[H] -> Topology.zones
    rack: np.ndarray  # int32[H] -> Topology.racks
    state: np.ndarray  # int8[H] HostState
    gpu_model: np.ndarray  # int32[H] -> Cluster.gpu_models, -1 = no GPUs
    numa_nodes: np.ndarray  # int32[H]
    power_curve: np.ndarray  # int32[H] -> PowerCurves
    host_type: np.ndarray  # int32[H] -> Cluster.host_types
    labels: np.ndarray  # object[H] free-form "k=v,k=v" strings

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, eq=False)
class Vms:
    """Per-VM arrays (length V)."""

    ids: np.ndarray  # object[V]
    demand: np.ndarray  # float64[V, R]
    tenant: np.ndarray  # int32[V] -> Cluster.tenants
    gpu_model: np.ndarray  # int32[V] required GPU model, -1 = any
    current: np.ndarray  # int32[V] current host index, -1 = pending
    pricing: np.ndarray  # int8[V] Pricing
    user_region: np.ndarray  # int32[V] -> Topology.regions, -1 = none
    anti_affinity: np.ndarray  # int32[V] -> Cluster.anti_affinity, -1 = none
    affinity: np.ndarray  # int32[V] -> Cluster.affinity_groups, -1 = none
    migratable: np.ndarray  # bool[V]
    priority: np.ndarray  # int32[V]

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, eq=False)
class AntiAffinityGroups:
    """Replica groups: at most ``max_per_domain[g]`` members per domain at ``level[g]``."""

    names: tuple[str, ...]
    level: np.ndarray  # int8[G] SpreadLevel
    max_per_domain: np.ndarray  # int32[G]

    def __len__(self) -> int:
        return len(self.names)


@dataclass(frozen=True, eq=False)
class Topology:
    """Name tables of the topology and the region-to-region latency matrix."""

    regions: tuple[str, ...]
    zones: tuple[str, ...]  # "region/zone"
    racks: tuple[str, ...]  # "region/zone/rack"
    zone_region: np.ndarray  # int32[Z]
    rack_zone: np.ndarray  # int32[K]
    latency_ms: np.ndarray  # float64[NR, NR]; 0 on the diagonal


@dataclass(frozen=True, eq=False)
class PowerCurves:
    """Wall power in watts at 0 %, 10 %, ... 100 % CPU load, one row per curve."""

    names: tuple[str, ...]
    watts: np.ndarray  # float64[C, POWER_POINTS]

    def __post_init__(self) -> None:
        if self.watts.ndim != 2 or self.watts.shape[1] != POWER_POINTS:
            raise ValueError(f"power curves must have {POWER_POINTS} points per row")


@dataclass(frozen=True, eq=False)
class Prices:
    """Hourly prices.

    ``unit[z, k, r]`` is the $/h charged per unit of resource ``r`` for a VM of pricing class
    ``k`` placed in zone ``z``; ``host_hourly[h]`` is the $/h of host ``h`` while powered on.
    """

    unit: np.ndarray  # float64[Z, 3, R]
    host_hourly: np.ndarray  # float64[H]


@dataclass(frozen=True, eq=False)
class Cluster:
    """A validated cluster snapshot. Build it with :func:`cluster_opt.io.load_snapshot`."""

    resources: tuple[str, ...]
    units: tuple[str, ...]
    hosts: Hosts
    vms: Vms
    topology: Topology
    anti_affinity: AntiAffinityGroups
    affinity_groups: tuple[str, ...]
    tenants: tuple[str, ...]
    gpu_models: tuple[str, ...]
    host_types: tuple[str, ...]
    power: PowerCurves
    prices: Prices
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_hosts(self) -> int:
        return len(self.hosts)

    @property
    def n_vms(self) -> int:
        return len(self.vms)

    @property
    def n_resources(self) -> int:
        return len(self.resources)

    def resource_index(self, name: str) -> int:
        """Column of resource ``name`` in ``capacity`` and ``demand``."""
        try:
            return self.resources.index(name)
        except ValueError:
            raise KeyError(f"unknown resource {name!r}; have {list(self.resources)}") from None

    @cached_property
    def host_index(self) -> dict[str, int]:
        """Host id -> host index."""
        return {str(h): i for i, h in enumerate(self.hosts.ids)}

    @cached_property
    def vm_index(self) -> dict[str, int]:
        """VM id -> VM index."""
        return {str(v): i for i, v in enumerate(self.vms.ids)}

    def domain(self, level: SpreadLevel | int) -> np.ndarray:
        """Domain code of every host at a spread level: int32[H]."""
        level = SpreadLevel(int(level))
        if level is SpreadLevel.HOST:
            return np.arange(self.n_hosts, dtype=np.int32)
        if level is SpreadLevel.RACK:
            return self.hosts.rack
        return self.hosts.zone

    def n_domains(self, level: SpreadLevel | int) -> int:
        """Number of domains at a spread level."""
        level = SpreadLevel(int(level))
        if level is SpreadLevel.HOST:
            return self.n_hosts
        if level is SpreadLevel.RACK:
            return len(self.topology.racks)
        return len(self.topology.zones)

    @cached_property
    def usable(self) -> np.ndarray:
        """bool[H]: hosts that may run VMs (state active)."""
        return self.hosts.state == HostState.ACTIVE

    @cached_property
    def idle_watts(self) -> np.ndarray:
        """float64[H]: power of each host at 0 % load."""
        return self.power.watts[self.hosts.power_curve, 0]

    def current_assignment(self) -> np.ndarray:
        """A fresh copy of the current placement, int32[V] (-1 = pending)."""
        return self.vms.current.copy()
