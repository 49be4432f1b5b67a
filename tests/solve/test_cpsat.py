"""The CP-SAT model, the exact ``cpsat`` solver and the CP-SAT lower bounds.

Optima are known by brute force (every assignment of a tiny random cluster scored by the
batch evaluator) or by construction (vector packings whose optimum is forced).
"""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np
import pytest
from evaluate.builders import tiny_cluster
from evaluate.strategies import build_cluster, specs
from hypothesis import HealthCheck, given, settings

from cluster_opt.evaluate import EvaluationConfig, Evaluator, Problem
from cluster_opt.evaluate.bounds import active_hosts_bound
from cluster_opt.solve.base import Deadline
from cluster_opt.solve.construct import construct
from cluster_opt.solve.cpsat import CpSatSolver
from cluster_opt.solve.cpsat.bounds import l2_bound, lower_bound_active_hosts, lower_bound_energy
from cluster_opt.solve.cpsat.lns import LnsSolver
from cluster_opt.solve.cpsat.model import build_model, lower_hull
from cluster_opt.solve.cpsat.objective import LinearObjective
from cluster_opt.solve.cpsat.scaling import integer_sizes
from cluster_opt.solve.cpsat.search import run_cpsat
from cluster_opt.solve.rules import PlacementRules

from .conftest import assert_feasible, assert_legal

PACKING = EvaluationConfig(
    terms={
        "active_hosts": {"weight": 1.0},
        "unplaced": {"hard": True},
        **{t: {"weight": 0.0} for t in ("hourly_cost", "latency_ms", "migrations", "energy_watts")},
    }
)


def packing_problem(items: list[tuple[int, int]], bins: int, cap: int = 100) -> Problem:
    """Pending VMs of (cpu, mem) sizes on ``bins`` identical hosts; minimise powered hosts."""
    hosts = [{"cpu": cap, "mem_gb": cap} for _ in range(bins)]
    return Problem(tiny_cluster(hosts, [{"cpu": c, "mem_gb": m} for c, m in items]), PACKING)


def whole_groups(cluster, pop: np.ndarray) -> np.ndarray:
    """bool[P]: rows that place each affinity group entirely or not at all (the model places
    a group as one unit)."""
    ok = np.ones(len(pop), dtype=bool)
    for g in np.unique(cluster.vms.affinity[cluster.vms.affinity >= 0]):
        placed = pop[:, cluster.vms.affinity == g] >= 0
        ok &= placed.all(axis=1) | (~placed).all(axis=1)
    return ok


# --- exact solver against brute force -------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(specs(max_hosts=4, max_vms=5))
def test_exact_solver_matches_brute_force(spec) -> None:
    """On random tiny clusters (every rule, prices, latency, power curves, pinned and pending
    VMs) the solver proves the optimum among assignments that keep affinity groups whole,
    and with decimal sizes its bound equals that optimum."""
    c = build_cluster(spec)
    problem = Problem(c)
    pop = np.array(list(itertools.product(range(-1, c.n_hosts), repeat=c.n_vms)), dtype=np.int32)
    batch = Evaluator(problem).batch(pop)
    score = np.where(batch.feasible, batch.score, np.inf)
    best_any, best_whole = score.min(), score[whole_groups(c, pop)].min()
    solver = CpSatSolver(problem, seed=1, settings={"num_workers": 1})
    sol = solver.run(Deadline(30))
    assert solver.done and solver.status in ("OPTIMAL", "INFEASIBLE")
    tol = 1e-6 * max(1.0, abs(best_any))
    if not np.isfinite(best_any):
        assert not sol.feasible
        return
    assert sol.score >= best_any - tol
    if np.isfinite(best_whole):
        assert sol.feasible and sol.score <= best_whole + tol
        if integer_sizes(problem).exact.all():
            assert solver.objective_bound == pytest.approx(best_whole, rel=1e-6, abs=1e-6)


def test_known_packing_optimum_and_bound() -> None:
    """Triplets that fill a bin exactly in both resources: 12 items, optimum 4 bins."""
    rng = np.random.default_rng(3)
    items = []
    for _ in range(4):
        a, b = rng.integers(25, 40, size=2), rng.integers(25, 40, size=2)
        items += [(a[0], a[1]), (b[0], b[1]), (100 - a[0] - b[0], 100 - a[1] - b[1])]
    rng.shuffle(items)
    problem = packing_problem(items, bins=12)
    solver = CpSatSolver(problem, seed=0, settings={"num_workers": 1})
    sol = solver.run(Deadline(60))
    assert solver.status == "OPTIMAL" and sol.feasible
    assert Evaluator(problem).one(sol.x).values["active_hosts"] == 4
    assert solver.objective_bound == pytest.approx(4.0)
    bound = lower_bound_active_hosts(problem, 30)
    assert bound.value == 4 and bound.solved and bound.closed_form == 4


