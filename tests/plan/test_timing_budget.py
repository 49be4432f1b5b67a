"""Durations, waves in time, the maintenance window, budgets, stability and benefits."""

from __future__ import annotations

import numpy as np
import pytest

from cluster_opt.evaluate import Problem, evaluate
from cluster_opt.plan import PlanSettings, build_plan
from cluster_opt.plan.benefit import move_values
from cluster_opt.plan.budget import PreviousMoves
from cluster_opt.plan.moves import EVICT, MIGRATE, PLACE
from cluster_opt.plan.scenarios import random_target
from cluster_opt.plan.timing import best_prefix, move_seconds, wave_times
from tests.plan.helpers import checked_plan, tiny_cluster


def test_move_seconds_from_memory_bandwidth_and_dirty_pages():
    s = PlanSettings(migration_gbps=10, dirty_page_factor=1.5, setup_seconds=4)
    # 20 GB * 8 / 10 Gbit/s = 16 s of copy, x1.5 = 24 s, + 4 s setup = 28 s
    out = move_seconds(s, np.array([20.0, 20.0, 20.0]), np.array([MIGRATE, PLACE, EVICT]))
    assert out.tolist() == [28.0, 4.0, 4.0]


def test_wave_times_take_the_longest_move():
    length, start = wave_times(np.array([0, 0, 1, 2]), np.array([5.0, 9.0, 3.0, 7.0]), 3)
    assert length.tolist() == [9.0, 3.0, 7.0] and start.tolist() == [0.0, 9.0, 12.0]


@pytest.mark.parametrize(
    ("window", "value", "keep"),
    [
        (None, [1, 1, 1], 3),
        (12.0, [1, 1, 1], 2),  # waves end at 9, 12, 19
        (8.0, [1, 1, 1], 0),
        (12.0, [1, -5, 1], 1),  # the second wave is worth less than nothing
        (19.0, [1, -5, 6], 3),  # ... unless the third one pays for it
        (12.0, [0, 0, 0], 0),  # ties: the shorter prefix
    ],
)
def test_best_prefix_within_window(window, value, keep):
    assert best_prefix(np.array([9.0, 3.0, 7.0]), np.array(value, dtype=float), window) == keep


def test_window_cuts_the_plan_and_defers_the_rest():
    # per-host limit 1: three forced moves off h0 (in maintenance) run one per wave,
    # 21.64 s each (16 GB VMs); 50 s hold two waves
    hosts = [{"cpu": 64, "mem_gb": 256, "state": "maintenance"}] + [{"cpu": 64, "mem_gb": 256}] * 3
    c = tiny_cluster(hosts, [{"mem_gb": 16, "host": 0}] * 3)
    settings = PlanSettings(concurrency={"per_host": 1}, window_seconds=50)
    plan, doc = checked_plan(c, [1, 2, 3], settings)
    assert plan.n_waves == 2 and plan.total_seconds == pytest.approx(2 * 21.64)
    assert [s["reason"] for s in doc["skipped"]] == ["outside the maintenance window of 50 s"]
    assert not plan.complete and len(plan.blocked) == 0


def test_max_migrations_keeps_forced_then_best_moves():
    # h0 is in maintenance: v0 must leave. v1 / v2 move to a cheaper zone (z2) or not.
    hosts = [{"state": "maintenance"}, {"zone": "z1"}, {"zone": "z2"}]
    prices = [("r1", "z1", "cpu", 1.0, 1.0, 1.0), ("r1", "z2", "cpu", 0.1, 0.1, 0.1)]
    c = tiny_cluster(hosts, [{"host": 0}, {"host": 1, "cpu": 1}, {"host": 1, "cpu": 4}], prices=prices)
    plan, doc = checked_plan(c, [2, 2, 2], PlanSettings(max_migrations=2))
    assert sorted(plan.vm.tolist()) == [0, 2]  # forced v0, then v2 (saves 3.6 $/h, v1 0.9)
    assert doc["skipped"] == [
        {"vm": "v1", "from": "h1", "to": "h2", "reason": "over the max_migrations budget of 2"}
    ]
    assert doc["moves"][0]["reason"].startswith("forced") or doc["moves"][1]["reason"].startswith("forced")


