"""The delta evaluator's running score equals the batch evaluator's after any sequence of
single-VM moves and compound moves (with undo), for every supported term, weight and
soft/hard setting."""

from __future__ import annotations

import numpy as np
import pytest
from evaluate.strategies import build_cluster, specs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster_opt.evaluate import EvaluationConfig, Evaluator, Problem
from cluster_opt.evaluate.terms import REGISTRY, Term
from cluster_opt.evaluate.terms.base import Kind
from cluster_opt.model.codes import Pricing
from cluster_opt.solve import anneal, moves
from cluster_opt.solve.delta import SUPPORTED, DeltaModel, apply_move
from cluster_opt.solve.rules import PlacementRules

from .conftest import config

HARD_TERMS = ("capacity", "anti_affinity", "affinity", "gpu_model", "host_state", "unmigratable", "unplaced")

CONFIGS = {
    "default": EvaluationConfig(),
    # every supported term on, imbalance over three resources, power by memory
    "all_terms": EvaluationConfig(
        terms={
            "active_hosts": {"weight": 1.0},
            "imbalance": {"weight": 0.5},
            "migration_gb": {"weight": 0.01},
            "migrations": {"weight": 0.3},
            "energy_watts": {"weight": 0.002},
            "consolidation": {"weight": 0.3},
            "spot_mixing": {"weight": 0.7},
        },
        imbalance_resources=["cpu", "mem_gb", "net_gbps"],
        power_resource="mem_gb",
    ),
    # constraints soft with small weights, unplaced hard
    "soft_constraints": config(
        capacity={"hard": False, "weight": 10},
        anti_affinity={"hard": False, "weight": 3},
        affinity={"hard": False, "weight": 2},
        gpu_model={"hard": False, "weight": 4},
        host_state={"hard": False, "weight": 5},
        unmigratable={"hard": False, "weight": 6},
        unplaced={"hard": True, "weight": 7},
        imbalance={"weight": 1},
    ),
    # some terms off
    "some_off": config(
        latency_ms={"weight": 0},
        hourly_cost={"weight": 0},
        unplaced={"weight": 0},
        anti_affinity={"weight": 0},
        active_hosts={"weight": 2},
    ),
}
# objective terms switched to hard: the evaluator counts them in the penalty
HARD_OBJECTIVES = config(
    migrations={"hard": True},
    active_hosts={"weight": 2, "hard": True},
    imbalance={"weight": 1, "hard": True},
    latency_ms={"hard": True},
)


def assert_tracks(
    problem: Problem, xs: list[np.ndarray], accs: list[np.ndarray], hard_split: bool = True
) -> None:
    """The running (soft, hard) scores after each move equal the batch evaluator's
    (score, penalty) of the assignment at that point."""
    batch = Evaluator(problem).batch(np.array(xs, dtype=np.int32))
    acc = np.array(accs)
    np.testing.assert_allclose(acc[:, 0] + acc[:, 1], batch.score, rtol=1e-9, atol=1e-6)
    if hard_split:
        np.testing.assert_allclose(acc[:, 1], batch.penalty, rtol=1e-9, atol=1e-6)


def random_moves(problem: Problem, rng: np.random.Generator, n: int) -> list[tuple[int, int]]:
    """Moves of random VMs to random hosts or -1, with a bias to VMs in groups, GPU and
    pinned VMs (every host, in maintenance included, is a target)."""
    c = problem.cluster
    special = np.flatnonzero(
        (c.vms.anti_affinity >= 0) | (c.vms.affinity >= 0) | (c.vms.gpu_model >= 0) | ~c.vms.migratable
    )
    out = []
    for _ in range(n):
        pool = special if len(special) and rng.random() < 0.5 else np.arange(c.n_vms)
        v = int(rng.choice(pool))
        if c.vms.affinity[v] >= 0 and rng.random() < 0.5:  # onto a partner's host
            mates = np.flatnonzero(c.vms.affinity == c.vms.affinity[v])
            out.append((v, -2 - int(rng.choice(mates))))
        else:
            out.append((v, int(rng.integers(-1, c.n_hosts))))
    return out


