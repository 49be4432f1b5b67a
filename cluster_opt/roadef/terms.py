"""ROADEF/EURO 2012 constraints and costs as evaluator terms (see docs/roadef.md).

These terms are deliberately *not* registered in the global REGISTRY: they only make sense
on a cluster built by :mod:`cluster_opt.roadef.adapter`, whose ``meta["roadef"]`` holds the
:class:`~cluster_opt.roadef.instance.Instance`. Build the problem with
``Problem(cluster, config, terms=TERMS)`` (or :func:`cluster_opt.roadef.adapter.roadef_problem`).

Every value is an exact integer held in float64 (exact below 2**53; the official totals
stay below 1e11). With the adapter's weights, the weighted sum of the objective terms is the
official total cost, and every hard term is 0 exactly when the official checker accepts the
assignment. Processes left unplaced (-1) carry no load and count as moved.
"""

from __future__ import annotations

import numpy as np

from cluster_opt.evaluate import Term, kernels
from cluster_opt.evaluate.context import BatchContext
from cluster_opt.evaluate.problem import Problem, group_csr
from cluster_opt.evaluate.terms.groups import AntiAffinity
from cluster_opt.evaluate.terms.placement import Unplaced
from cluster_opt.roadef import kernels as roadef_kernels
from cluster_opt.roadef.instance import Instance

#: Default weight of the hard terms (the evaluator's convention for hard constraints).
HARD_WEIGHT = 1e6


def roadef_instance(problem: Problem) -> Instance:
    """The instance behind a ROADEF problem; ValueError for any other cluster."""
    inst = problem.cluster.meta.get("roadef")
    if not isinstance(inst, Instance):
        raise ValueError("ROADEF terms need a cluster built by cluster_opt.roadef.adapter (meta['roadef'])")
    return inst


class RoadefCapacity(Term):
    """Usage above capacity, summed over machines and resources; for a transient resource
    the usage includes the processes moved away from the machine (their space stays
    reserved during the move). O(P V R)."""

    name = "roadef_capacity"
    kind = "constraint"
    unit = "resource units"
    description = "usage above capacity (transient resources keep the space of moved processes)"
    default_weight = HARD_WEIGHT
    default_hard = True

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.transient = np.flatnonzero(roadef_instance(problem).transient)
        self.demand = np.ascontiguousarray(problem.cluster.vms.demand[:, self.transient])

    def batch(self, ctx: BatchContext) -> np.ndarray:
        c = self.problem.cluster
        over = ctx.load - c.hosts.capacity
        if self.transient.size:
            current = c.vms.current[None, :]
            away = np.where(ctx.x != current, current, -1).astype(np.int32)
            over[:, :, self.transient] += kernels.loads_and_counts(away, self.demand, c.n_hosts)[0]
        return np.maximum(over, 0.0).sum(axis=(1, 2))


class RoadefConflict(AntiAffinity):
    """Processes of one service sharing a machine: the adapter makes every service with two
    or more processes a host-level anti-affinity group with at most 1 per host, so this is
    the ``anti_affinity`` term on those groups: sum over services and machines of
    max(0, processes - 1). O(P V)."""

    name = "roadef_conflict"
    unit = "processes"
    description = "processes sharing a machine with another process of their service"

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        roadef_instance(problem)  # the groups mean services only on a ROADEF cluster


class RoadefSpread(Term):
    """Missing locations: sum over services of max(0, spreadMin - distinct locations of
    the service's placed processes). O(P (V + S)) (numba)."""

    name = "roadef_spread"
    kind = "constraint"
    unit = "locations"
    description = "locations missing from services below their spread minimum"
    default_weight = HARD_WEIGHT
    default_hard = True

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        inst = roadef_instance(problem)
        self.need = inst.spread_min
        self.ptr, self.members = group_csr(inst.service, inst.n_services)
        self.location = problem.cluster.hosts.zone
        self.n_locations = len(problem.cluster.topology.zones)

    def batch(self, ctx: BatchContext) -> np.ndarray:
        return roadef_kernels.spread_shortfall(
            ctx.x, self.ptr, self.members, self.need, self.location, self.n_locations
        )


class RoadefDependency(Term):
    """Unmet dependencies: the number of (process p, service d) pairs where p's service
    depends on d and no process of d runs in p's neighborhood.
    O(P (V + sum over processes of their service's dependencies)) (numba)."""

    name = "roadef_dependency"
    kind = "constraint"
    unit = "process dependencies"
    description = "processes without a process of a service they depend on in their neighborhood"
    default_weight = HARD_WEIGHT
    default_hard = True

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        inst = roadef_instance(problem)
        targets = np.unique(inst.dependency)
        self.target_of = np.full(inst.n_services, -1, dtype=np.int64)
        self.target_of[targets] = np.arange(len(targets))
        self.ptr = inst.dependency_ptr
        self.rows = self.target_of[inst.dependency]
        self.service = inst.service.astype(np.int64)
        self.neighborhood = inst.neighborhood.astype(np.int64)
        self.n_neighborhoods = int(self.neighborhood.max(initial=0)) + 1

    def batch(self, ctx: BatchContext) -> np.ndarray:
        return roadef_kernels.unmet_dependencies(
            ctx.x, self.service, self.target_of, self.ptr, self.rows, self.neighborhood, self.n_neighborhoods
        )


