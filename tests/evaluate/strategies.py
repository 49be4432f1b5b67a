"""Hypothesis strategies: random small, valid cluster snapshots and assignments.

A drawn :class:`Spec` is plain Python data; it is turned into a :class:`Cluster` either
directly (:func:`build_cluster`, fast) or through the validating loader
(:func:`build_tables` + ``cluster_from_tables``, ~50 ms each). Specs are made valid by
construction: every VM is sized from a "home" host that is not failed (affinity groups
share one home and split its capacity), GPU requirements come from the home's model, and
anti-affinity members are kept only while the homes respect the group's limit (so spread is
possible and groups never contradict). With ``planted=True`` homes are active hosts, the
VMs on a home share its capacity, and nothing is pinned elsewhere: the home assignment is
then feasible, which the lower-bound tests rely on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from cluster_opt.io.manifest import SnapshotManifest
from cluster_opt.io.schema import POWER_POINT_NAMES
from cluster_opt.io.write import SnapshotTables
from cluster_opt.model import (
    POWER_POINTS,
    STANDARD_RESOURCES,
    AntiAffinityGroups,
    Cluster,
    Hosts,
    PowerCurves,
    Prices,
    Pricing,
    Topology,
    Vms,
)
from cluster_opt.model.codes import STANDARD_UNITS, HostState, SpreadLevel

EXTRA = "local_ssd_gb"
CAP_CHOICES = {
    "cpu": [0.0, 4.0, 8.0, 16.0, 48.0],
    "mem_gb": [0.0, 16.0, 64.0, 256.0],
    "net_gbps": [0.0, 10.0, 25.0],
    "iops": [0.0, 1000.0, 5000.0],
    "gpus": [0.0, 1.0, 4.0],
    EXTRA: [0.0, 100.0, 1000.0],
}
GPU_MODELS = ("A", "B")
TYPES = ("t0", "t1")
STATE_NAMES = ("active", "maintenance", "failed", "off")
PRICING_NAMES = {Pricing.ON_DEMAND: "on_demand", Pricing.SPOT: "spot", Pricing.RESERVED: "reserved"}
LEVEL_NAMES = ("host", "rack", "zone")


@dataclass
class HostSpec:
    region: int
    zone: int  # within the region
    rack: int  # within the zone
    cap: list[float]
    state: int
    gpu_model: int  # index into GPU_MODELS, -1 = none
    power: tuple  # ("linear", idle, peak) or ("curve", index)
    type: int


@dataclass
class VmSpec:
    demand: list[float]
    gpu_model: int
    current: int
    pricing: int
    user_region: int
    aa: int
    aff: int
    migratable: bool


@dataclass
class Spec:
    resources: tuple[str, ...]
    n_regions: int
    hosts: list[HostSpec]
    vms: list[VmSpec]
    curves: list[list[float]]
    latency: list[list[float]] | None
    unit_prices: dict[tuple[int, int], dict[int, tuple[float, float, float]]]  # zone -> r -> od/res/spot
    host_prices: dict[tuple[int, int], dict[str, float]]  # zone -> "*" or type -> $/h
    aa_groups: list[tuple[int, int]]  # (level, max_per_domain)
    homes: list[int] = field(default_factory=list)

    def zone_keys(self) -> list[tuple[int, int]]:
        return sorted({(h.region, h.zone) for h in self.hosts})

    def rack_keys(self) -> list[tuple[int, int, int]]:
        return sorted({(h.region, h.zone, h.rack) for h in self.hosts})


def _domain(hosts: list[HostSpec], level: int, h: int) -> tuple:
    """Key of host h's domain at a spread level (racks and zones keyed by their path)."""
    host = hosts[h]
    if level == SpreadLevel.HOST:
        return (h,)
    if level == SpreadLevel.RACK:
        return (host.region, host.zone, host.rack)
    return (host.region, host.zone)


prices_st = st.sampled_from([0.0, 0.01, 0.025, 0.04, 0.1])