def replay(problem: Problem, x0: np.ndarray, plan: list[tuple[int, int]]) -> tuple[list, list]:
    """Apply ``plan`` on a fresh state of ``x0``; a target -2 - w means "w's host". Checks
    that the returned changes add up to the running score."""
    model = DeltaModel.of(problem)
    s = model.state(x0)
    xs, accs = [s.x.copy()], [s.acc[:2].copy()]
    for v, h in plan:
        target = int(s.x[-2 - h]) if h <= -2 else h
        before = s.acc[:2].copy()
        d_soft, d_hard = apply_move(model.model, s, v, target)
        np.testing.assert_allclose(s.acc[:2] - before, [d_soft, d_hard], rtol=1e-9, atol=1e-6)
        xs.append(s.x.copy())
        accs.append(s.acc[:2].copy())
    return xs, accs


@pytest.mark.parametrize("name", list(CONFIGS))
def test_running_score_matches_batch(gen_problem: Problem, name: str) -> None:
    problem = Problem(gen_problem.cluster, CONFIGS[name])
    rng = np.random.default_rng(len(name))
    c = problem.cluster
    starts = [c.current_assignment(), np.full(c.n_vms, -1, dtype=np.int32)]
    for x0 in starts:
        xs, accs = replay(problem, x0, random_moves(problem, rng, 400))
        assert_tracks(problem, xs, accs)
    assert DeltaModel.of(problem) is DeltaModel.of(problem)  # cached on the problem


def test_running_score_matches_batch_on_the_example(example_problem: Problem) -> None:
    rng = np.random.default_rng(3)
    for cfg in CONFIGS.values():
        problem = Problem(example_problem.cluster, cfg)
        xs, accs = replay(problem, problem.cluster.current_assignment(), random_moves(problem, rng, 200))
        assert_tracks(problem, xs, accs)


def test_hard_objective_terms_are_refused(gen_problem: Problem) -> None:
    """An objective made hard (e.g. migrations {hard: true}) has no delta form: refused
    rather than silently counted as soft."""
    with pytest.raises(ValueError, match="made hard"):
        DeltaModel.of(Problem(gen_problem.cluster, HARD_OBJECTIVES))


# --- compound moves and undo -------------------------------------------------------------------
@pytest.mark.parametrize("name", ["default", "all_terms"])
def test_compound_moves_and_undo_keep_the_score(gen_problem: Problem, name: str) -> None:
    problem = Problem(gen_problem.cluster, CONFIGS[name])
    model = DeltaModel.of(problem)
    m = model.model
    rules = PlacementRules.of(problem)
    movable = np.flatnonzero(~rules.pinned).astype(np.int64)
    usable = np.flatnonzero(rules.usable).astype(np.int64)
    pinned = np.ascontiguousarray(rules.pinned)
    s = model.state(problem.cluster.current_assignment())
    buf_v = np.empty(512, dtype=np.int64)
    buf_h = np.empty(512, dtype=np.int64)
    acc = np.zeros(2)
    anneal._seed(7)
    rng = np.random.default_rng(7)
    xs, accs, kinds = [], [], set()
    for i in range(300):
        kind = i % 3
        before_x, before_acc = s.x.copy(), s.acc[:2].copy()
        acc[:] = 0.0
        if kind == moves.SHIFT:
            n = moves.shift(m, s, movable, usable, buf_v, buf_h, acc)
        elif kind == moves.SWAP:
            n = moves.swap(m, s, movable, buf_v, buf_h, acc)
        else:
            n = moves.empty_host(m, s, pinned, 8, buf_v, buf_h, acc)
        np.testing.assert_allclose(s.acc[:2] - before_acc, acc, rtol=1e-9, atol=1e-6)
        assert np.array_equal(s.x != before_x, np.isin(np.arange(len(s.x)), buf_v[: abs(n)])) or n == 0
        if n > 0:
            kinds.add(kind)
        xs.append(s.x.copy())
        accs.append(s.acc[:2].copy())
        if n < 0 or rng.random() < 0.5:
            moves.undo(m, s, buf_v, buf_h, abs(n))
            np.testing.assert_array_equal(s.x, before_x)
            np.testing.assert_allclose(s.acc[:2], before_acc, rtol=1e-9, atol=1e-6)
            xs.append(s.x.copy())
            accs.append(s.acc[:2].copy())
        # host lists, loads and spot counts stay consistent with x
        for h in rng.choice(problem.cluster.n_hosts, 3):
            on = []
            v = s.head[h]
            while v >= 0:
                on.append(v)
                v = s.nxt[v]
            assert sorted(on) == np.flatnonzero(s.x == h).tolist()
            assert s.count[h] == len(on)
            assert s.spot[h] == (problem.cluster.vms.pricing[on] == Pricing.SPOT).sum()
            np.testing.assert_allclose(s.load[h], problem.cluster.vms.demand[on].sum(axis=0), atol=1e-6)
    assert kinds == {moves.SHIFT, moves.SWAP, moves.EMPTY}
    assert_tracks(problem, xs, accs)


