"""Cross-table checks of a snapshot: each reports every offending row to the collector.

All checks are vectorised over rows; Python loops run only over the rows being reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cluster_opt.io.issues import IssueCollector
from cluster_opt.io.schema import POWER_POINT_NAMES
from cluster_opt.model.cluster import PowerCurves
from cluster_opt.model.codes import POWER_POINTS, HostState, Pricing, SpreadLevel

if TYPE_CHECKING:
    from cluster_opt.io.load import _Table

#: Absolute slack when comparing demand with capacity (float noise in summed demands).
FIT_EPS = 1e-9


def latency_matrix(
    table: _Table | None,
    regions: list[str],
    host_regions: list[str],
    user_regions: list[str],
    issues: IssueCollector,
) -> np.ndarray:
    """Region x region latency in ms. A pair given in one direction only is mirrored.

    Every (user region, host region) pair must be present when the table exists.
    """
    n = len(regions)
    lat = np.full((n, n), np.nan)
    np.fill_diagonal(lat, 0.0)
    if table is None:
        return np.zeros((n, n))
    idx = {r: i for i, r in enumerate(regions)}
    known = set(host_regions) | set(user_regions)
    src, dst, ms = table.cols["src"], table.cols["dst"], table.cols["latency_ms"]
    seen: dict[tuple[int, int], int] = {}
    explicit = np.zeros((n, n), dtype=bool)
    for r in range(table.n):
        bad = [c for c, val in (("src", src[r]), ("dst", dst[r])) if val and val not in known]
        for c in bad:
            val = src[r] if c == "src" else dst[r]
            issues.add(
                table.file,
                f"unknown region {val!r}: no host is in it and no VM's users are",
                row=r + 1,
                column=c,
            )
        if bad or not src[r] or not dst[r] or np.isnan(ms[r]):
            continue
        i, j = idx[src[r]], idx[dst[r]]
        if (i, j) in seen and lat[i, j] != ms[r]:
            issues.add(
                table.file,
                f"pair ({src[r]}, {dst[r]}) given twice with different values "
                f"(row {seen[(i, j)] + 1}: {lat[i, j]:g})",
                row=r + 1,
                column="latency_ms",
            )
            continue
        seen[(i, j)] = r
        lat[i, j] = ms[r]
        explicit[i, j] = True
    mirror = ~explicit & explicit.T
    lat[mirror] = lat.T[mirror]
    for u in user_regions:
        for hr in host_regions:
            if np.isnan(lat[idx[u], idx[hr]]):
                issues.add(table.file, f"no latency for user region {u!r} -> host region {hr!r}")
    return np.nan_to_num(lat, nan=0.0)


def power_curves(
    hosts: _Table, curves: _Table | None, issues: IssueCollector
) -> tuple[PowerCurves, np.ndarray]:
    """The power curve table (named curves, then one linear curve per distinct idle/peak
    pair) and each host's curve index."""
    h = hosts.cols
    names: list[str] = []
    rows: list[np.ndarray] = []
    if curves is not None and curves.n:
        names = [str(x) for x in curves.cols["name"]]
        table = np.column_stack([curves.cols[p] for p in POWER_POINT_NAMES])
        rows = list(np.nan_to_num(table, nan=0.0))
        decreasing = np.flatnonzero((np.diff(table, axis=1) < 0).any(axis=1))
        issues.add_rows(
            curves.file, None, decreasing, curves.cols["name"], "power must not decrease as load rises"
        )
    by_name = {n: i for i, n in enumerate(names)}
    named = h["power_curve"] != ""
    curve_idx = pd.Series(h["power_curve"], dtype=object).map(by_name).fillna(-1).to_numpy(dtype=np.int32)
    issues.add_rows(
        hosts.file,
        "power_curve",
        np.flatnonzero(named & (curve_idx < 0)),
        h["id"],
        lambda r: (
            f"unknown power curve {h['power_curve'][r]!r}"
            + ("" if curves is not None else " (no power_curves table)")
        ),
    )
    idle, peak = h["idle_watts"], h["peak_watts"]
    linear = ~named
    no_model = linear & (np.isnan(idle) | np.isnan(peak))
    issues.add_rows(
        hosts.file,
        "idle_watts",
        np.flatnonzero(no_model),
        h["id"],
        "no power model: give idle_watts and peak_watts, or power_curve",
    )
    inverted = linear & ~no_model & (idle > peak)
    issues.add_rows(
        hosts.file,
        "peak_watts",
        np.flatnonzero(inverted),
        h["id"],
        lambda r: f"peak_watts {peak[r]:g} is below idle_watts {idle[r]:g}",
    )
    ok = linear & ~no_model
    if ok.any():
        pairs = pd.DataFrame({"i": idle[ok], "p": peak[ok]})
        codes, uniq = pd.factorize(pd.MultiIndex.from_frame(pairs), sort=True)
        base = len(names)
        for i, p in uniq:
            names.append(f"linear:{i:g}-{p:g}")
            rows.append(np.linspace(i, p, POWER_POINTS))
        curve_idx[ok] = base + codes
    watts = np.vstack(rows) if rows else np.zeros((1, POWER_POINTS))
    if not names:
        names = ["none"]
    curve_idx[curve_idx < 0] = 0
    return PowerCurves(tuple(names), watts.astype(np.float64)), curve_idx