@st.composite
def specs(draw, planted: bool = False, max_hosts: int = 6, max_vms: int = 10, min_vms: int = 1) -> Spec:
    resources = STANDARD_RESOURCES + ((EXTRA,) if draw(st.booleans()) else ())
    n_res = len(resources)
    n_regions = draw(st.integers(1, 3))
    n_curves = draw(st.integers(0, 2))
    curves = []
    for _ in range(n_curves):
        base = draw(st.floats(0, 300))
        steps = draw(st.lists(st.floats(0, 60), min_size=POWER_POINTS - 1, max_size=POWER_POINTS - 1))
        curves.append([base + sum(steps[:k]) for k in range(POWER_POINTS)])

    n_hosts = draw(st.integers(1, max_hosts))
    hosts = []
    for _ in range(n_hosts):
        cap = [draw(st.sampled_from(CAP_CHOICES[r])) for r in resources]
        gpu = draw(st.sampled_from([-1, -1, 0, 1]))
        if gpu >= 0 and cap[resources.index("gpus")] <= 0:
            cap[resources.index("gpus")] = 2.0  # a host with a GPU model has GPUs
        if n_curves and draw(st.booleans()):
            power = ("curve", draw(st.integers(0, n_curves - 1)))
        else:
            idle = draw(st.floats(0, 300))
            power = ("linear", idle, idle + draw(st.floats(0, 500)))
        hosts.append(
            HostSpec(
                region=draw(st.integers(0, n_regions - 1)),
                zone=draw(st.integers(0, 1)),
                rack=draw(st.integers(0, 1)),
                cap=cap,
                state=draw(st.sampled_from([0, 0, 0, 1, 2, 3])),
                gpu_model=gpu,
                power=power,
                type=draw(st.integers(0, len(TYPES) - 1)),
            )
        )
    home_states = (HostState.ACTIVE,) if planted else (0, 1, 3)
    if not any(h.state in home_states for h in hosts):
        hosts[0].state = int(HostState.ACTIVE)
    home_ok = [i for i, h in enumerate(hosts) if h.state in home_states]

    latency = None
    if draw(st.integers(0, 4)):  # mostly with a latency table
        latency = [
            [
                0.0 if i == j else draw(st.sampled_from([0.0, 5.0, 30.5, 80.0, 150.0]))
                for j in range(n_regions)
            ]
            for i in range(n_regions)
        ]
    zones = sorted({(h.region, h.zone) for h in hosts})
    types = ["*"] + [t for i, t in enumerate(TYPES) if any(h.type == i for h in hosts)]
    unit_prices: dict = {}
    host_prices: dict = {}
    for z in zones:
        unit_prices[z] = {
            r: (draw(prices_st), draw(prices_st), draw(prices_st))
            for r in range(n_res)
            if draw(st.booleans())
        }
        host_prices[z] = {
            k: draw(st.sampled_from([0.1, 0.35, 1.0])) for k in types if draw(st.integers(0, 2)) == 0
        }
    aa_groups = [(draw(st.integers(0, 2)), draw(st.integers(1, 2))) for _ in range(draw(st.integers(0, 2)))]
    n_aff = draw(st.integers(0, 2))

    n_vms = draw(st.integers(min_vms, max_vms))
    aff = [draw(st.integers(-1, n_aff - 1)) if n_aff else -1 for _ in range(n_vms)]
    aff_home = {g: draw(st.sampled_from(home_ok)) for g in range(n_aff)}
    homes = [aff_home[a] if a >= 0 else draw(st.sampled_from(home_ok)) for a in aff]
    share = [
        (homes.count(homes[v]) if planted else (aff.count(aff[v]) if aff[v] >= 0 else 1))
        for v in range(n_vms)
    ]
    # anti-affinity membership, kept only while the homes respect the group's limit
    per_domain: dict[tuple, int] = {}
    vms = []
    for v in range(n_vms):
        home = hosts[homes[v]]
        frac = [draw(st.one_of(st.sampled_from([0.0, 0.25, 0.5, 1.0]), st.floats(0, 1))) for _ in resources]
        demand = [home.cap[r] * frac[r] / share[v] for r in range(n_res)]
        g = draw(st.integers(-1, len(aa_groups) - 1))
        if g >= 0:
            level, limit = aa_groups[g]
            key = (g, _domain(hosts, level, homes[v]))
            if per_domain.get(key, 0) >= limit:
                g = -1
            else:
                per_domain[key] = per_domain.get(key, 0) + 1
        current = draw(st.integers(-1, n_hosts - 1))
        vms.append(
            VmSpec(
                demand=demand,
                gpu_model=home.gpu_model if home.gpu_model >= 0 and draw(st.booleans()) else -1,
                current=current,
                pricing=draw(st.sampled_from([int(p) for p in Pricing])),
                user_region=draw(st.integers(-1, n_regions - 1)),
                aa=g,
                aff=aff[v],
                migratable=True if planted and current != homes[v] else draw(st.booleans()),
            )
        )
    return Spec(resources, n_regions, hosts, vms, curves, latency, unit_prices, host_prices, aa_groups, homes)