def test_shift_moves_an_affinity_group_together(gen_problem: Problem) -> None:
    problem = Problem(gen_problem.cluster, CONFIGS["default"])
    c = problem.cluster
    model = DeltaModel.of(problem)
    members = np.flatnonzero(c.vms.affinity == 0)
    s = model.state(c.current_assignment())
    buf_v = np.empty(512, dtype=np.int64)
    buf_h = np.empty(512, dtype=np.int64)
    anneal._seed(1)
    usable = np.flatnonzero(c.usable).astype(np.int64)
    for _ in range(20):
        n = moves.shift(model.model, s, members[:1].astype(np.int64), usable, buf_v, buf_h, np.zeros(2))
        if n:
            assert len(np.unique(s.x[members])) == 1


# --- random small clusters ---------------------------------------------------------------------
WEIGHTS = st.sampled_from([0.0, 0.5, 1.0, 1e3])


@st.composite
def delta_configs(draw) -> EvaluationConfig:
    terms = {}
    for name in sorted(SUPPORTED):
        terms[name] = {"weight": draw(WEIGHTS)}
        if name in HARD_TERMS:
            terms[name]["hard"] = draw(st.booleans())
    return EvaluationConfig(terms=terms)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(max_hosts=6, max_vms=10), cfg=delta_configs(), data=st.data())
def test_running_score_on_random_clusters(spec, cfg: EvaluationConfig, data) -> None:
    cluster = build_cluster(spec)
    problem = Problem(cluster, cfg)
    n_vms, n_hosts = cluster.n_vms, cluster.n_hosts
    x0 = np.array(data.draw(st.lists(st.integers(-1, n_hosts - 1), min_size=n_vms, max_size=n_vms)))
    plan = data.draw(
        st.lists(st.tuples(st.integers(0, n_vms - 1), st.integers(-1, n_hosts - 1)), min_size=1, max_size=30)
    )
    xs, accs = replay(problem, x0, plan)
    assert_tracks(problem, xs, accs)


# --- terms it does not know ---------------------------------------------------------------------
class Mystery(Term):
    """A term the delta evaluator has never heard of (not registered)."""

    name = "mystery"
    kind: Kind = "objective"
    unit = "-"
    description = "test only"
    default_weight = 1.0

    def batch(self, ctx) -> np.ndarray:
        return np.zeros(ctx.size)


def test_unknown_term_with_weight_raises(tiny_problem: Problem) -> None:
    terms = [*REGISTRY.values(), Mystery]
    problem = Problem(tiny_problem.cluster, terms=terms)
    with pytest.raises(ValueError, match="mystery"):
        DeltaModel.of(problem)
    off = Problem(tiny_problem.cluster, config(mystery={"weight": 0}), terms=terms)
    DeltaModel.of(off)  # weight 0: ignored
    unsupported = sorted(set(REGISTRY) - SUPPORTED)
    for name in unsupported:  # e.g. consolidation: registered but not delta-evaluated
        with pytest.raises(ValueError, match=name):
            DeltaModel.of(Problem(tiny_problem.cluster, config(**{name: {"weight": 1.0}})))