def anti_affinity_groups(
    vms: _Table, aa_code: np.ndarray, n_groups: int, issues: IssueCollector
) -> tuple[np.ndarray, np.ndarray]:
    """Spread level and max per domain of every group; members must agree on both."""
    v = vms.cols
    level = np.zeros(n_groups, dtype=np.int8)
    limit = np.ones(n_groups, dtype=np.int32)
    member = np.flatnonzero(aa_code >= 0)
    if not member.size:
        return level, limit
    g = aa_code[member]
    order = np.argsort(g, kind="stable")
    first = np.full(n_groups, -1, dtype=np.int64)
    sorted_g = g[order]
    starts = np.flatnonzero(np.r_[True, sorted_g[1:] != sorted_g[:-1]])
    first[sorted_g[starts]] = member[order[starts]]
    level[:] = v["spread_level"][first]
    limit[:] = v["max_per_domain"][first]
    lvl_names = [s.name.lower() for s in SpreadLevel]
    for col, ref in (("spread_level", level), ("max_per_domain", limit)):
        differ = member[v[col][member] != ref[g]]
        issues.add_rows(
            vms.file,
            col,
            differ,
            v["id"],
            lambda r, col=col, ref=ref: (
                f"group {v['anti_affinity_group'][r]!r} has "
                f"{lvl_names[ref[aa_code[r]]] if col == 'spread_level' else ref[aa_code[r]]} "
                f"in row {first[aa_code[r]] + 1}; all members must agree"
            ),
        )
    return level, limit


def groups_not_contradictory(
    vms: _Table,
    aa_code: np.ndarray,
    aff_code: np.ndarray,
    aa_names: list[str],
    aff_names: list[str],
    aa_max: np.ndarray,
    issues: IssueCollector,
) -> None:
    """VMs of one affinity group share a host, hence every domain: no more than the
    anti-affinity limit of them may belong to one anti-affinity group."""
    both = np.flatnonzero((aa_code >= 0) & (aff_code >= 0))
    if not both.size:
        return
    key = pd.DataFrame({"aa": aa_code[both], "aff": aff_code[both]})
    count = key.groupby(["aa", "aff"])["aa"].transform("size").to_numpy()
    bad = both[count > aa_max[aa_code[both]]]
    ids = vms.cols["id"]
    for r in bad:
        mates = [
            str(ids[o]) for o in both if aa_code[o] == aa_code[r] and aff_code[o] == aff_code[r] and o != r
        ]
        issues.add(
            vms.file,
            f"contradictory groups: affinity group {aff_names[aff_code[r]]!r} requires it on one host "
            f"with {', '.join(mates)}, but anti-affinity group {aa_names[aa_code[r]]!r} allows "
            f"{aa_max[aa_code[r]]} per domain",
            row=int(r) + 1,
            row_id=str(ids[r]),
            column="affinity_group",
        )


