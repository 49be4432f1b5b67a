"""Peers side by side, in one run, at equal wall time (issue 7 section 4).

On generated clusters (``--sizes`` hosts, 10 VMs per host, 3 regions, generator seed
``--cluster-seed``) and on ROADEF/EURO 2012 set A, each peer gets ``--time`` seconds of wall
clock (building its model or population included):

* ``ours``: :func:`run_ours` (the distributed engine, 2 islands on local Ray started once;
  ROADEF: :func:`run_ours_roadef`, what ``cluster-opt roadef`` runs);
* ``cpsat-full``: OR-Tools CP-SAT with its own search on the full model (our exact model of
  cluster_opt/solve/cpsat with every VM x usable host pair; ROADEF: the standard model of
  peers_roadef.py), no hint, no seed, in a child process capped at 10 GiB; a model that does
  not build or finds nothing in time is reported as such, with its size;
* ``cpsat-restricted`` (generated clusters): the same model restricted like our ``cpsat``
  solver (each VM keeps its cheapest hosts, 100,000 booleans in all), still no hint;
* ``stock-nsga2``: pymoo 0.6.2 NSGA-II with its documented integer operators (peers_nsga2.py),
  best scalar score at the time limit;
* ``ffd``, ``bfd``: cluster_opt.solve.construct.

Then, on generated clusters, hypervolume at equal evaluations: our ``nsga2`` for ``--time``
seconds, stock NSGA-II (random start, and seeded with our initial population) for as many
evaluations, one normalisation (our solver's).

Ratios are ours / peer (below 1: ours is lower, i.e. better); medians over ``--seeds``.

    python benchmarks/peers.py [--time 60] [--sizes 1000,5000] [--seeds 1]
        [--instances a1_1,...|none] [--data ../shared/data] [--out runs/peers.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from common import DEFAULT_CACHE, DEFAULT_DATA, generated_snapshot, machine
from peers_cpsat import full_model_pairs, run_capped, solve_generated
from peers_nsga2 import run_ours_nsga2, run_stock
from peers_roadef import A_INSTANCES, checked, load, solve_cpsat

import cluster_opt.roadef.search  # noqa: F401  (registers the roadef-ls solver)
from cluster_opt.distributed import EngineSettings, optimize
from cluster_opt.distributed.runtime import connect
from cluster_opt.evaluate import Evaluator, Problem
from cluster_opt.io import load_snapshot
from cluster_opt.solve.base import SOLVERS, Deadline, Solution
from cluster_opt.solve.construct import construct

#: Objectives of stock NSGA-II on ROADEF (the official cost components).
ROADEF_OBJECTIVES = [
    "roadef_load",
    "roadef_balance",
    "roadef_process_move",
    "roadef_service_move",
    "roadef_machine_move",
]
#: Stock NSGA-II at equal evaluations may run at most this multiple of ``--time``.
STOCK_CAP = 3.0


def run_ours(problem: Problem, seconds: float, seed: int) -> Solution:
    """Our engine on a general problem: the distributed engine, 2 islands on the local Ray
    that :func:`main` starts once (as a deployment keeps Ray running)."""
    return optimize(problem, seconds, settings=EngineSettings(islands=2), seed=seed).best


def run_ours_roadef(problem: Problem, seconds: float, seed: int) -> Solution:
    """Our solver on a ROADEF problem: the registered ``roadef-ls`` solver from the
    original assignment, as ``cluster-opt roadef`` runs it."""
    return SOLVERS["roadef-ls"](problem, seed=seed).run(Deadline(seconds))


def measures(problem: Problem, x: np.ndarray | None) -> dict:
    """Score, feasibility and the headline terms of an assignment (None: no solution)."""
    if x is None:
        return {"score": None, "feasible": False}
    ev = Evaluator(problem).one(np.asarray(x, dtype=np.int32), details=False)
    v = ev.values
    return {
        "score": ev.score,
        "feasible": bool(ev.feasible),
        "active_hosts": int(v.get("active_hosts", 0)),
        "energy_kw": v.get("energy_watts", 0.0) / 1000,
        "unplaced": int(v.get("unplaced", 0)),
    }


def timed_row(name: str, fn: Callable[[], np.ndarray | None], problem: Problem) -> dict:
    start = time.monotonic()
    x = fn()
    return {"peer": name, "seconds": time.monotonic() - start, "x": x, **measures(problem, x)}


def cpsat_row(name: str, info: dict, problem: Problem | None) -> dict:
    """A row from a capped CP-SAT run: its measures when it found a solution, else a note
    saying how far it got."""
    x = info.get("x")
    # seconds: the child's clock (model building + search) when it finished, else the parent's
    row = {
        "peer": name,
        "seconds": info.get("elapsed", info["wall"]),
        "x": x,
        "status": info.get("status", "-"),
    }
    row |= {k: info.get(k) for k in ("variables", "pairs", "build_s", "peak_gib", "outcome", "phase")}
    if problem is not None:
        row |= measures(problem, x)
    if info["outcome"] == "killed":
        what = "building the model" if info["phase"] in ("started", "spawning") else "solving"
        row["note"] = f"killed after {info['wall']:.0f} s while {what}"
    elif info["outcome"] in ("error", "crashed"):
        row["note"] = info.get("error", "failed")
    elif x is None:
        row["note"] = f"built in {info['build_s']:.1f} s, no solution ({info.get('status')})"
    return row


def generated_rows(problem: Problem, seconds: float, seed: int, pairs: int) -> list[dict]:
    """Every peer on one generated cluster with one seed, plus the hypervolume runs."""
    rows = [
        timed_row("ours", lambda: run_ours(problem, seconds, seed).x, problem),
        cpsat_row(
            "cpsat-full", run_capped(solve_generated, (problem, seconds, seed, False), seconds), problem
        ),
        cpsat_row(
            "cpsat-restricted", run_capped(solve_generated, (problem, seconds, seed, True), seconds), problem
        ),
    ]
    if rows[1].get("pairs") is None:  # not built: the size counted (or estimated) beforehand
        rows[1]["pairs"] = pairs
    ours, mine, initial = run_ours_nsga2(problem, seconds, seed, population=20)
    stock = run_stock(
        problem,
        seed,
        seconds=seconds,
        cap=STOCK_CAP * seconds,
        evaluations=mine["evaluations"],
        reference=ours,
    )
    at_time = stock["at_time"]
    rows.append(
        {"peer": "stock-nsga2", **at_time, **(measures(problem, at_time["x"]) if at_time["feasible"] else {})}
    )
    seeded = run_stock(
        problem,
        seed,
        seconds=0.0,
        cap=STOCK_CAP * seconds,
        evaluations=mine["evaluations"],
        reference=ours,
        initial=initial,
    )
    for name, snap in (
        ("hv:ours-nsga2", mine),
        ("hv:stock-nsga2", stock["at_evaluations"] or {**at_time, "note": "capped before equal evaluations"}),
        ("hv:stock-nsga2@time", at_time),
        ("hv:stock-nsga2-seeded", seeded["at_evaluations"] or {**seeded["at_time"], "note": "capped"}),
    ):
        rows.append({"peer": name, **{k: v for k, v in snap.items() if k != "x"}})
    for name in ("ffd", "bfd"):
        rows.append(timed_row(name, lambda name=name: construct(problem, name), problem))
    return rows


def roadef_rows(folder: Path, name: str, seconds: float, seed: int) -> list[dict]:
    """Every peer on one ROADEF instance; every solution goes through the exact checker."""
    inst, x0, problem = load(folder, name)
    rows = [{"peer": "initial", "x": x0, **checked(inst, x0, x0)}]
    start = time.monotonic()
    x = run_ours_roadef(problem, seconds, seed).x
    rows.append({"peer": "ours", "seconds": time.monotonic() - start, "x": x})
    rows.append(cpsat_row("cpsat-full", run_capped(solve_cpsat, (inst, x0, seconds, seed), seconds), None))
    stock = run_stock(
        problem, seed, seconds=seconds, cap=seconds, settings={"objectives": ROADEF_OBJECTIVES}
    )["at_time"]
    note = (
        {} if stock["feasible"] else {"note": f"no feasible individual in {stock['evaluations']} evaluations"}
    )
    rows.append({"peer": "stock-nsga2", **stock, **note, "x": stock["x"] if stock["feasible"] else None})
    for rule in ("ffd", "bfd"):
        start = time.monotonic()
        rows.append({"peer": rule, "x": construct(problem, rule), "seconds": time.monotonic() - start})
    for row in rows[1:]:
        row |= checked(inst, x0, row["x"])
    return rows


# -- tables ----------------------------------------------------------------------------------
def median(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def ratio(ours: float | None, peer: float | None, ok: bool = True) -> str:
    if ours is None or peer is None or not ok or peer == 0:
        return "-"
    r = ours / peer
    return f"{r:.3f}" if r >= 0.01 else f"{r:.1e}"


def verdict(row: dict) -> str:
    """Short label of a ROADEF row the checker did not accept."""
    reason = row.get("reason") or ""
    if reason == "no solution":
        return "no solution"
    return "incomplete" if reason.startswith("incomplete") else "invalid"


def by_peer(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["peer"], []).append(r)
    return out


def generated_table(instance: str, rows: list[dict]) -> list[str]:
    """Markdown: one line per peer with medians and ours / peer ratios; then hypervolumes."""
    peers = by_peer(rows)
    ours = peers["ours"]
    o_score, o_hosts, o_kw = (median(ours, k) for k in ("score", "active_hosts", "energy_kw"))
    lines = [
        f"**{instance}**",
        "",
        "| peer | score | feasible | active hosts | energy kW | unplaced | wall s | ours/peer score |"
        " ours/peer hosts | ours/peer energy | note |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ("ours", "cpsat-full", "cpsat-restricted", "stock-nsga2", "ffd", "bfd"):
        rs = peers.get(name, [])
        if not rs:
            continue
        feasible = all(r.get("feasible") for r in rs)
        score, hosts, kw = (median(rs, k) for k in ("score", "active_hosts", "energy_kw"))
        notes = {r.get("note") for r in rs if r.get("note")}
        if name.startswith("cpsat"):
            notes.add(
                f"{fmt(median(rs, 'pairs'), 0)} pairs, {fmt(median(rs, 'variables'), 0)} vars, "
                f"peak {fmt(median(rs, 'peak_gib'), 1)} GiB, status {rs[0].get('status', '-')}"
            )
        comparable = feasible and (median(rs, "unplaced") or 0) <= (median(ours, "unplaced") or 0)
        if feasible and not comparable:
            notes.add("hosts and energy not comparable: it leaves more VMs unplaced")
        if name == "stock-nsga2" and not feasible:
            notes.add(f"best infeasible, score {fmt(median(rs, 'score'))}")
            score = hosts = kw = None
        lines.append(
            f"| {name} | {fmt(score)} | {'yes' if feasible else 'no'} | {fmt(hosts, 0)} | {fmt(kw, 1)} |"
            f" {fmt(median(rs, 'unplaced'), 0)} | {fmt(median(rs, 'seconds'), 1)} |"
            f" {ratio(o_score, score, feasible)} | {ratio(o_hosts, hosts, comparable)} |"
            f" {ratio(o_kw, kw, comparable)} | {'; '.join(sorted(notes))} |"
        )
    lines += [
        "",
        "| multi-objective run | evaluations | generations | wall s | front | hypervolume | ours / it |",
        "|---|---|---|---|---|---|---|",
    ]
    hv_ours = median(peers.get("hv:ours-nsga2", []), "hv")
    for name in ("hv:ours-nsga2", "hv:stock-nsga2", "hv:stock-nsga2@time", "hv:stock-nsga2-seeded"):
        rs = peers.get(name, [])
        if not rs:
            continue
        hv = median(rs, "hv")
        r = "-" if hv_ours is None or not hv else f"{hv_ours / hv:.2f}"
        if hv == 0 and hv_ours:
            r = "inf (peer front empty)"
        note = "; ".join(sorted({x["note"] for x in rs if x.get("note")}))
        lines.append(
            f"| {name[3:]}{' (' + note + ')' if note else ''} | {fmt(median(rs, 'evaluations'), 0)} |"
            f" {fmt(median(rs, 'generations'), 0)} | {fmt(median(rs, 'seconds'), 1)} |"
            f" {fmt(median(rs, 'front'), 0)} | {hv:.4g} | {r} |"
        )
    return lines


def roadef_table(rows: list[dict]) -> list[str]:
    """Markdown: per instance the checked cost of each peer and ours / peer."""
    names = ("ours", "cpsat-full", "stock-nsga2", "ffd", "bfd")
    lines = [
        "| instance | initial | "
        + " | ".join(names)
        + " | "
        + " | ".join(f"ours/{n}" for n in names[1:])
        + " |",
        "|---" * (2 + 2 * len(names) - 1) + "|",
    ]
    notes = []
    for inst in dict.fromkeys(r["instance"] for r in rows):
        peers = by_peer([r for r in rows if r["instance"] == inst])
        cells, costs = [], {}
        for n in names:
            rs = peers.get(n, [])
            valid = bool(rs) and all(r["valid"] for r in rs)
            costs[n] = median(rs, "cost") if valid else None
            bad = [r for r in rs if not r["valid"]]
            cells.append(fmt(costs[n], 0) if valid else verdict(bad[0]) if bad else "-")
            for r in rs:
                if not r["valid"]:
                    notes.append(f"{inst} {n}: {r.get('note') or r.get('reason')}")
        init = median(peers["initial"], "cost")
        ratios = [ratio(costs["ours"], costs[n]) for n in names[1:]]
        lines.append(f"| {inst} | {fmt(init, 0)} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    return lines + [""] + [f"- {n}" for n in dict.fromkeys(notes)]


def plain(row: dict) -> dict:
    """A row for JSON: no assignment, numpy scalars as Python numbers."""
    return {
        k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items() if k not in ("x", "trace")
    }


def tables(rows: list[dict]) -> list[str]:
    """Markdown tables of raw rows: one per generated cluster, one for ROADEF."""
    lines: list[str] = []
    generated = [r for r in rows if r["set"] == "generated"]
    for name in dict.fromkeys(r["instance"] for r in generated):
        lines += ["", *generated_table(name, [r for r in generated if r["instance"] == name])]
    roadef = [r for r in rows if r["set"] == "roadef"]
    if roadef:
        title = "**ROADEF/EURO 2012 set A** (exact checker; cost, lower is better)"
        lines += ["", title, "", *roadef_table(roadef)]
    return lines


def loadavg() -> list[str]:
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="reference data folder (../shared/data)")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where generated snapshots are kept")
    p.add_argument("--time", type=float, default=60.0, help="seconds per peer (default 60)")
    p.add_argument("--sizes", default="1000,5000", help="generated cluster sizes in hosts ('none' to skip)")
    p.add_argument("--vms-per-host", type=int, default=10)
    p.add_argument("--cluster-seed", type=int, default=1, help="generator seed")
    p.add_argument("--seeds", default="1", help="solver seeds (comma-separated); tables show medians")
    p.add_argument("--instances", default=",".join(A_INSTANCES), help="ROADEF instances ('none' to skip)")
    p.add_argument("--out", type=Path, help="write every raw result as JSON (rewritten after each instance)")
    p.add_argument("--tables", type=Path, help="only print the tables of a JSON written by --out")
    args = p.parse_args()
    if args.tables:
        saved = json.loads(args.tables.read_text())
        print(f"machine: {saved['machine']}; load average {saved['load_start']} -> {saved.get('load_end')}")
        print("\n".join(tables(saved["rows"])))
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    sizes = [] if args.sizes == "none" else [int(s) for s in args.sizes.split(",")]
    if sizes:
        connect("local")
    instances = (
        [] if args.instances == "none" else [n.strip() for n in args.instances.split(",") if n.strip()]
    )
    results: dict = {
        "machine": machine(),
        "load_start": loadavg(),
        "time": args.time,
        "seeds": seeds,
        "rows": [],
    }
    print(f"machine: {machine()}; load average {' '.join(results['load_start'])}; {args.time:g} s per peer")

    def keep(rows: list[dict]) -> None:
        results["rows"] += [plain(r) for r in rows]
        results["load_end"] = loadavg()
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=1, default=float))

    for hosts in sizes:
        snap = generated_snapshot(
            hosts, args.vms_per_host * hosts, 3, args.cluster_seed, args.data, args.cache
        )
        problem = Problem(load_snapshot(snap))
        pairs, exact = full_model_pairs(problem, np.random.default_rng(0))
        name = f"{hosts} hosts / {problem.cluster.n_vms} VMs"
        rows = [
            {"set": "generated", "instance": name, "seed": seed, "pairs_exact": exact, **row}
            for seed in seeds
            for row in generated_rows(problem, args.time, seed, pairs)
        ]
        keep(rows)
        print("\n".join(["", *generated_table(name, rows)]), flush=True)
    roadef = []
    for inst in instances:
        rows = [
            {"set": "roadef", "instance": inst, "seed": seed, **row}
            for seed in seeds
            for row in roadef_rows(args.data / "roadef2012", inst, args.time, seed)
        ]
        keep(rows)
        roadef += rows
        print(f"{inst} done", flush=True)
    print("\n".join(tables(roadef)))
    print(f"\nload average at the end: {' '.join(results['load_end'])}")


if __name__ == "__main__":
    main()