def test_bound_beats_the_volume_bound() -> None:
    """Five items of 40 % in both resources: volume and L2 say 2 hosts, but no host takes
    three of them, so 3 are needed and the relaxation proves it."""
    problem = packing_problem([(40, 40)] * 5, bins=5)
    assert active_hosts_bound(problem.cluster) == 2
    bound = lower_bound_active_hosts(problem, 30)
    assert bound.value == 3 and bound.solved and bound.closed_form == 2


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(specs(planted=True, max_hosts=4, max_vms=5))
def test_bounds_hold_on_random_tiny_clusters(spec) -> None:
    """The CP-SAT bounds never exceed the least powered hosts / watts of a feasible
    assignment that places every VM (brute force), and never fall below the closed form."""
    c = build_cluster(spec)
    problem = Problem(c)
    pop = np.array(list(itertools.product(range(c.n_hosts), repeat=c.n_vms)), dtype=np.int32)
    batch = Evaluator(problem).batch(pop)
    assert batch.feasible.any()  # the planted assignment is
    active = lower_bound_active_hosts(problem, 5)
    energy = lower_bound_energy(problem, 5)
    assert active.value >= active.closed_form == active_hosts_bound(c)
    assert active.value <= batch.values["active_hosts"][batch.feasible].min()
    assert energy.value >= energy.closed_form
    assert energy.value <= batch.values["energy_watts"][batch.feasible].min() * (1 + 1e-9) + 1e-6


@pytest.mark.parametrize(
    ("sizes", "cap", "expected"),
    [
        ([60, 60, 60, 50, 50, 40, 30], 100, 4),  # 3 items > 50 leave 120 for 170 of small ones
        ([51, 51, 51, 10], 100, 3),  # volume says 2
        ([50, 50, 50], 100, 2),
        ([99, 99, 1, 1, 1], 100, 3),
        ([], 100, 0),
        ([0, 0], 100, 0),
    ],
)
def test_l2_bound(sizes, cap, expected) -> None:
    assert l2_bound(np.array(sizes, dtype=np.int64), cap) == expected


def test_vector_packing_instances_with_proven_optimum(shared_data) -> None:
    """Published instances with a proven optimum: the bound proves it within seconds."""
    from cluster_opt.io.packing_formats import packing_cluster, packing_config, read_vbp

    root = shared_data / "vector_packing_mommessin2024" / "instances"
    for path, opt in [("Panigrahy/class8/class8_20_5_5.vbp", 10), ("New/class1/class1_20_10_1.vbp", 7)]:
        cluster = packing_cluster(read_vbp(root / path))
        bound = lower_bound_active_hosts(Problem(cluster, packing_config(cluster.n_hosts)), 30)
        assert bound.value == opt and bound.solved, path


# --- the model ---------------------------------------------------------------------------------
@pytest.mark.timeout(120)
def test_model_solutions_keep_every_rule(gen_problem: Problem) -> None:
    """Every solution CP-SAT returns for the whole problem, restricted to a few candidates
    per VM, is legal for the evaluator (capacity with integer sizes, groups, GPU models,
    pinned VMs)."""
    problem = gen_problem
    x0 = construct(problem, "bfd")
    free = np.flatnonzero(~PlacementRules.of(problem).pinned)
    model = build_model(problem, free, np.arange(problem.cluster.n_hosts), x0, limit=6, hint=x0)
    res = run_cpsat(model.writer.model, Deadline(5), workers=2)
    assert res.has_solution
    x = model.decode(res.values)
    assert_legal(problem, x)
    assert res.bound <= res.objective + 1e-6


def test_model_objective_is_the_evaluators_score(tiny_problem: Problem) -> None:
    """With every VM free and exact (piecewise) energy, the model's objective at a solution
    equals the evaluator's score (imbalance has weight 0 by default)."""
    x0 = construct(tiny_problem, "ffd")
    c = tiny_problem.cluster
    free = np.flatnonzero(~PlacementRules.of(tiny_problem).pinned)
    model = build_model(tiny_problem, free, np.arange(c.n_hosts), x0, energy="piecewise", hint=x0)
    res = run_cpsat(model.writer.model, Deadline(20), workers=1)
    assert res.optimal
    score = Evaluator(tiny_problem).one(model.decode(res.values)).score
    assert res.objective == pytest.approx(score, rel=1e-6)
    assert LinearObjective.of(tiny_problem).ignored == ()