def spread_possible(
    vms: _Table,
    aa_code: np.ndarray,
    aa_names: list[str],
    aa_level: np.ndarray,
    aa_max: np.ndarray,
    n_domains: tuple[int, int, int],
    issues: IssueCollector,
) -> None:
    """A group of n members needs at least ceil(n / max_per_domain) domains at its level."""
    if not len(aa_names):
        return
    size = np.bincount(aa_code[aa_code >= 0], minlength=len(aa_names))
    avail = np.asarray(n_domains)[aa_level]
    for g in np.flatnonzero(size > aa_max * avail):
        issues.add(
            vms.file,
            f"anti-affinity group {aa_names[g]!r} has {size[g]} members but only {avail[g]} "
            f"{SpreadLevel(int(aa_level[g])).name.lower()} domains at {aa_max[g]} per domain",
            column="anti_affinity_group",
        )


def pareto_maximal(rows: np.ndarray) -> np.ndarray:
    """Distinct rows of ``rows`` not dominated by another (>= in every column).

    Complexity O(U^2 R) for U distinct rows; host shapes are few in practice.
    """
    uniq = np.unique(rows, axis=0)
    if len(uniq) <= 1:
        return uniq
    keep = np.ones(len(uniq), dtype=bool)
    for i in range(len(uniq)):
        if not keep[i]:
            continue
        dominated = (uniq <= uniq[i]).all(axis=1)
        dominated[i] = False
        keep &= ~dominated
    return uniq[keep]


