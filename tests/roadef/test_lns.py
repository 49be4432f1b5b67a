"""The CP-SAT neighbourhoods of ``roadef-ls`` (cluster_opt/roadef/lns.py): the sub-model's
objective moves exactly like the official total, every result passes the checker, and over
all machines it finds the optimum of the tiny instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ortools.sat.python import cp_model

from cluster_opt.roadef.adapter import roadef_problem
from cluster_opt.roadef.checker import check
from cluster_opt.roadef.delta import RoadefDelta
from cluster_opt.roadef.lns import build_model, pick_machines, reoptimise
from cluster_opt.roadef.search import RoadefSearch
from cluster_opt.solve.base import Deadline


def _optimum(inst, x0) -> int:
    """The best valid total over every assignment (tiny instances only)."""
    totals = []
    for x in itertools.product(range(inst.n_machines), repeat=inst.n_processes):
        result = check(inst, x0, np.array(x))
        if result.valid:
            totals.append(result.total)
    return min(totals)


@pytest.mark.parametrize("fixture", ["toy", "transient"])
def test_all_machines_give_the_optimum(fixture, request):
    inst, x0 = request.getfixturevalue(fixture)
    d = RoadefDelta.of(inst, x0)
    x, optimal = reoptimise(d, np.arange(inst.n_machines), 5.0, seed=0)
    best = _optimum(inst, x0)
    assert optimal
    if best == check(inst, x0).total:
        assert x is None  # the original assignment is already optimal
    else:
        result = check(inst, x0, x)
        assert result.valid and result.total == best


def _objective(d: RoadefDelta, machines: np.ndarray, x: np.ndarray) -> int:
    """The sub-model's objective with every placement pinned to ``x`` (tight at optimum)."""
    model, free, var = build_model(d, machines)
    for (i, j), v in var.items():
        model.add(v == int(x[free[i]] == machines[j]))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(model) == cp_model.OPTIMAL
    return round(solver.objective_value)


@pytest.mark.parametrize("name", ["a1_4", "a2_3"])
def test_objective_change_is_the_official_change(a_set, name):
    """a1_4 has balance costs and a transient resource, a2_3 transient resources, spread and
    577 dependencies: from a state with moved processes, the solution of a neighbourhood is
    valid, no worse, and the sub-model's objective changes by exactly the checker's change."""
    inst, x0 = a_set[name]
    solver = RoadefSearch(roadef_problem(inst, x0), seed=1, settings={"iterations": 30_000, "chunk": 10_000})
    solver.run(Deadline(None))
    d = solver.delta
    assert (d.x != x0).sum() > 10
    rng = np.random.default_rng(0)
    before = check(inst, x0, d.x).total
    for _ in range(3):
        machines = pick_machines(d, 4, rng)
        assert len(set(machines.tolist())) == 4
        x, _ = reoptimise(d, machines, 0.2, seed=0)
        if x is None:
            continue
        result = check(inst, x0, x)
        assert result.valid, result.reason
        assert result.total <= before
        assert result.total - before == _objective(d, machines, x) - _objective(d, machines, d.x)


def test_search_with_lns_improves_a2_1_and_is_reproducible(a_set):
    """a2_1: after the annealing, neighbourhoods bring processes home (the move cost is all
    that is left); the same seed gives the same result."""
    inst, x0 = a_set["a2_1"]
    problem = roadef_problem(inst, x0)
    settings = {"iterations": 200_000, "chunk": 20_000, "lns_neighbourhoods": 8, "lns_seconds": 0.05}
    runs = []
    for _ in range(2):
        solver = RoadefSearch(problem, seed=2, settings=settings)
        annealed = None
        while not solver.done:
            solver.step(Deadline(None))
            if annealed is None and solver.iterations >= settings["iterations"]:
                annealed = int(solver.best_total[0])
        runs.append(solver)
        result = check(inst, x0, solver.best().x)
        assert result.valid and result.total == solver.best().score
        assert solver.neighbourhoods == 8 and solver.lns_rejected == 0
        assert solver.lns_improved > 0 and result.total < annealed
    np.testing.assert_array_equal(runs[0].best().x, runs[1].best().x)


def test_variables_only_where_a_process_fits_alone(a_set):
    """a2_2 (four transient resources): a free process has a variable on its current machine
    and on the machines of the neighbourhood where it fits with the transient space taken
    there whatever the free processes do; never a variable where it could not fit."""
    inst, x0 = a_set["a2_2"]
    solver = RoadefSearch(roadef_problem(inst, x0), seed=1, settings={"iterations": 30_000, "chunk": 10_000})
    solver.run(Deadline(None))
    d = solver.delta
    machines = pick_machines(d, 6, np.random.default_rng(3))
    _, free, var = build_model(d, machines)
    n_res = inst.n_resources
    pairs = len(free) * len(machines)
    assert 0 < len(var) < pairs  # some pairs are filtered out
    for i, p in enumerate(free.tolist()):
        assert (i, int(np.flatnonzero(machines == d.x[p])[0])) in var
        for j, m in enumerate(machines.tolist()):
            if m == d.x[p] or (i, j) not in var:
                continue
            others = free[d.proc[free, 1] == m]
            away = d.use[m, n_res:] - d.req[others[d.x[others] != m]].sum(axis=0)
            taken = away + d.req[others].sum(axis=0)
            need = np.where(d.trans.astype(bool) & (d.proc[p, 1] == m), 0, d.req[p])
            room = np.where(d.trans.astype(bool), d.mach[m, :n_res] - taken, d.mach[m, :n_res])
            assert np.all(need <= room)
