"""Evaluate assignments at 10,000 hosts x 100,000 VMs (goals: one evaluation < 20 ms,
a batch of 64 < 1 s).

    python benchmarks/evaluate_speed.py [--data ../shared/data] [--repeats 5]
"""

from __future__ import annotations

import numpy as np
from common import data_or_none, generated_snapshot, machine, parser, report, timed

from cluster_opt.evaluate import Evaluator, Problem
from cluster_opt.io import load_snapshot


def main() -> None:
    args = parser(__doc__).parse_args()
    print(f"machine: {machine()}")
    cluster = load_snapshot(generated_snapshot(10_000, 100_000, 4, 7, data_or_none(args.data), args.cache))
    evaluator = Evaluator(Problem(cluster))
    x = cluster.current_assignment()
    rng = np.random.default_rng(0)
    population = np.tile(x, (64, 1))
    usable = np.flatnonzero(cluster.usable)
    for p in range(1, 64):  # perturb 1 % of the VMs in each individual
        idx = rng.choice(cluster.n_vms, size=cluster.n_vms // 100, replace=False)
        population[p, idx] = rng.choice(usable, size=idx.size)
    report(
        "evaluate one assignment (single, no details)",
        timed(lambda: evaluator.one(x, details=False), args.repeats * 4),
        0.020,
    )
    report(
        "evaluate a batch of 64 assignments", timed(lambda: evaluator.batch(population), args.repeats), 1.0
    )
    report(
        "build a Problem and its lower bounds (once per run)",
        timed(lambda: Problem(cluster).lower_bounds, args.repeats),
    )


if __name__ == "__main__":
    main()
