"""Split a cluster into independent sub-problems: by zone (hence by region), then into
groups of ``racks`` consecutive racks of that zone.

A partition owns a set of hosts and the VMs that a starting assignment places on them; its
search moves those VMs only among those hosts. Partitions never straddle a zone, which keeps
every hard rule of the global problem by construction:

* capacity, GPU model, host state and host-level anti-affinity are per host;
* rack-level anti-affinity is per rack, and a rack lies in one partition;
* zone-level anti-affinity: a VM never leaves its zone, so each group's count per zone is
  fixed; the sub-problem's limit for a group is lowered by the members it has in the same
  zone outside the partition (:func:`sub_cluster`), so the partition cannot break it;
* affinity (members share one host): a group lies on one host, hence in one partition.

What partitions cannot do is move VMs across zones and regions, which is what geographic
latency and zone prices (spot prices included) reward: the global pass
(:mod:`cluster_opt.distributed.merge`) does that on the whole problem. Within a zone every
VM's latency and price per unit are the same on every host, so a partition's search is
about packing (hosts on, energy, host prices, balance) and migrations. docs/distributed.md
discusses the trade-offs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from cluster_opt.evaluate.kernels import loads_and_counts
from cluster_opt.model import AntiAffinityGroups, Cluster, Hosts, Prices, SpreadLevel, Vms


@dataclass(frozen=True)
class Partition:
    """Hosts and VMs (global indices, ascending) of one sub-problem."""

    index: int
    name: str  # "region/zone racks r001..r008"
    zone: int
    hosts: np.ndarray  # int64[Hp]
    vms: np.ndarray  # int64[Vp]

    def lift(self, local: np.ndarray, into: np.ndarray) -> None:
        """Write a local assignment (indices into :attr:`hosts`, -1 = unplaced) into the
        global assignment ``into`` for this partition's VMs. O(Vp)."""
        local = np.asarray(local)
        into[self.vms] = np.where(local >= 0, self.hosts[np.maximum(local, 0)], -1)

    def restrict(self, x: np.ndarray) -> np.ndarray:
        """int32[Vp]: the local form of global assignment ``x`` for this partition's VMs
        (-1 where a VM sits outside the partition). O(Vp log Hp)."""
        h = x[self.vms]
        pos = np.searchsorted(self.hosts, h)
        pos = np.minimum(pos, len(self.hosts) - 1)
        inside = (h >= 0) & (self.hosts[pos] == h)
        return np.where(inside, pos, -1).astype(np.int32)


def partition(cluster: Cluster, x: np.ndarray, racks: int) -> list[Partition]:
    """Partitions of ``cluster`` for assignment ``x``: the racks of each zone in groups of
    ``racks`` (by rack code), each with the hosts of those racks and the VMs ``x`` puts
    there, plus the VMs ``x`` leaves unplaced, each given to the partition with the most room
    for it (see :func:`_adopt_unplaced`), where the search may find them a host. Partitions
    without VMs are left out. O(H log H + V + U P R) for U unplaced VMs and P partitions."""
    if racks < 1:
        raise ValueError("racks per partition must be at least 1")
    c = cluster
    rack_zone = c.topology.rack_zone
    host_rack = c.hosts.rack.astype(np.int64)
    # group index of every rack: racks of a zone in code order, `racks` at a time
    group = np.full(len(rack_zone), -1, dtype=np.int64)
    names, zones = [], []
    for z in range(len(c.topology.zones)):
        in_zone = np.flatnonzero(rack_zone == z)
        for start in range(0, len(in_zone), racks):
            chunk = in_zone[start : start + racks]
            group[chunk] = len(names)
            first, last = c.topology.racks[chunk[0]], c.topology.racks[chunk[-1]]
            names.append(f"{first}..{last.rsplit('/', 1)[-1]}" if len(chunk) > 1 else first)
            zones.append(z)
    host_group = group[host_rack]
    placed = np.flatnonzero(x >= 0)
    vm_group = np.full(c.n_vms, -1, dtype=np.int64)
    vm_group[placed] = host_group[x[placed]]
    _adopt_unplaced(c, x, host_group, vm_group, len(names))
    host_order = np.argsort(host_group, kind="stable")
    vm_order = np.argsort(vm_group, kind="stable")
    host_cuts = np.searchsorted(host_group[host_order], np.arange(len(names) + 1))
    vm_cuts = np.searchsorted(vm_group[vm_order], np.arange(len(names) + 1))
    out = []
    for g in range(len(names)):
        vms = vm_order[vm_cuts[g] : vm_cuts[g + 1]]
        if len(vms):
            hosts = host_order[host_cuts[g] : host_cuts[g + 1]]
            out.append(Partition(len(out), names[g], zones[g], np.sort(hosts), np.sort(vms)))
    return out