def _compact(codes: list[int]) -> tuple[np.ndarray, list[int]]:
    """Codes renumbered to the groups that have members (in code order), and the kept codes."""
    kept = sorted({c for c in codes if c >= 0})
    index = {c: i for i, c in enumerate(kept)}
    return np.array([index.get(c, -1) for c in codes], dtype=np.int32), kept


def build_cluster(spec: Spec) -> Cluster:
    """The Cluster of a spec, built directly from the dataclasses (no validation)."""
    res = spec.resources
    hs, vs = spec.hosts, spec.vms
    n_res = len(res)
    zones = spec.zone_keys()
    racks = spec.rack_keys()
    zone_of = {z: i for i, z in enumerate(zones)}
    rack_of = {k: i for i, k in enumerate(racks)}
    host_zone = np.array([zone_of[(h.region, h.zone)] for h in hs], dtype=np.int32)
    n_named = len(spec.curves)
    watts = [*spec.curves]
    curve_idx = []
    for h in hs:
        if h.power[0] == "curve":
            curve_idx.append(h.power[1])
        else:
            curve_idx.append(len(watts))
            watts.append(list(np.linspace(h.power[1], h.power[2], POWER_POINTS)))
    names = [f"c{i}" for i in range(n_named)] + [f"linear{i}" for i in range(len(watts) - n_named)]

    unit = np.zeros((len(zones), len(Pricing), n_res))
    for z, per_res in spec.unit_prices.items():
        for r, (od, rs, sp) in per_res.items():
            unit[zone_of[z], Pricing.ON_DEMAND, r] = od
            unit[zone_of[z], Pricing.RESERVED, r] = rs
            unit[zone_of[z], Pricing.SPOT, r] = sp
    hourly = np.zeros(len(hs))
    for i, h in enumerate(hs):
        rates = spec.host_prices.get((h.region, h.zone), {})
        rate = rates.get(TYPES[h.type], rates.get("*"))
        hourly[i] = 0.0 if rate is None else rate

    aa, aa_kept = _compact([v.aa for v in vs])
    aff, aff_kept = _compact([v.aff for v in vs])
    lat = np.zeros((spec.n_regions, spec.n_regions)) if spec.latency is None else np.array(spec.latency)
    return Cluster(
        resources=res,
        units=tuple(STANDARD_UNITS.get(r, "") for r in res),
        hosts=Hosts(
            ids=np.array([f"h{i}" for i in range(len(hs))], dtype=object),
            capacity=np.array([h.cap for h in hs], dtype=np.float64).reshape(len(hs), n_res),
            region=np.array([h.region for h in hs], dtype=np.int32),
            zone=host_zone,
            rack=np.array([rack_of[(h.region, h.zone, h.rack)] for h in hs], dtype=np.int32),
            state=np.array([h.state for h in hs], dtype=np.int8),
            gpu_model=np.array([h.gpu_model for h in hs], dtype=np.int32),
            numa_nodes=np.ones(len(hs), dtype=np.int32),
            power_curve=np.array(curve_idx, dtype=np.int32),
            host_type=np.array([h.type for h in hs], dtype=np.int32),
            labels=np.array([""] * len(hs), dtype=object),
        ),
        vms=Vms(
            ids=np.array([f"v{i}" for i in range(len(vs))], dtype=object),
            demand=np.array([v.demand for v in vs], dtype=np.float64).reshape(len(vs), n_res),
            tenant=np.full(len(vs), -1, dtype=np.int32),
            gpu_model=np.array([v.gpu_model for v in vs], dtype=np.int32),
            current=np.array([v.current for v in vs], dtype=np.int32),
            pricing=np.array([v.pricing for v in vs], dtype=np.int8),
            user_region=np.array([v.user_region for v in vs], dtype=np.int32),
            anti_affinity=aa,
            affinity=aff,
            migratable=np.array([v.migratable for v in vs], dtype=bool),
            priority=np.zeros(len(vs), dtype=np.int32),
        ),
        topology=Topology(
            regions=tuple(f"r{i}" for i in range(spec.n_regions)),
            zones=tuple(f"r{r}/z{z}" for r, z in zones),
            racks=tuple(f"r{r}/z{z}/k{k}" for r, z, k in racks),
            zone_region=np.array([r for r, _ in zones], dtype=np.int32),
            rack_zone=np.array([zone_of[(r, z)] for r, z, _ in racks], dtype=np.int32),
            latency_ms=lat,
        ),
        anti_affinity=AntiAffinityGroups(
            names=tuple(f"g{g}" for g in aa_kept),
            level=np.array([spec.aa_groups[g][0] for g in aa_kept], dtype=np.int8),
            max_per_domain=np.array([spec.aa_groups[g][1] for g in aa_kept], dtype=np.int32),
        ),
        affinity_groups=tuple(f"a{g}" for g in aff_kept),
        tenants=(),
        gpu_models=GPU_MODELS,
        host_types=TYPES,
        power=PowerCurves(tuple(names), np.array(watts, dtype=np.float64).reshape(-1, POWER_POINTS)),
        prices=Prices(unit=unit, host_hourly=hourly),
    )


