"""A ROADEF instance and its original assignment as our Cluster and Problem.

Machines become hosts (zone = location, rack = (location, neighborhood) pair, one region),
processes become VMs whose current host is the original machine, resources keep their
order (``r0``, ``r1``, ...), and every service with two or more processes becomes a
host-level anti-affinity group with at most one member per host (the conflict rule). The
instance itself rides along in ``cluster.meta["roadef"]`` for the ROADEF terms. See
docs/roadef.md for the full mapping.
"""

from __future__ import annotations

import numpy as np

from cluster_opt.evaluate import EvaluationConfig, Problem, TermSetting
from cluster_opt.model import (
    POWER_POINTS,
    AntiAffinityGroups,
    Cluster,
    Hosts,
    PowerCurves,
    Prices,
    Pricing,
    SpreadLevel,
    Topology,
    Vms,
)
from cluster_opt.roadef.instance import Instance
from cluster_opt.roadef.terms import TERMS, RoadefMachineMove, RoadefProcessMove, RoadefServiceMove


def _codes(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct rows int64[K, len(columns)], code int32[n] of each row). O(n log n)."""
    rows, code = np.unique(np.column_stack(columns), axis=0, return_inverse=True)
    return rows, code.reshape(-1).astype(np.int32)


def roadef_cluster(instance: Instance, initial: np.ndarray) -> Cluster:
    """The instance as a Cluster with ``vms.current`` = ``initial`` (int[P], validated).
    O(P log P + M log M + M R)."""
    x0 = instance.validate_assignment(initial, "initial assignment")
    n_mach, n_proc = instance.n_machines, instance.n_processes
    locations, zone = _codes(instance.location)
    pairs, rack = _codes(instance.location, instance.neighborhood)
    sizes = np.bincount(instance.service, minlength=instance.n_services)
    grouped = np.flatnonzero(sizes >= 2)
    group_of = np.full(instance.n_services, -1, dtype=np.int32)
    group_of[grouped] = np.arange(len(grouped), dtype=np.int32)
    resources = tuple(f"r{r}" for r in range(instance.n_resources))
    labels = [
        f"neighborhood={n},location={loc}"
        for n, loc in zip(instance.neighborhood, instance.location, strict=True)
    ]
    none_m, none_p = np.full(n_mach, -1, dtype=np.int32), np.full(n_proc, -1, dtype=np.int32)
    return Cluster(
        resources=resources,
        units=("",) * len(resources),
        hosts=Hosts(
            ids=np.array([f"m{m}" for m in range(n_mach)], dtype=object),
            capacity=instance.capacity.astype(np.float64),
            region=np.zeros(n_mach, dtype=np.int32),
            zone=zone,
            rack=rack,
            state=np.zeros(n_mach, dtype=np.int8),
            gpu_model=none_m,
            numa_nodes=np.ones(n_mach, dtype=np.int32),
            power_curve=np.zeros(n_mach, dtype=np.int32),
            host_type=np.zeros(n_mach, dtype=np.int32),
            labels=np.array(labels, dtype=object),
        ),
        vms=Vms(
            ids=np.array([f"p{p}" for p in range(n_proc)], dtype=object),
            demand=instance.requirement.astype(np.float64),
            tenant=none_p,
            gpu_model=none_p,
            current=x0.astype(np.int32),
            pricing=np.full(n_proc, Pricing.ON_DEMAND, dtype=np.int8),
            user_region=none_p,
            anti_affinity=group_of[instance.service],
            affinity=none_p,
            migratable=np.ones(n_proc, dtype=bool),
            priority=np.zeros(n_proc, dtype=np.int32),
        ),
        topology=Topology(
            regions=("roadef",),
            zones=tuple(f"roadef/location{loc}" for (loc,) in locations),
            racks=tuple(f"roadef/location{loc}/neighborhood{n}" for loc, n in pairs),
            zone_region=np.zeros(len(locations), dtype=np.int32),
            rack_zone=np.searchsorted(locations[:, 0], pairs[:, 0]).astype(np.int32),
            latency_ms=np.zeros((1, 1)),
        ),
        anti_affinity=AntiAffinityGroups(
            names=tuple(f"service{s}" for s in grouped),
            level=np.full(len(grouped), SpreadLevel.HOST, dtype=np.int8),
            max_per_domain=np.ones(len(grouped), dtype=np.int32),
        ),
        affinity_groups=(),
        tenants=(),
        gpu_models=(),
        host_types=("machine",),
        power=PowerCurves(("none",), np.zeros((1, POWER_POINTS))),
        prices=Prices(
            unit=np.zeros((len(locations), len(Pricing), len(resources))), host_hourly=np.zeros(n_mach)
        ),
        meta={"source": f"roadef:{instance.name}", "roadef": instance, "warnings": []},
    )


def roadef_config(instance: Instance) -> EvaluationConfig:
    """Term weights that make the weighted sum the official total: W_PMC, W_SMC and W_MMC
    on the move terms, 1 on load and balance (their per-resource and per-objective weights
    are inside the values), hard terms at their defaults."""
    if not instance.n_resources:
        raise ValueError(f"instance {instance.name!r} has no resources; the evaluator needs at least one")
    first = "r0"
    return EvaluationConfig(
        terms={
            RoadefProcessMove.name: TermSetting(weight=instance.process_move_weight),
            RoadefServiceMove.name: TermSetting(weight=instance.service_move_weight),
            RoadefMachineMove.name: TermSetting(weight=instance.machine_move_weight),
        },
        imbalance_resources=[first],  # unused by the ROADEF terms; Problem checks they exist
        power_resource=first,
    )


def roadef_problem(instance: Instance, initial: np.ndarray) -> Problem:
    """The evaluator Problem of a ROADEF instance: its cluster, the ROADEF terms only, and
    the instance's weights. ``evaluate(problem, x).score`` is the official total cost of a
    feasible ``x``."""
    return Problem(roadef_cluster(instance, initial), roadef_config(instance), terms=TERMS)