def test_min_benefit_drops_moves_that_do_not_pay_for_themselves():
    prices = [("r1", "z1", "cpu", 1.0, 1.0, 1.0), ("r1", "z2", "cpu", 0.99, 0.99, 0.99)]
    c = tiny_cluster(
        [{"zone": "z1"}, {"zone": "z2"}], [{"host": 0, "cpu": 1}, {"host": 0, "cpu": 10}], prices=prices
    )
    # net benefit: v0 saves 0.01 $/h - 0.04 migration = -0.03; v1 0.1 - 0.04 = 0.06
    plan, doc = checked_plan(c, [1, 1], PlanSettings(min_benefit_per_move=0.0))
    assert plan.vm.tolist() == [1] and plan.benefit[0] == pytest.approx(0.06)
    assert doc["skipped"][0]["reason"].startswith("benefit -0.03 per move is below")


def test_cooldown_and_stability_against_the_previous_plan():
    prices = [("r1", "z1", "cpu", 1.0, 1.0, 1.0), ("r1", "z2", "cpu", 0.5, 0.5, 0.5)]
    free_power = {"idle_watts": 0, "peak_watts": 0}
    hosts = [{"zone": "z1", **free_power}, {"zone": "z2", **free_power}, {"zone": "z2", **free_power}]
    c = tiny_cluster(hosts, [{"host": 0, "cpu": 2}, {"host": 1, "cpu": 2}], prices=prices)
    previous = {"moves": [{"vm": "v0", "from": "h2", "to": "h0"}, {"vm": "v1", "from": "h0", "to": "h1"}]}
    # previous plan without times: the cooldown holds, both VMs stay
    plan, doc = checked_plan(c, [1, 2], previous=previous)
    assert plan.n_moves == 0 and all(s["reason"].startswith("cooldown") for s in doc["skipped"])
    # long ago: they may move, paying the stability penalty (twice for v0's way back to h2)
    assert (
        PreviousMoves.of(
            {**previous, "snapshot_time": "2026-01-01T00:00:00Z"}, "2026-01-03T00:00:00Z"
        ).hours_ago
        == 48
    )
    old = {**previous, "snapshot_time": "2026-10-01T00:00:00Z"}
    c.meta["time"] = "2026-11-01T00:00:00Z"
    plan = build_plan(Problem(c), np.array([2, 2]), PlanSettings(), old, evaluate_states=False)
    benefit = dict(zip(plan.vm.tolist(), plan.benefit.tolist(), strict=True))
    # v0: saves 1.0 $/h, -0.04 migration, -2 x 0.1 back to h2; v1: 0 saving, -0.04, -0.1
    assert benefit[0] == pytest.approx(1.0 - 0.04 - 0.2) and benefit[1] == pytest.approx(-0.14)


def test_per_move_shares_add_up_to_the_evaluator_change(generated_problem):
    p = generated_problem
    c = p.cluster
    x0 = c.current_assignment()
    target = random_target(p, 150, np.random.default_rng(5), same_region=False)
    target[np.flatnonzero(x0 < 0)[:2]] = np.flatnonzero(c.usable)[:2]  # and place two pending VMs
    vm = np.flatnonzero(x0 != target)
    values = move_values(p, x0, target, vm)
    before, after = evaluate(p, x0), evaluate(p, target)
    for k, term in enumerate(values.terms):
        assert values.delta[:, k].sum() == pytest.approx(
            after.values[term] - before.values[term], abs=1e-6
        ), term
    assert set(values.terms) >= {"latency_ms", "hourly_cost", "energy_watts", "migrations", "active_hosts"}
