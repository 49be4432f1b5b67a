"""Feasibility, score and penalty; weights and hard flags from EvaluationConfig; input checks."""

from __future__ import annotations

import math

import numpy as np
import pydantic
import pytest

from cluster_opt.evaluate import (
    REGISTRY,
    EvaluationConfig,
    Problem,
    TermSetting,
    evaluate,
    evaluate_batch,
)
from cluster_opt.evaluate.terms.capacity import Capacity
from cluster_opt.evaluate.terms.placement import Unplaced

from .builders import tiny_cluster

# h0 cpu 16 (active), h1 cpu 16 (maintenance); linear 100 -> 200 W; no prices, no latency.
# v0 cpu 10 on h0, v1 cpu 10 on h0, v2 cpu 1 pending. cpu scale = (16 + 16) / 2 = 16.
CLUSTER = tiny_cluster(
    [{}, {"state": "maintenance"}],
    [{"cpu": 10, "host": 0}, {"cpu": 10, "host": 0}, {"cpu": 1}],
)
OVERLOADED = [0, 0, -1]  # h0 cpu 20 > 16
EVICTED = [0, -1, 0]  # h0 cpu 11; v1 evicted, v2 placed

# OVERLOADED: capacity (4 - 16e-9)/16 = 0.25 - 1e-9; unplaced 1; energy: h0 u = 20/16, clipped
# to 1 -> 200 W; no migrations, no cost, no latency. Default weights: capacity 1e6 (hard),
# unplaced 100 (soft), energy 0.00015, others 0 or 0-valued.
CAPACITY_VALUE = 0.25 - 1e-9
PENALTY = 1e6 * CAPACITY_VALUE  # 249999.999
SCORE = PENALTY + 100 * 1 + 0.00015 * 200  # 250100.029


def run(x, **terms):
    config = EvaluationConfig(terms={k: TermSetting(**v) for k, v in terms.items()})
    return evaluate(Problem(CLUSTER, config), np.array(x))


def test_default_weights_and_hard_flags_come_from_the_terms():
    p = Problem(CLUSTER)
    assert p.term_names == list(REGISTRY)
    for name, w, h in zip(p.term_names, p.weights, p.hard, strict=True):
        assert w == REGISTRY[name].default_weight
        assert h == REGISTRY[name].default_hard
    hard = {n for n, h in zip(p.term_names, p.hard, strict=True) if h}
    assert hard == {"capacity", "anti_affinity", "affinity", "gpu_model", "host_state", "unmigratable"}


def test_score_penalty_feasible_defaults():
    e = run(OVERLOADED)
    assert math.isclose(e.values["capacity"], CAPACITY_VALUE, rel_tol=1e-12)
    assert e.values["unplaced"] == 1
    assert e.values["energy_watts"] == 200
    assert not e.feasible
    assert math.isclose(e.penalty, PENALTY, rel_tol=1e-12)
    assert math.isclose(e.score, SCORE, rel_tol=1e-12)
    # the score is exactly sum(weight x value) over enabled terms
    assert math.isclose(e.score, sum(e.weights[n] * v for n, v in e.values.items()), rel_tol=1e-12)


def test_weight_zero_switches_a_term_off_but_it_is_still_reported():
    e = run(OVERLOADED, capacity={"weight": 0})
    assert math.isclose(e.values["capacity"], CAPACITY_VALUE, rel_tol=1e-12)
    assert e.feasible  # a switched-off hard term does not decide feasibility
    assert e.penalty == 0
    assert math.isclose(e.score, 100 + 0.00015 * 200, rel_tol=1e-12)
    assert "capacity" not in e.to_json()["hard"]


def test_soft_capacity_scores_but_does_not_penalise():
    e = run(OVERLOADED, capacity={"hard": False})
    assert e.feasible
    assert e.penalty == 0
    assert math.isclose(e.score, SCORE, rel_tol=1e-12)


def test_hard_unplaced_makes_pending_vms_infeasible():
    # EVICTED: h0 cpu 10 + 1 = 11 <= 16, nothing else violated; v1 unplaced, 1 migration
    assert run(EVICTED).feasible
    e = run(EVICTED, unplaced={"hard": True})
    assert not e.feasible
    assert e.penalty == 100 * 1
    e = run(EVICTED, unplaced={"hard": True, "weight": 5})
    assert e.penalty == 5
    # score: unplaced 5 * 1 + migrations 0.04 * 1 + energy 0.00015 * (100 + 11/16 * 100)
    assert math.isclose(e.score, 5 + 0.04 + 0.00015 * 168.75, rel_tol=1e-12)
    assert run(EVICTED, unplaced={"hard": True, "weight": 0}).feasible