class RoadefUnplaced(Unplaced):
    """Processes without a machine; hard, since every ROADEF process must run somewhere
    (the official checker rejects such a solution outright). O(P V)."""

    name = "roadef_unplaced"
    unit = "processes"
    description = "processes without a machine"
    default_weight = HARD_WEIGHT
    default_hard = True


class RoadefLoad(Term):
    """Load cost: sum over resources of WL(r) x sum over machines of max(0, usage -
    safety capacity). Its weight is 1: the per-resource weights are inside. Bound: the
    same with the usage summed over all machines. O(P M R)."""

    name = "roadef_load"
    kind = "objective"
    unit = "cost"
    description = "usage above safety capacity, weighted per resource"
    default_weight = 1.0

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.instance = roadef_instance(problem)

    def batch(self, ctx: BatchContext) -> np.ndarray:
        excess = np.maximum(ctx.load - self.instance.safety_capacity, 0.0).astype(np.int64)
        return (excess.sum(axis=1) @ self.instance.load_weight).astype(np.float64)

    def lower_bound(self) -> float | None:
        return float(self.instance.load_lower_bound())


class RoadefBalance(Term):
    """Balance cost: sum over balance objectives b of WB(b) x sum over machines of max(0,
    target_b x A(m, r1_b) - A(m, r2_b)) with A = capacity - usage. Weight 1: the
    per-objective weights are inside. O(P M B)."""

    name = "roadef_balance"
    kind = "objective"
    unit = "cost"
    description = "free capacity out of the target ratio between resource pairs, weighted"
    default_weight = 1.0

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.instance = roadef_instance(problem)

    def batch(self, ctx: BatchContext) -> np.ndarray:
        inst = self.instance
        if not inst.n_balances:
            return np.zeros(ctx.size)
        free = (inst.capacity - ctx.load).astype(np.int64)
        r1, r2 = inst.balance_resources[:, 0], inst.balance_resources[:, 1]
        excess = np.maximum(inst.balance_target * free[:, :, r1] - free[:, :, r2], 0)
        return (excess.sum(axis=1) @ inst.balance_weight).astype(np.float64)

    def lower_bound(self) -> float | None:
        return float(self.instance.balance_lower_bound())


class RoadefProcessMove(Term):
    """Process move cost: sum of PMC(p) over moved processes; weighted by W_PMC. O(P V)."""

    name = "roadef_process_move"
    kind = "objective"
    unit = "PMC"
    description = "move cost of the processes not on their original machine"
    default_weight = 1.0

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.cost = roadef_instance(problem).process_move_cost.astype(np.float64)

    def batch(self, ctx: BatchContext) -> np.ndarray:
        return kernels.moved_sum(ctx.x, self.problem.cluster.vms.current, self.cost)


class RoadefServiceMove(Term):
    """Service move cost: the largest number of moved processes in any one service (a max,
    not a sum); weighted by W_SMC. O(P (V + S))."""

    name = "roadef_service_move"
    kind = "objective"
    unit = "processes"
    description = "most moved processes of any single service"
    default_weight = 1.0

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        inst = roadef_instance(problem)
        self.service = inst.service.astype(np.int64)
        self.n_services = inst.n_services

    def batch(self, ctx: BatchContext) -> np.ndarray:
        moved = ctx.x != self.problem.cluster.vms.current[None, :]
        rows = np.arange(ctx.size, dtype=np.int64)[:, None] * self.n_services
        per_service = np.bincount((rows + self.service[None, :])[moved], minlength=ctx.size * self.n_services)
        return per_service.reshape(ctx.size, self.n_services).max(axis=1, initial=0).astype(np.float64)


class RoadefMachineMove(Term):
    """Machine move cost: sum over processes of MMC(original machine, new machine);
    weighted by W_MMC. O(P V)."""

    name = "roadef_machine_move"
    kind = "objective"
    unit = "MMC"
    description = "machine-to-machine move cost of every process"
    default_weight = 1.0

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.cost = roadef_instance(problem).machine_move_cost
        self.columns = np.arange(problem.cluster.n_hosts, dtype=np.int64)

    def batch(self, ctx: BatchContext) -> np.ndarray:
        return kernels.gather_sum(ctx.x, self.cost, self.problem.cluster.vms.current, self.columns)


#: Every ROADEF term, constraints first, in the order they are reported.
TERMS: tuple[type[Term], ...] = (
    RoadefCapacity,
    RoadefConflict,
    RoadefSpread,
    RoadefDependency,
    RoadefUnplaced,
    RoadefLoad,
    RoadefBalance,
    RoadefProcessMove,
    RoadefServiceMove,
    RoadefMachineMove,
)
#: Checker constraint -> term, and checker cost component -> term.
CONSTRAINT_TERMS = {
    "capacity": RoadefCapacity.name,
    "conflict": RoadefConflict.name,
    "spread": RoadefSpread.name,
    "dependency": RoadefDependency.name,
}
COMPONENT_TERMS = {
    "load": RoadefLoad.name,
    "balance": RoadefBalance.name,
    "process_move": RoadefProcessMove.name,
    "service_move": RoadefServiceMove.name,
    "machine_move": RoadefMachineMove.name,
}
