"""A slow, obviously-correct reference checker for the evaluator.

Written from the term docstrings only, independently of ``cluster_opt.evaluate`` (nothing
is imported from it): plain Python loops over VMs and hosts with lists and dicts. It reads
the Cluster's arrays (converted to Python lists first) and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cluster_opt.model import Cluster

#: Relative slack of the capacity check: overload is what lies beyond cap + 1e-9 * max(cap, 1).
CAPACITY_RTOL = 1e-9
#: Term amounts at or below this count as zero for feasibility.
FEASIBILITY_TOL = 1e-9

ACTIVE_STATE = 0  # HostState.ACTIVE
SPREAD_HOST, SPREAD_RACK, SPREAD_ZONE = 0, 1, 2
SPOT_PRICING = 1  # Pricing.SPOT

TERM_NAMES = (
    "capacity",
    "anti_affinity",
    "affinity",
    "gpu_model",
    "host_state",
    "unmigratable",
    "unplaced",
    "active_hosts",
    "energy_watts",
    "hourly_cost",
    "latency_ms",
    "migrations",
    "migration_gb",
    "imbalance",
    "consolidation",
    "spot_mixing",
)


def resource_scale(cluster: Cluster) -> list[float]:
    """Mean of the positive capacities of each resource over all hosts (1.0 if none)."""
    cap = cluster.hosts.capacity.tolist()
    out = []
    for r in range(cluster.n_resources):
        positive = [row[r] for row in cap if row[r] > 0]
        out.append(sum(positive) / len(positive) if positive else 1.0)
    return out


def curve_watts(points: Sequence[float], u: float) -> float:
    """Piecewise-linear power curve through ``points`` at 0 %, 10 %, ... 100 %, at load u
    (clipped to [0, 1])."""
    u = min(max(u, 0.0), 1.0)
    n_seg = len(points) - 1
    for k in range(n_seg):
        lo, hi = k / n_seg, (k + 1) / n_seg
        if u <= hi or k == n_seg - 1:
            t = (u - lo) * n_seg  # position inside the segment, 0..1
            return points[k] + t * (points[k + 1] - points[k])
    raise AssertionError("unreachable")


def reference_values(
    cluster: Cluster,
    assignment: Sequence[int],
    imbalance_resources: Sequence[str] = ("cpu", "mem_gb"),
    power_resource: str = "cpu",
) -> dict[str, float]:
    """Every term of one assignment (host index per VM, -1 = unplaced)."""
    x = [int(h) for h in assignment]
    n_hosts, n_vms, n_res = cluster.n_hosts, cluster.n_vms, cluster.n_resources
    assert len(x) == n_vms
    assert all(-1 <= h < n_hosts for h in x)

    cap = cluster.hosts.capacity.tolist()
    demand = cluster.vms.demand.tolist()
    h_region = cluster.hosts.region.tolist()
    h_zone = cluster.hosts.zone.tolist()
    h_rack = cluster.hosts.rack.tolist()
    h_state = cluster.hosts.state.tolist()
    h_gpu = cluster.hosts.gpu_model.tolist()
    h_curve = cluster.hosts.power_curve.tolist()
    curves = cluster.power.watts.tolist()
    h_hourly = cluster.prices.host_hourly.tolist()
    unit = cluster.prices.unit.tolist()  # [zone][pricing][resource]
    latency = cluster.topology.latency_ms.tolist()
    v_gpu = cluster.vms.gpu_model.tolist()
    current = cluster.vms.current.tolist()
    pricing = cluster.vms.pricing.tolist()
    user = cluster.vms.user_region.tolist()
    aa = cluster.vms.anti_affinity.tolist()
    aff = cluster.vms.affinity.tolist()
    migratable = cluster.vms.migratable.tolist()
    aa_level = cluster.anti_affinity.level.tolist()
    aa_max = cluster.anti_affinity.max_per_domain.tolist()
    resources = list(cluster.resources)
    scale = resource_scale(cluster)

    # per-host load and VM count, summed in VM order
    load = [[0.0] * n_res for _ in range(n_hosts)]
    count = [0] * n_hosts
    for v in range(n_vms):
        h = x[v]
        if h >= 0:
            count[h] += 1
            for r in range(n_res):
                load[h][r] += demand[v][r]
    powered = [h for h in range(n_hosts) if count[h] > 0]

    out: dict[str, float] = {}

    # capacity: overload beyond a small relative slack, in units of the mean capacity
    total = 0.0
    for h in range(n_hosts):
        for r in range(n_res):
            slack = CAPACITY_RTOL * max(cap[h][r], 1.0)
            over = load[h][r] - cap[h][r] - slack
            if over > 0:
                total += over / scale[r]
    out["capacity"] = total

    # anti_affinity: members above the limit in each domain of the group's level
    members: dict[int, list[int]] = {}
    for v in range(n_vms):
        if aa[v] >= 0:
            members.setdefault(aa[v], []).append(v)
    excess = 0
    for g, vms in members.items():
        per_domain: dict[int, int] = {}
        for v in vms:
            h = x[v]
            if h < 0:
                continue
            if aa_level[g] == SPREAD_HOST:
                d = h
            elif aa_level[g] == SPREAD_RACK:
                d = h_rack[h]
            else:
                d = h_zone[h]
            per_domain[d] = per_domain.get(d, 0) + 1
        for n in per_domain.values():
            excess += max(0, n - aa_max[g])
    out["anti_affinity"] = float(excess)

    # affinity: distinct hosts of the placed members - 1, per group
    hosts_of: dict[int, set[int]] = {}
    for v in range(n_vms):
        if aff[v] >= 0 and x[v] >= 0:
            hosts_of.setdefault(aff[v], set()).add(x[v])
    out["affinity"] = float(sum(len(s) - 1 for s in hosts_of.values()))

    out["gpu_model"] = float(
        sum(1 for v in range(n_vms) if x[v] >= 0 and v_gpu[v] >= 0 and h_gpu[x[v]] != v_gpu[v])
    )
    out["host_state"] = float(sum(1 for v in range(n_vms) if x[v] >= 0 and h_state[x[v]] != ACTIVE_STATE))
    moved = [current[v] >= 0 and x[v] != current[v] for v in range(n_vms)]
    out["unmigratable"] = float(sum(1 for v in range(n_vms) if moved[v] and not migratable[v]))
    out["unplaced"] = float(sum(1 for v in range(n_vms) if x[v] < 0))
    out["active_hosts"] = float(len(powered))

    # energy: each powered host's curve at its utilisation of the power resource
    p = resources.index(power_resource)
    watts = 0.0
    for h in powered:
        u = load[h][p] / cap[h][p] if cap[h][p] > 0 else 0.0
        watts += curve_watts(curves[h_curve[h]], u)
    out["energy_watts"] = watts

    # hourly cost: placed VMs at their zone's unit prices, plus powered hosts' hourly price
    cost = 0.0
    for v in range(n_vms):
        h = x[v]
        if h >= 0:
            for r in range(n_res):
                cost += demand[v][r] * unit[h_zone[h]][pricing[v]][r]
    for h in powered:
        cost += h_hourly[h]
    out["hourly_cost"] = cost

    # latency: mean over VMs that have a user region; unplaced ones add 0
    with_user = [v for v in range(n_vms) if user[v] >= 0]
    ms = 0.0
    for v in with_user:
        if x[v] >= 0:
            ms += latency[user[v]][h_region[x[v]]]
    out["latency_ms"] = ms / len(with_user) if with_user else 0.0

    mem = resources.index("mem_gb")
    out["migrations"] = float(sum(moved))
    out["migration_gb"] = sum(demand[v][mem] for v in range(n_vms) if moved[v])

    # imbalance: mean over powered hosts of (max - min) utilisation, clipped to [0, 1], of the
    # chosen resources the host has (0 when it has fewer than two of them)
    idx = [resources.index(r) for r in imbalance_resources]
    spreads = []
    for h in powered:
        util = [min(max(load[h][r] / cap[h][r], 0.0), 1.0) for r in idx if cap[h][r] > 0]
        spreads.append(max(util) - min(util) if len(util) >= 2 else 0.0)
    out["imbalance"] = sum(spreads) / len(spreads) if spreads else 0.0

    # consolidation: powered hosts count 1 - (mean clipped utilisation over the resources
    # the host has)^2
    total = 0.0
    for h in powered:
        util = [min(max(load[h][r] / cap[h][r], 0.0), 1.0) for r in range(n_res) if cap[h][r] > 0]
        fill = sum(util) / len(util) if util else 0.0
        total += 1.0 - fill * fill
    out["consolidation"] = total

    # spot_mixing: hosts with at least one spot VM and at least one VM of another pricing
    kinds: dict[int, set[bool]] = {}
    for v in range(n_vms):
        if x[v] >= 0:
            kinds.setdefault(x[v], set()).add(pricing[v] == SPOT_PRICING)
    out["spot_mixing"] = float(sum(1 for s in kinds.values() if s == {True, False}))
    return out


def reference_score(
    values: Mapping[str, float], weights: Mapping[str, float], hard: Mapping[str, bool]
) -> tuple[float, float, bool]:
    """(score, penalty, feasible): score sums weight x value over terms with weight > 0;
    penalty does so over the enabled hard terms; feasible = every enabled hard term is zero."""
    score = penalty = 0.0
    feasible = True
    for name, value in values.items():
        w = weights[name]
        if w <= 0:
            continue
        score += w * value
        if hard[name]:
            penalty += w * value
            if value > FEASIBILITY_TOL:
                feasible = False
    return score, penalty, feasible


def hard_feasible(values: Mapping[str, float]) -> bool:
    """Every constraint is zero, including ``unplaced`` (all VMs placed)."""
    names = ("capacity", "anti_affinity", "affinity", "gpu_model", "host_state", "unmigratable", "unplaced")
    return all(values[n] <= FEASIBILITY_TOL for n in names)
