"""The ``roadef-ls`` solver and the ``cluster-opt roadef`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cluster_opt.cli.main import main
from cluster_opt.roadef.adapter import roadef_problem
from cluster_opt.roadef.checker import check
from cluster_opt.roadef.parse import read_assignment, read_model
from cluster_opt.roadef.search import RoadefSearch
from cluster_opt.solve.base import SOLVERS, Deadline

from .conftest import TOY_INITIAL, TOY_MODEL, write


def budget(problem, seed: int = 0, iterations: int = 60_000, **settings) -> RoadefSearch:
    """A solver run to the end of an iteration budget (reproducible whatever the machine)."""
    solver = RoadefSearch(problem, seed=seed, settings={"iterations": iterations, "chunk": 5000, **settings})
    solver.run(Deadline(None))
    return solver


def test_registered():
    assert SOLVERS["roadef-ls"] is RoadefSearch


def test_toy_reaches_its_optimum(toy):
    inst, x0 = toy
    solver = budget(roadef_problem(inst, x0), iterations=5000, check=True)
    best = solver.best()
    assert best.feasible and best.score == 2411  # FORMAT.md: the optimum of the toy instance
    assert best.x.tolist() == [0, 2, 1]
    assert check(inst, x0, best.x).total == 2411


def test_improves_a1_1_and_every_best_is_valid(a_set):
    inst, x0 = a_set["a1_1"]
    initial = check(inst, x0).total
    solver = budget(roadef_problem(inst, x0), iterations=200_000, check=True)  # check: asserts every best
    result = check(inst, x0, solver.best().x)
    assert result.valid and result.total == solver.best().score == solver.best_total[0]
    assert result.total < initial - 4_000_000  # 49.5 M -> about 44.3 M
    assert check(inst, x0, solver.delta.x).valid  # the current state is feasible too


def test_never_leaves_the_feasible_region_on_a2_3(a_set):
    """a2_3 has transient resources, spread and dependencies: the current state after every
    step and every archived solution pass the checker."""
    inst, x0 = a_set["a2_3"]
    solver = RoadefSearch(roadef_problem(inst, x0), seed=3, settings={"chunk": 5000, "iterations": 40_000})
    while not solver.done:
        solver.step(Deadline(None))
        result = check(inst, x0, solver.delta.x)
        assert result.valid, result.reason
        assert result.total == solver.delta.total()
    assert all(check(inst, x0, s.x).valid for s in solver.archive.items)
    assert solver.best().score < check(inst, x0).total


def test_reproducible_with_an_iteration_budget(a_set):
    inst, x0 = a_set["a1_4"]
    problem = roadef_problem(inst, x0)
    a, b = budget(problem, seed=5), budget(problem, seed=5)
    np.testing.assert_array_equal(a.best().x, b.best().x)
    assert a.best().score == b.best().score and a.applied == b.applied
    c = budget(problem, seed=6)
    assert not np.array_equal(a.best().x, c.best().x)


def test_starts_from_a_better_feasible_seed(a_set):
    inst, x0 = a_set["a1_1"]
    problem = roadef_problem(inst, x0)
    good = budget(problem, iterations=100_000).best()
    bad = x0.copy()
    bad[0] = (bad[0] + 1) % inst.n_machines  # may break a rule: never chosen over a feasible one
    solver = RoadefSearch(problem, np.stack([bad, good.x]).astype(np.int32), settings={"iterations": 10})
    assert solver.delta.total() == good.score and (solver.delta.x == good.x).all()


def test_refuses_an_invalid_original_assignment(toy):
    inst, _ = toy
    with pytest.raises(ValueError, match=r"original assignment .* is invalid: conflict"):
        RoadefSearch(roadef_problem(inst, np.array([0, 0, 0])))


def test_settings_are_checked(toy):
    inst, x0 = toy
    with pytest.raises(ValueError, match="p_swap"):
        RoadefSearch(roadef_problem(inst, x0), settings={"p_swap": 0.9, "p_eject": 0.2})


def test_cli_writes_a_solution_the_checker_accepts(capsys, tmp_path):
    model = write(tmp_path, "model_toy.txt", TOY_MODEL)
    initial = write(tmp_path, "assignment_toy.txt", TOY_INITIAL)
    write(
        tmp_path, "best_known.csv", "instance,initial_cost,best_known_cost,source\ntoy,4200,2411,FORMAT.md\n"
    )
    out = tmp_path / "solution.txt"
    code = main(["roadef", str(model), str(initial), "--time", "0.5", "--seed", "1", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    inst = read_model(model)
    result = check(inst, read_assignment(initial, inst), read_assignment(out, inst))
    assert result.valid and result.total == 2411
    for part in ("2,411", "valid", "initial cost 4,200 -> 2,411", "best known 2,411: gap 0.00%", str(out)):
        assert part in text
    code = main(["roadef", str(model), str(initial), "--time", "0.2", "--out", str(out), "--json"])
    obj = json.loads(capsys.readouterr().out)
    assert code == 0 and obj["valid"] and obj["total"] == 2411 and obj["gap_to_best_known_pct"] == 0.0
    assert obj["initial_cost"] == 4200 and obj["instance"] == "toy"


def test_size_ranks_orders_processes_by_size():
    from cluster_opt.roadef.search import size_ranks

    req = np.array([[5, 0], [1, 1], [0, 12], [2, 2]])
    capacity = np.array([[10, 20], [10, 20]])
    order, rank = size_ranks(req, capacity)
    assert order.tolist() == [1, 3, 0, 2]  # sizes 0.5, 0.1 + 0.05, 0.6, 0.2 + 0.1
    assert rank[order].tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("p_near", [0.0, 1.0])
def test_near_swaps_keep_every_best_valid(a_set, p_near):
    """Swaps with random or similar-size partners only (no shifts or ejections): every new
    best is re-checked exactly (``check``) and the cost goes down on a2_5."""
    inst, x0 = a_set["a2_5"]
    settings = {"p_swap": 1.0, "p_eject": 0.0, "p_near": p_near, "swap_window": 5, "check": True}
    solver = budget(roadef_problem(inst, x0), iterations=40_000, **settings)
    assert solver.applied > 0
    assert check(inst, x0, solver.best().x).total == solver.best_total[0] < check(inst, x0).total
