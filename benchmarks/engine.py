"""The distributed engine on a generated cluster (default 10,000 hosts / 100,000 VMs):
time to the first feasible solution, active hosts and energy against their lower bounds
after short and long runs, 1 island against 2, and peak memory of the driver and islands.

    python benchmarks/engine.py                                  # 60 s and 600 s runs
    python benchmarks/engine.py --hosts 2000 --vms 20000 --times 30,120

Each run is one ``optimize`` call on embedded local Ray (started once). "search" is the sum
over partitions of their best score, recorded whenever a unit returns: the 1-vs-2 islands
comparison reads the time at which 2 islands' search first reaches what 1 island's search
reached at the end of its search phase.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import ray
from common import add_cluster_options, cluster_problem, machine, parser

from cluster_opt.distributed import EngineSettings, optimize
from cluster_opt.distributed.engine import SEARCH
from cluster_opt.evaluate import Evaluator, Problem

ROOT = Path(__file__).resolve().parent.parent


def run_once(problem: Problem, seconds: float, islands: int, seed: int) -> dict:
    """One engine run: its record, the chosen solution's active hosts and energy with their
    bounds, and the search trajectory."""
    started = time.monotonic()
    res = optimize(problem, seconds, settings=EngineSettings(islands=islands), seed=seed)
    wall = time.monotonic() - started
    ev = Evaluator(problem).one(res.best.x)
    lb = problem.lower_bounds
    search = [(t, v) for name, t, v in res.history if name == SEARCH]
    return {
        "seconds": seconds,
        "islands": islands,
        "wall_s": wall,
        "feasible": ev.feasible,
        "score": ev.score,
        "active_hosts": ev.values["active_hosts"],
        "active_hosts_lb": lb.get("active_hosts"),
        "energy_watts": ev.values["energy_watts"],
        "energy_watts_lb": lb.get("energy_watts"),
        "migrations": ev.values["migrations"],
        "first_feasible_s": res.run["time_to_first_feasible_s"],
        "units": res.run["units"],
        "migrants": res.run["migrants_exchanged"],
        "partitions": res.run["partitions"]["count"],
        "merged_at_s": res.run["merged_at_s"],
        "start_score": res.run["start_score"],
        "driver_peak_mib": res.run["driver_peak_memory_mib"],
        "island_peak_mib": [i["peak_memory_mib"] for i in res.run["islands"]["per_island"]],
        "search": search,
    }


def reach_time(search: list[tuple[float, float]], target: float) -> float | None:
    """First time the search trajectory is at or below ``target``."""
    for t, v in search:
        if v <= target + 1e-9:
            return t
    return None


def gap(value: float, bound: float | None) -> str:
    return "-" if not bound else f"{100 * (value / bound - 1):.1f}%"


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    add_cluster_options(p)
    p.add_argument("--times", default="60,600", help="run lengths in seconds (2 islands each)")
    p.add_argument(
        "--compare", type=float, default=None, help="1 vs 2 islands at this length (default: longest)"
    )
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "engine-bench.json")
    args = p.parse_args()
    snap, problem = cluster_problem(args)
    config = problem.config
    times = [float(t) for t in args.times.split(",")]
    compare = args.compare or max(times)
    ray.init(address="local", include_dashboard=False, log_to_driver=False)
    print(f"# engine on {args.hosts} hosts / {args.vms} VMs ({snap.name}); {machine()}", flush=True)
    results = []
    # first feasible from nothing: the same cluster with every VM pending
    c = problem.cluster
    pending = dataclasses.replace(c, vms=dataclasses.replace(c.vms, current=np.full(c.n_vms, -1, np.int32)))
    scratch = run_once(Problem(pending, config), 30, 2, args.seed)
    print(
        f"from scratch (every VM pending): first feasible after {scratch['first_feasible_s']:.2f} s",
        flush=True,
    )
    for seconds in times:
        results.append(run_once(problem, seconds, 2, args.seed))
        print(json.dumps({k: v for k, v in results[-1].items() if k != "search"}), flush=True)
    one = run_once(problem, compare, 1, args.seed)
    two = next(r for r in results if r["seconds"] == compare)
    target = one["search"][-1][1] if one["search"] else one["start_score"]
    t1 = one["search"][-1][0] if one["search"] else None
    t2 = reach_time(two["search"], target)
    ray.shutdown()
    print(
        "\n| run | islands | active hosts | LB | gap | energy W | LB | gap | migrations | first feasible s "
        "| units | driver MiB | island MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in [*results, one]:
        hosts, energy = r["active_hosts"], r["energy_watts"]
        cells = [
            f"{r['seconds']:g} s",
            str(r["islands"]),
            f"{hosts:,.0f}",
            f"{r['active_hosts_lb']:,.0f}",
            gap(hosts, r["active_hosts_lb"]),
            f"{energy:,.0f}",
            f"{r['energy_watts_lb']:,.0f}",
            gap(energy, r["energy_watts_lb"]),
            f"{r['migrations']:,.0f}",
            f"{r['first_feasible_s']:.2f}",
            str(r["units"]),
            f"{r['driver_peak_mib']:.0f}",
            ", ".join(f"{m:.0f}" for m in r["island_peak_mib"] if m),
        ]
        print("| " + " | ".join(cells) + " |")
    ratio = "not reached" if t2 is None or not t1 else f"{t2:.0f} s of {t1:.0f} s = {t2 / t1:.2f}"
    print(f"\nfrom scratch: first feasible after {scratch['first_feasible_s']:.2f} s (goal < 10 s)")
    print(f"1 vs 2 islands: 2 islands reach 1 island's search ({target:,.2f}) after {ratio} (goal <= 0.6)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"scratch": scratch, "runs": results, "one_island": one}, indent=1))


if __name__ == "__main__":
    main()
