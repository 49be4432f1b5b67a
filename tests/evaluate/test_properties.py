"""Property tests: batch evaluator == single evaluator == reference checker, on random
clusters and random populations (unplaced VMs, hosts in bad states, overloads included)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster_opt.evaluate import REGISTRY, EvaluationConfig, Problem, TermSetting, evaluate, evaluate_batch
from cluster_opt.io.load import cluster_from_tables

from .builders import example_cluster
from .reference import TERM_NAMES, reference_score, reference_values
from .strategies import build_cluster, build_tables, populations, specs

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def test_reference_covers_every_registered_term():
    assert set(TERM_NAMES) == set(REGISTRY)


@st.composite
def configs(draw, resources: tuple[str, ...]) -> EvaluationConfig:
    setting = st.builds(
        TermSetting,
        weight=st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.0, 1e6])),
        hard=st.one_of(st.none(), st.booleans()),
    )
    return EvaluationConfig(
        terms=draw(st.dictionaries(st.sampled_from(sorted(REGISTRY)), setting, max_size=4)),
        imbalance_resources=draw(st.lists(st.sampled_from(resources), min_size=1, max_size=3, unique=True)),
        power_resource=draw(st.sampled_from(resources)),
    )


def resolved(config: EvaluationConfig) -> tuple[dict[str, float], dict[str, bool]]:
    """Weight and hard flag per term: the config's override, else the term's default."""
    weights, hard = {}, {}
    for name, cls in REGISTRY.items():
        s = config.terms.get(name, TermSetting())
        weights[name] = cls.default_weight if s.weight is None else s.weight
        hard[name] = cls.default_hard if s.hard is None else s.hard
    return weights, hard


def assert_agree(cluster, config: EvaluationConfig, pop: np.ndarray) -> None:
    """Every term, the score, penalty and feasibility agree three ways on every row."""
    problem = Problem(cluster, config)
    before = pop.copy()
    batch = evaluate_batch(problem, pop)
    assert np.array_equal(pop, before)
    weights, hard = resolved(config)
    for i, row in enumerate(pop):
        ref = reference_values(cluster, row.tolist(), config.imbalance_resources, config.power_resource)
        one = evaluate(problem, row)
        assert set(batch.values) == set(one.values) == set(ref)
        for name, want in ref.items():
            assert close(batch.values[name][i], want), (
                f"row {i} {name}: batch {batch.values[name][i]} != {want}"
            )
            assert close(one.values[name], want), f"row {i} {name}: evaluate {one.values[name]} != {want}"
        score, penalty, feasible = reference_score(ref, weights, hard)
        assert close(batch.score[i], score) and close(one.score, score), (batch.score[i], one.score, score)
        assert close(batch.penalty[i], penalty) and close(one.penalty, penalty)
        assert bool(batch.feasible[i]) == one.feasible == feasible


@SETTINGS
@given(st.data())
def test_batch_single_and_reference_agree(data):
    spec = data.draw(specs(planted=data.draw(st.booleans())), label="spec")
    cluster = build_cluster(spec)
    config = data.draw(configs(cluster.resources), label="config")
    seeds = [cluster.vms.current.tolist(), spec.homes]
    pop = data.draw(populations(cluster.n_vms, cluster.n_hosts, seeds), label="population")
    assert_agree(cluster, config, pop)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_generated_snapshots_pass_validation_and_agree(data):
    """The same specs through the validating loader: accepted, and the loaded cluster scores
    like the directly built one."""
    spec = data.draw(specs(planted=data.draw(st.booleans())), label="spec")
    direct = build_cluster(spec)
    loaded = cluster_from_tables(build_tables(spec))
    assert (loaded.n_hosts, loaded.n_vms) == (direct.n_hosts, direct.n_vms)
    pop = data.draw(populations(direct.n_vms, direct.n_hosts, [spec.homes]), label="population")
    for row in pop.tolist():
        a, b = reference_values(direct, row), reference_values(loaded, row)
        for name in TERM_NAMES:
            assert close(a[name], b[name]), (name, a[name], b[name])
    assert_agree(loaded, EvaluationConfig(), pop)


def test_example_snapshot_random_population():
    cluster = example_cluster()
    rng = np.random.default_rng(7)
    pop = rng.integers(-1, cluster.n_hosts, size=(20, cluster.n_vms), dtype=np.int32)
    current = cluster.current_assignment()
    near = np.tile(current, (10, 1))
    for row in near:  # a few moves away from the current placement
        vms = rng.choice(cluster.n_vms, size=3, replace=False)
        row[vms] = rng.integers(-1, cluster.n_hosts, size=3)
    pop = np.vstack([current, pop, near])
    assert_agree(cluster, EvaluationConfig(), pop)
    assert_agree(
        cluster, EvaluationConfig(imbalance_resources=["cpu", "mem_gb", "gpus", "local_ssd_gb"]), pop
    )
