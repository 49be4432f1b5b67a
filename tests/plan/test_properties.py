"""Properties on random clusters and random targets: every plan the planner returns passes
the independent validator, ends where it says, and accounts for every VM it does not move."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster_opt.evaluate import Problem
from cluster_opt.plan import PlanSettings, build_plan, plan_document
from cluster_opt.plan.scenarios import random_target, swap_target
from cluster_opt.validate_plan import check_plan
from tests.evaluate.strategies import build_cluster, specs

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large]


@st.composite
def plan_settings(draw) -> PlanSettings:
    unlimited = st.none()
    return PlanSettings(
        concurrency={
            "per_host": draw(st.integers(1, 3)),
            "per_rack": draw(st.integers(1, 4)),
            "global": draw(st.integers(1, 6)),
        },
        links={
            k: draw(st.one_of(unlimited, st.sampled_from([10.0, 20.0, 35.0])))
            for k in ("host_gbps", "rack_gbps", "zone_gbps", "region_gbps")
        },
        window_seconds=draw(st.one_of(st.none(), st.floats(5.0, 60.0))),
        max_migrations=draw(st.one_of(st.none(), st.integers(0, 8))),
        min_benefit_per_move=draw(st.one_of(st.none(), st.floats(-1.0, 1.0))),
        max_extra_moves=draw(st.one_of(st.none(), st.integers(0, 3))),
    )


def assert_plan_is_sound(cluster, plan, doc) -> None:
    report = check_plan(cluster, doc, plan.final)
    assert report.safe, [str(v) for v in report.violations]
    wrong = np.flatnonzero(plan.final != plan.requested)
    accounted = set(plan.blocked.vm.tolist()) | set(plan.skipped.vm.tolist())
    assert set(wrong.tolist()) <= accounted
    assert all(plan.blocked.reason) and all(plan.skipped.reason)
    assert plan.complete == (len(wrong) == 0)
    if not len(plan.blocked) and not len(plan.skipped):
        assert plan.complete


@settings(max_examples=60, deadline=None, suppress_health_check=SLOW)
@given(spec=specs(max_hosts=8, max_vms=14), data=st.data(), config=plan_settings())
def test_plans_to_random_targets_pass_the_validator(spec, data, config):
    cluster = build_cluster(spec)
    n = cluster.n_vms
    target = np.array(data.draw(st.lists(st.integers(-1, cluster.n_hosts - 1), min_size=n, max_size=n)))
    plan = build_plan(Problem(cluster), target.astype(np.int32), config, evaluate_states=False)
    assert_plan_is_sound(cluster, plan, plan_document(plan, cluster))


@settings(max_examples=25, deadline=None, suppress_health_check=SLOW)
@given(spec=specs(planted=True, max_hosts=8, max_vms=14))
def test_plans_to_feasible_targets_pass_the_validator(spec):
    # the planted homes are a feasible assignment: the target an optimizer would return
    cluster = build_cluster(spec)
    plan = build_plan(Problem(cluster), np.array(spec.homes, dtype=np.int32), evaluate_states=False)
    assert_plan_is_sound(cluster, plan, plan_document(plan, cluster))


@settings(max_examples=6, deadline=None, suppress_health_check=SLOW)
@given(seed=st.integers(0, 10_000), swaps=st.booleans())
def test_plans_on_a_generated_cluster_pass_the_validator(generated_problem, seed, swaps):
    cluster = generated_problem.cluster
    rng = np.random.default_rng(seed)
    target = swap_target(generated_problem, 150, rng) if swaps else random_target(generated_problem, 300, rng)
    plan = build_plan(generated_problem, target, PlanSettings(concurrency={"per_rack": 4}))
    assert_plan_is_sound(cluster, plan, plan_document(plan, cluster))
    assert plan.n_moves >= (np.asarray(target) != cluster.vms.current).sum() - len(plan.blocked)