def _adopt_unplaced(
    c: Cluster, x: np.ndarray, host_group: np.ndarray, vm_group: np.ndarray, n_groups: int
) -> None:
    """Give each VM that ``x`` leaves unplaced to a partition (in ``vm_group``): largest
    first, to the partition whose free capacity on the hosts the VM may use (usable hosts;
    of its GPU model when it needs one), in units of the VM's demand, is largest on its
    tightest resource; partitions without such a host are skipped. Members of an affinity
    group follow the first one. Free capacity is reduced as VMs are given out.
    O(H R + U P R)."""
    pending = np.flatnonzero(x < 0)
    if not len(pending) or not n_groups:
        return
    usable = c.usable
    load = loads_and_counts(x[None].astype(np.int32), c.vms.demand, c.n_hosts)[0][0]
    any_host = len(c.gpu_models)  # the last column: every usable host
    h_model = c.hosts.gpu_model[usable]
    groups, spare = host_group[usable], (c.hosts.capacity - load)[usable]
    free = np.zeros((n_groups, any_host + 1, c.n_resources))  # [partition, GPU model or any, R]
    hosts = np.zeros((n_groups, any_host + 1), dtype=np.int64)
    np.add.at(free, (groups, any_host), spare)
    np.add.at(hosts, (groups, any_host), 1)
    gpu = h_model >= 0
    np.add.at(free, (groups[gpu], h_model[gpu]), spare[gpu])
    np.add.at(hosts, (groups[gpu], h_model[gpu]), 1)
    demand = c.vms.demand
    order = pending[
        np.argsort(-(demand[pending] / np.maximum(c.hosts.capacity.max(axis=0), 1e-12)).max(axis=1))
    ]
    given: dict[int, int] = {}
    for v in order:
        group = int(c.vms.affinity[v])
        model = int(c.vms.gpu_model[v])
        column = model if model >= 0 else any_host
        if group >= 0 and group in given:
            g = given[group]
        else:
            need = demand[v]
            room = np.min(np.where(need > 0, free[:, column] / np.maximum(need, 1e-12), np.inf), axis=1)
            room[hosts[:, column] == 0] = -np.inf
            g = int(np.argmax(room))
            if group >= 0:
                given[group] = g
        vm_group[v] = g
        free[g, any_host] -= demand[v]
        if model >= 0:
            free[g, model] -= demand[v]


def _take(obj: object, rows: np.ndarray) -> object:
    """A copy of a dataclass of per-row arrays with only ``rows`` kept."""
    return dataclasses.replace(obj, **{f.name: getattr(obj, f.name)[rows] for f in dataclasses.fields(obj)})


def writable(obj: object) -> object:
    """A copy of a (nested) dataclass with every numpy array copied into writable memory.
    Arrays read from Ray's object store are read-only, and numba compiles (and cannot
    share) separate code for read-only arrays. O(size of the arrays)."""
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(
            obj, **{f.name: writable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        )
    return obj


def sub_cluster(cluster: Cluster, part: Partition, x: np.ndarray) -> Cluster:
    """The cluster a partition's search sees: its hosts and VMs, with the name tables,
    topology and prices unchanged (codes keep their meaning). A VM's current host becomes
    -1 ("pending") when it is outside the partition: moving it in costs the same wherever it
    lands. Zone-level anti-affinity limits are lowered by the group's members that ``x``
    places in the partition's zone outside the partition. O(Hp + V)."""
    c = cluster
    hosts: Hosts = _take(c.hosts, part.hosts)  # type: ignore[assignment]
    vms: Vms = _take(c.vms, part.vms)  # type: ignore[assignment]
    local_current = part.restrict(c.vms.current)
    vms = dataclasses.replace(vms, current=local_current)
    groups = c.anti_affinity
    limit = groups.max_per_domain.astype(np.int32)
    if len(groups):
        outside = np.ones(c.n_vms, dtype=bool)
        outside[part.vms] = False
        members = np.flatnonzero(outside & (c.vms.anti_affinity >= 0) & (x >= 0))
        members = members[c.hosts.zone[x[members]] == part.zone]
        counts = np.bincount(c.vms.anti_affinity[members], minlength=len(groups))
        zone_level = groups.level == SpreadLevel.ZONE
        limit = np.where(zone_level, np.maximum(limit - counts, 0), limit).astype(np.int32)
    return dataclasses.replace(
        c,
        hosts=hosts,
        vms=vms,
        anti_affinity=AntiAffinityGroups(groups.names, groups.level, limit),
        prices=Prices(c.prices.unit, c.prices.host_hourly[part.hosts]),
        meta={**c.meta, "partition": part.name},
    )