def build_tables(spec: Spec) -> SnapshotTables:
    """The same spec as snapshot tables, for ``cluster_from_tables``."""
    res = spec.resources
    host_rows = []
    for i, h in enumerate(spec.hosts):
        row = {
            "id": f"h{i}",
            "region": f"r{h.region}",
            "zone": f"z{h.zone}",
            "rack": f"k{h.rack}",
            **dict(zip(res, h.cap, strict=True)),
            "gpu_model": GPU_MODELS[h.gpu_model] if h.gpu_model >= 0 else "",
            "state": STATE_NAMES[h.state],
            "type": TYPES[h.type],
        }
        if h.power[0] == "curve":
            row["power_curve"] = f"c{h.power[1]}"
        else:
            row["idle_watts"], row["peak_watts"] = h.power[1], h.power[2]
        host_rows.append(row)
    vm_rows = []
    for i, v in enumerate(spec.vms):
        level, limit = spec.aa_groups[v.aa] if v.aa >= 0 else (0, 1)
        vm_rows.append(
            {
                "id": f"v{i}",
                **dict(zip(res, v.demand, strict=True)),
                "gpu_model": GPU_MODELS[v.gpu_model] if v.gpu_model >= 0 else "",
                "host": f"h{v.current}" if v.current >= 0 else "",
                "pricing": PRICING_NAMES[Pricing(v.pricing)],
                "user_region": f"r{v.user_region}" if v.user_region >= 0 else "",
                "anti_affinity_group": f"g{v.aa}" if v.aa >= 0 else "",
                "spread_level": LEVEL_NAMES[level],
                "max_per_domain": limit,
                "affinity_group": f"a{v.aff}" if v.aff >= 0 else "",
                "migratable": v.migratable,
            }
        )
    regions = None
    if spec.latency is not None:
        known = {h.region for h in spec.hosts} | {v.user_region for v in spec.vms if v.user_region >= 0}
        rows = [
            (f"r{i}", f"r{j}", spec.latency[i][j]) for i in sorted(known) for j in sorted(known) if i != j
        ]
        regions = pd.DataFrame(rows, columns=["src", "dst", "latency_ms"]) if rows else None
    price_rows = []
    for (r, z), per_res in spec.unit_prices.items():
        for k, (od, rs, sp) in per_res.items():
            price_rows.append((f"r{r}", f"z{z}", res[k], od, rs, sp))
    for (r, z), per_type in spec.host_prices.items():
        for t, rate in per_type.items():
            price_rows.append((f"r{r}", f"z{z}", f"host:{t}", rate, np.nan, np.nan))
    prices = (
        pd.DataFrame(price_rows, columns=["region", "zone", "item", "on_demand", "reserved", "spot"])
        if price_rows
        else None
    )
    curves = (
        pd.DataFrame(
            [
                {"name": f"c{i}", **dict(zip(POWER_POINT_NAMES, w, strict=True))}
                for i, w in enumerate(spec.curves)
            ]
        )
        if spec.curves
        else None
    )
    manifest = SnapshotManifest(resources=[{"name": r} for r in res if r not in STANDARD_RESOURCES])
    return SnapshotTables(manifest, pd.DataFrame(host_rows), pd.DataFrame(vm_rows), regions, prices, curves)


@st.composite
def populations(
    draw, n_vms: int, n_hosts: int, extra_rows: list[list[int]] = (), max_rows: int = 4
) -> np.ndarray:
    """int32[P, V]: random rows with -1 and any host (bad states included), plus
    ``extra_rows`` and random mutations of them."""
    rows = [list(r) for r in extra_rows]
    for base in list(rows):
        if n_vms and draw(st.booleans()):
            mutated = list(base)
            for _ in range(draw(st.integers(1, 3))):
                mutated[draw(st.integers(0, n_vms - 1))] = draw(st.integers(-1, n_hosts - 1))
            rows.append(mutated)
    n_random = draw(st.integers(0 if rows else 1, max_rows))
    for _ in range(n_random):
        rows.append(draw(st.lists(st.integers(-1, n_hosts - 1), min_size=n_vms, max_size=n_vms)))
    return np.array(rows, dtype=np.int32).reshape(len(rows), n_vms)
