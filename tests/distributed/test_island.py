"""An island without Ray: units return sorted feasible elites, take migrants, and with the
tick clock repeat exactly."""

from __future__ import annotations

import numpy as np
import pytest

from cluster_opt.distributed import partition, start_assignment, sub_cluster
from cluster_opt.distributed.island import Island, TickClock
from cluster_opt.evaluate import Evaluator, Problem


@pytest.fixture(scope="module")
def parts(problem):
    x0 = start_assignment(problem).x
    parts = partition(problem.cluster, x0, 4)
    return x0, parts, [sub_cluster(problem.cluster, p, x0) for p in parts]


def test_a_unit_returns_the_best_elites_first_and_feasible(problem, parts):
    x0, ps, clusters = parts
    island = Island(0, "reduce", clusters, problem.config, seed=3)
    start = ps[0].restrict(x0)
    res = island.work(0, start[None], 1.0)
    sub = Problem(clusters[0], problem.config)
    ev = Evaluator(sub).batch(res.elites)
    assert res.partition == 0 and res.island == 0 and res.steps >= 1
    assert np.allclose(ev.score, res.scores) and ev.feasible[0]
    assert (np.diff(res.scores[res.feasible]) >= 0).all()
    assert res.scores[0] <= Evaluator(sub).batch(start[None]).score[0] + 1e-9


def test_migrants_reach_an_existing_solver(problem, parts):
    x0, ps, clusters = parts
    island = Island(1, "anneal", clusters, problem.config, seed=3)
    island.work(1, ps[1].restrict(x0)[None], 0.3)
    solver = island.solvers[1]
    before = solver.progress.migrants_accepted
    other = Island(2, "reduce", clusters, problem.config, seed=4).work(1, ps[1].restrict(x0)[None], 0.5)
    res = island.work(1, other.elites, 0.3)
    assert solver.progress.migrants_accepted == before + len(other.elites)
    assert res.scores[0] <= other.scores[0] + 1e-9  # the migrants' best is kept


@pytest.mark.parametrize("algo", ["reduce", "anneal", "ga"])
def test_tick_budgets_repeat_exactly(problem, parts, algo):
    x0, ps, clusters = parts
    runs = [
        Island(0, algo, clusters, problem.config, seed=9).work(2, ps[2].restrict(x0)[None], 60, ticks=True)
        for _ in range(2)
    ]
    assert np.array_equal(runs[0].elites, runs[1].elites)
    assert np.array_equal(runs[0].scores, runs[1].scores)


def test_tick_clock_advances_once_per_read():
    clock = TickClock()
    assert [clock(), clock(), clock()] == [1.0, 2.0, 3.0]


def test_unknown_solver_is_refused(problem, parts):
    with pytest.raises(ValueError, match="unknown solver 'nope'"):
        Island(0, "nope", parts[2], problem.config)