def fits_any(demand: np.ndarray, shapes: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """bool[n]: demand row fits within at least one shape row (with FIT_EPS slack)."""
    out = np.zeros(len(demand), dtype=bool)
    if not len(shapes):
        return out
    for s in range(0, len(demand), chunk):
        d = demand[s : s + chunk]
        out[s : s + chunk] = (d[:, None, :] <= shapes[None, :, :] + FIT_EPS).all(axis=2).any(axis=1)
    return out


def vms_fit_somewhere(
    vms: _Table,
    hosts: _Table,
    resources: tuple[str, ...],
    capacity: np.ndarray,
    demand: np.ndarray,
    host_state: np.ndarray,
    host_gpu: np.ndarray,
    vm_gpu: np.ndarray,
    aff_code: np.ndarray,
    issues: IssueCollector,
) -> None:
    """Every VM, and every affinity group's total demand, must fit in at least one
    non-failed host with the required GPU model."""
    alive = host_state != HostState.FAILED
    ids = vms.cols["id"]
    for model in np.unique(vm_gpu):
        compatible = alive & ((host_gpu == model) if model >= 0 else True)
        shapes = pareto_maximal(capacity[compatible])
        rows = np.flatnonzero(vm_gpu == model)
        bad = rows[~fits_any(demand[rows], shapes)]
        what = "host" if model < 0 else f"host with GPU model {vms.cols['gpu_model'][rows[0]]!r}"
        if bad.size and not compatible.any():
            issues.add_rows(
                vms.file, "gpu_model" if model >= 0 else None, bad, ids, f"no non-failed {what} exists"
            )
            continue
        biggest = capacity[compatible].max(axis=0)
        for r in bad:
            over = [
                f"{res} {demand[r, k]:g} > largest {biggest[k]:g}"
                for k, res in enumerate(resources)
                if demand[r, k] > biggest[k] + FIT_EPS
            ]
            why = (
                "; ".join(over)
                if over
                else "no single host has all of "
                + ", ".join(
                    f"{res} >= {demand[r, k]:g}" for k, res in enumerate(resources) if demand[r, k] > 0
                )
            )
            issues.add(
                vms.file,
                f"VM is larger than every compatible {what}: {why}",
                row=int(r) + 1,
                row_id=str(ids[r]),
                column=None,
            )
    grouped = np.flatnonzero(aff_code >= 0)
    if grouped.size:
        total = np.zeros((int(aff_code.max()) + 1, demand.shape[1]))
        np.add.at(total, aff_code[grouped], demand[grouped])
        shapes = pareto_maximal(capacity[alive]) if alive.any() else np.zeros((0, demand.shape[1]))
        too_big = np.flatnonzero(
            ~fits_any(total, shapes) & (np.bincount(aff_code[grouped], minlength=len(total)) > 0)
        )
        for g in too_big:
            first = grouped[aff_code[grouped] == g][0]
            issues.add(
                vms.file,
                f"affinity group {vms.cols['affinity_group'][first]!r} needs "
                + ", ".join(f"{res} {total[g, k]:g}" for k, res in enumerate(resources) if total[g, k] > 0)
                + " on one host; no host is that large",
                row=int(first) + 1,
                row_id=str(ids[first]),
                column="affinity_group",
            )


def price_tables(
    prices: _Table | None,
    resources: tuple[str, ...],
    zones: list[str],
    host_zone: np.ndarray,
    host_type: np.ndarray,
    issues: IssueCollector,
) -> tuple[np.ndarray, np.ndarray]:
    """unit[Z, 3, R] ($/h per unit by zone and pricing class) and host_hourly[H]."""
    unit = np.zeros((len(zones), len(Pricing), len(resources)))
    host_hourly = np.zeros(len(host_zone))
    if prices is None:
        return unit, host_hourly
    p = prices.cols
    zidx = {z: i for i, z in enumerate(zones)}
    types = {str(t) for t in host_type}
    host_rate: dict[tuple[int, str], float] = {}
    seen: dict[tuple[str, str], int] = {}
    column_of = {Pricing.ON_DEMAND: "on_demand", Pricing.RESERVED: "reserved", Pricing.SPOT: "spot"}
    for r in range(prices.n):
        zone = f"{p['region'][r]}/{p['zone'][r]}"
        item = p["item"][r]
        row = r + 1
        if zone not in zidx:
            issues.add(prices.file, f"unknown zone {zone!r}: no host is in it", row=row, column="zone")
            continue
        if (zone, item) in seen:
            issues.add(
                prices.file,
                f"({zone}, {item}) already priced in row {seen[(zone, item)] + 1}",
                row=row,
                column="item",
            )
            continue
        seen[(zone, item)] = r
        z = zidx[zone]
        if item.startswith("host:"):
            htype = item[5:]
            if htype != "*" and htype not in types:
                issues.add(
                    prices.file,
                    f"unknown host type {htype!r}; hosts have {sorted(types)}",
                    row=row,
                    column="item",
                )
            for col in ("reserved", "spot"):
                if not np.isnan(p[col][r]):
                    issues.add(
                        prices.file,
                        "host items take only on_demand (the hourly cost of a powered-on host)",
                        row=row,
                        column=col,
                    )
            if np.isnan(p["on_demand"][r]):
                issues.add(prices.file, "missing value", row=row, column="on_demand")
            host_rate[(z, htype)] = float(np.nan_to_num(p["on_demand"][r]))
        elif item in resources:
            k = resources.index(item)
            for cls, col in column_of.items():
                if np.isnan(p[col][r]):
                    issues.add(prices.file, "missing value", row=row, column=col)
                else:
                    unit[z, cls, k] = p[col][r]
        else:
            issues.add(
                prices.file,
                f"unknown item {item!r}: use a resource ({', '.join(resources)}) or host:<type> / host:*",
                row=row,
                column="item",
            )
    for h in range(len(host_zone)):
        z = int(host_zone[h])
        rate = host_rate.get((z, str(host_type[h])), host_rate.get((z, "*")))
        if rate is not None:
            host_hourly[h] = rate
    return unit, host_hourly
