"""Plan 20,000 moves on a generated 10,000-host cluster (goal: < 5 s per plan).

Three targets on the 10,000-host / 100,000-VM snapshot: 20,000 random moves within each
VM's region, 10,000 swaps of equal-size VMs (wait cycles that need staging hosts), and
20,000 random moves across regions (bound by the WAN link budgets: many waves). Timed:
``build_plan`` without the before/after evaluations; then, once, the plan.json object and
the independent validator.

    python benchmarks/plan_speed.py [--data ../shared/data] [--repeats 5]
"""

from __future__ import annotations

import time

import numpy as np
from common import data_or_none, generated_snapshot, machine, parser, report, timed

from cluster_opt.evaluate import Problem
from cluster_opt.io import load_snapshot
from cluster_opt.plan import PlanSettings, build_plan, plan_document
from cluster_opt.plan.scenarios import random_target, swap_target
from cluster_opt.validate_plan import check_plan


def main() -> None:
    args = parser(__doc__).parse_args()
    print(f"machine: {machine()}")
    cluster = load_snapshot(generated_snapshot(10_000, 100_000, 4, 7, data_or_none(args.data), args.cache))
    problem = Problem(cluster)
    settings = PlanSettings()
    print(f"settings: {settings.model_dump(by_alias=True)}")
    targets = {
        "20,000 random moves within regions": random_target(problem, 20_000, np.random.default_rng(1)),
        "10,000 swaps (wait cycles)": swap_target(problem, 10_000, np.random.default_rng(2)),
        "20,000 random moves across regions": random_target(
            problem, 20_000, np.random.default_rng(3), same_region=False
        ),
    }
    for name, target in targets.items():
        plan = build_plan(problem, target, settings, evaluate_states=False)
        print(
            f"{name}: {plan.n_moves:,} moves ({plan.extra_moves:,} extra for staging), "
            f"{plan.n_waves:,} waves, {len(plan.blocked):,} blocked, "
            f"estimated {plan.total_seconds / 3600:.2f} h"
        )
        report(
            f"plan: {name}",
            timed(lambda t=target: build_plan(problem, t, settings, evaluate_states=False), args.repeats),
            5.0,
        )
        start = time.perf_counter()
        doc = plan_document(plan, cluster)
        middle = time.perf_counter()
        safe = check_plan(cluster, doc, plan.final).safe
        end = time.perf_counter()
        print(
            f"  plan.json object {middle - start:.2f} s; validator {end - middle:.2f} s: "
            f"{'safe' if safe else 'UNSAFE'}"
        )


if __name__ == "__main__":
    main()
