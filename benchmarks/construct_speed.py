"""Construction heuristics on the generated 10,000-host / 100,000-VM cluster (goal: FFD
under 1 s; BFD for information). Each timed call places every VM from scratch under every
hard rule (capacity, GPU model, anti-affinity/spread, affinity, host state, pinned VMs);
the placement rules are built once per problem and cached, as in the solvers, and timed
separately.

    python benchmarks/construct_speed.py [--data ../shared/data] [--repeats 5]
"""

from __future__ import annotations

import time

import numpy as np
from common import data_or_none, generated_snapshot, machine, parser, report, timed

from cluster_opt.evaluate import Evaluator, Problem
from cluster_opt.io import load_snapshot
from cluster_opt.solve import construct
from cluster_opt.solve.rules import PlacementRules


def main() -> None:
    args = parser(__doc__).parse_args()
    print(f"machine: {machine()}")
    cluster = load_snapshot(generated_snapshot(10_000, 100_000, 4, 7, data_or_none(args.data), args.cache))
    problem = Problem(cluster)
    start = time.perf_counter()
    PlacementRules.of(problem)
    print(f"placement rules (once per problem): {(time.perf_counter() - start) * 1e3:.1f} ms")
    evaluator = Evaluator(problem)
    for name, goal in (("ffd", 1.0), ("bfd", None)):
        report(
            f"{name}: {cluster.n_vms:,} VMs on {cluster.n_hosts:,} hosts",
            timed(lambda n=name: construct.construct(problem, n), args.repeats),
            goal,
        )
        x = construct.construct(problem, name)
        ev = evaluator.batch(x[None])
        print(
            f"  {name}: {int((x < 0).sum()):,} unplaced, {np.unique(x[x >= 0]).size:,} hosts used, "
            f"feasible {bool(ev.feasible[0])}"
        )


if __name__ == "__main__":
    main()