def test_objective_weights_scale_the_score():
    base = run(EVICTED)
    e = run(EVICTED, active_hosts={"weight": 2.5}, migrations={"weight": 0})
    # + 2.5 * 1 active host, - 0.04 * 1 migration
    assert math.isclose(e.score, base.score + 2.5 - 0.04, rel_tol=1e-12)
    assert e.weights["active_hosts"] == 2.5


def test_feasibility_tolerance():
    # the capacity slack absorbs float noise, so a sum that rounds above the capacity is feasible
    c = tiny_cluster([{"cpu": 0.3}], [{"cpu": 0.1}] * 3)
    assert evaluate(Problem(c), np.zeros(3, dtype=np.int32)).feasible


def test_batch_matches_rows_and_matrix():
    p = Problem(CLUSTER)
    pop = np.array([OVERLOADED, EVICTED, [-1, -1, -1], [1, 1, 1]], dtype=np.int32)
    b = evaluate_batch(p, pop)
    assert len(b) == 4
    assert b.feasible.tolist() == [False, True, True, False]  # [1, 1, 1]: h1 in maintenance
    for i, row in enumerate(pop):
        e = evaluate(p, row)
        assert b.score[i] == e.score and b.penalty[i] == e.penalty and b.feasible[i] == e.feasible
    m = b.matrix(["capacity", "unplaced"])
    assert m.shape == (4, 2)
    assert m[:, 1].tolist() == [1, 1, 3, 0]


def test_evaluation_report_fields():
    e = run(OVERLOADED)
    assert set(e.violations) == {n for n, k in e.kinds.items() if k == "constraint"}
    assert set(e.objectives) == {n for n, k in e.kinds.items() if k == "objective"}
    assert e.details["capacity"] == {"overloaded_hosts": 1, "overload_by_resource": {"cpu": 4 - 16e-9}}
    assert e.to_json()["feasible"] is False
    for name, lb in e.lower_bounds.items():
        gap = e.gaps[name]
        assert gap is None if lb <= 0 else math.isclose(gap, (e.values[name] - lb) / lb)


def test_unknown_term_in_config_raises():
    with pytest.raises(ValueError, match=r"unknown term.*carbon"):
        Problem(CLUSTER, EvaluationConfig(terms={"carbon": TermSetting(weight=1)}))


def test_config_term_outside_the_chosen_terms_raises():
    with pytest.raises(ValueError, match="unknown term"):
        Problem(CLUSTER, EvaluationConfig(terms={"latency_ms": TermSetting(weight=1)}), terms=[Capacity])


def test_chosen_terms_only():
    p = Problem(CLUSTER, terms=[Capacity, Unplaced])
    e = evaluate(p, np.array(OVERLOADED))
    assert list(e.values) == ["capacity", "unplaced"]
    assert math.isclose(e.score, PENALTY + 100, rel_tol=1e-12)


def test_unknown_resource_in_config_raises():
    with pytest.raises(KeyError, match="disk"):
        Problem(CLUSTER, EvaluationConfig(imbalance_resources=["cpu", "disk"]))
    with pytest.raises(KeyError, match="watts"):
        Problem(CLUSTER, EvaluationConfig(power_resource="watts"))


@pytest.mark.parametrize(
    "bad",
    [
        {"terms": {"capacity": {"weight": -1}}},
        {"terms": {"capacity": {"wieght": 1}}},
        {"imbalance_resources": []},
        {"bogus": 1},
    ],
)
def test_invalid_config_rejected(bad):
    with pytest.raises(pydantic.ValidationError):
        EvaluationConfig.model_validate(bad)


@pytest.mark.parametrize(
    ("x", "match"),
    [
        ([[0, 0, 0]], "one assignment"),  # 2-D to evaluate()
        ([0, 0], "shape"),  # wrong length
        ([0, 0, 2], "host indices"),  # host 2 does not exist
        ([0, 0, -2], "host indices"),
        ([0.0, 0.0, 0.0], "integer"),
    ],
)
def test_bad_assignments_raise(x, match):
    with pytest.raises(ValueError, match=match):
        evaluate(Problem(CLUSTER), np.array(x))


def test_batch_accepts_one_assignment():
    b = evaluate_batch(Problem(CLUSTER), np.array(OVERLOADED, dtype=np.int64))
    assert b.score.shape == (1,)
    assert math.isclose(b.score[0], SCORE, rel_tol=1e-12)