def test_integer_sizes_round_the_safe_and_relaxed_way() -> None:
    """Decimal sizes scale exactly; others round up (safe) or down (relax) for demands."""
    c = tiny_cluster([{"cpu": 16, "mem_gb": 64.5}], [{"cpu": 1.25, "mem_gb": 1 / 3}])
    problem = Problem(c)
    safe, relax = integer_sizes(problem, "safe"), integer_sizes(problem, "relax")
    cpu, mem = c.resource_index("cpu"), c.resource_index("mem_gb")
    assert safe.exact[cpu] and safe.scale[cpu] == 100 and safe.demand[0, cpu] == 125
    assert not safe.exact[mem]
    assert safe.demand[0, mem] / safe.scale[mem] >= 1 / 3 >= relax.demand[0, mem] / relax.scale[mem]
    assert safe.capacity[0, mem] / safe.scale[mem] <= 64.5 <= relax.capacity[0, mem] / relax.scale[mem]


@pytest.mark.parametrize(
    ("watts", "edges"),
    [
        ([100 + 10 * k * k for k in range(11)], [(k, k + 1) for k in range(10)]),  # convex: every segment
        ([100 + 100 * np.sqrt(k) for k in range(11)], [(0, 10)]),  # concave: the chord
        ([100, 150, 160, 170, 180, 190, 200, 210, 220, 230, 240], [(0, 10)]),  # jump then linear
    ],
)
def test_lower_hull(watts, edges) -> None:
    assert lower_hull(np.array(watts, dtype=float)) == edges


# --- the solver interface --------------------------------------------------------------------------
@pytest.mark.timeout(120)
def test_deadline_is_honoured(gen_problem: Problem) -> None:
    solver = CpSatSolver(gen_problem, construct(gen_problem, "ffd")[None], seed=0)
    start = time.monotonic()
    sol = solver.run(Deadline(1.0))
    assert time.monotonic() - start < 60  # returns (generous: model building included)
    assert sol.feasible
    assert_feasible(gen_problem, sol.x)


@pytest.mark.timeout(120)
def test_cancel_stops_a_running_search() -> None:
    """A packing CP-SAT cannot finish quickly (proving 12 bins for 36 items of ~1/3 each
    in four resources); a cancel from another thread stops it."""
    rng = np.random.default_rng(0)
    hosts = [{"cpu": 100, "mem_gb": 100, "net_gbps": 100, "iops": 100} for _ in range(40)]
    vms = [
        dict(zip(("cpu", "mem_gb", "net_gbps", "iops"), rng.integers(20, 45, 4).tolist(), strict=True))
        for _ in range(36)
    ]
    problem = Problem(tiny_cluster(hosts, vms), PACKING)
    cancel = threading.Event()
    solver = CpSatSolver(problem, seed=0)
    timer = threading.Timer(1.0, cancel.set)
    timer.start()
    start = time.monotonic()
    try:
        sol = solver.run(Deadline(300, cancel))
    finally:
        timer.cancel()
    assert time.monotonic() - start < 60
    assert sol.feasible and solver.status in ("FEASIBLE", "OPTIMAL")


def test_same_seed_one_worker_same_answer(tiny_problem: Problem) -> None:
    runs = []
    for _ in range(2):
        solver = CpSatSolver(tiny_problem, seed=7, settings={"num_workers": 1})
        runs.append(solver.run(Deadline(30)))
    np.testing.assert_array_equal(runs[0].x, runs[1].x)
    assert runs[0].score == runs[1].score


def test_restricted_candidates_on_a_large_input(gen_problem: Problem) -> None:
    """Above ``max_pairs`` the model keeps a few hosts per VM and says so."""
    solver = CpSatSolver(gen_problem, construct(gen_problem, "bfd")[None], settings={"max_pairs": 2000})
    sol = solver.run(Deadline(5))
    assert solver.restricted and sol.feasible
    assert solver.model is not None and len(solver.model.pairs) <= 6 * gen_problem.cluster.n_vms


def test_weighted_terms_outside_the_model_are_noted(tiny_problem: Problem) -> None:
    """imbalance and spot_mixing carry weight but are not in the model: the solvers say so
    (``cluster-opt solve`` prints it, the jobs put it in the manifest); with the default
    weights there is nothing to say."""
    assert CpSatSolver(tiny_problem).progress.notes == []
    extra = EvaluationConfig(terms={"imbalance": {"weight": 0.5}, "spot_mixing": {"weight": 0.1}})
    problem = Problem(tiny_problem.cluster, extra)
    for solver in (CpSatSolver(problem), LnsSolver(problem)):
        (note,) = solver.progress.notes
        assert note.startswith(
            f"{solver.name}: weighted term(s) imbalance, spot_mixing are not in the CP-SAT model"
        )
