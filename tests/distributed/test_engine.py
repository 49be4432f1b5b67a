"""The engine on an embedded Ray: a feasible answer that is no worse than the start, an
island killed mid-run, reproducible rounds, cancellation, and the Pareto front."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from cluster_opt.distributed import EngineSettings, optimize, start_assignment
from cluster_opt.distributed.engine import partition_phases
from cluster_opt.evaluate import Evaluator
from cluster_opt.model import HostState

FAST = {"racks_per_partition": 3, "slice_s": 0.5, "global_share": 0.1}


@pytest.fixture(scope="module")
def result(local_ray, problem):
    return optimize(problem, 25, settings=EngineSettings(islands=2, **FAST), seed=1)


def test_the_answer_is_feasible_and_no_worse_than_the_start(problem, result):
    start = Evaluator(problem).one(start_assignment(problem).x)
    ev = Evaluator(problem).one(result.best.x)
    assert ev.feasible and result.best.feasible
    assert ev.score == pytest.approx(result.best.score)
    assert ev.score < start.score  # the energy profile pays for switching hosts off
    assert result.run["units"] >= 1
    run = result.run
    assert run["islands"]["started"] == 2 and run["islands"]["lost"] == 0
    assert run["units"] >= 4 and run["migrants_exchanged"] > 0
    assert run["time_to_first_feasible_s"] is not None and run["time_to_first_feasible_s"] < run["elapsed_s"]
    assert run["elapsed_s"] < 25 + 10  # the deadline holds (plus the final collect)
    per = run["islands"]["per_island"]
    assert [p["algo"] for p in per] == ["reduce", "anneal"] and all(p["units"] > 0 for p in per)


def test_the_front_is_non_dominated_and_holds_the_choice(problem, result):
    fr = result.front
    assert len(fr.x) >= 2 and 0 <= fr.chosen < len(fr.x)
    assert np.array_equal(fr.x[fr.chosen], result.best.x)
    v = fr.values
    for i in range(len(v)):
        dominated = (v <= v[i]).all(axis=1) & (v < v[i]).any(axis=1)
        assert not dominated.any() or i == fr.chosen  # the lowest score may be dominated here
    assert fr.scores[fr.chosen] == fr.scores.min()
    assert fr.objectives == ("energy_watts", "hourly_cost", "latency_ms", "migrations")
    assert v[:, 3].min() == 0  # the start (no migrations) is on the front


def test_an_island_killed_mid_run_is_restarted_and_the_job_returns(local_ray, problem):
    killed = []

    def kill_once(engine):
        if not killed and engine.islands[0].units >= 1:
            local_ray.kill(engine.actors[0])
            killed.append(engine.elapsed())

    res = optimize(problem, 25, settings=EngineSettings(islands=2, **FAST), seed=2, on_update=kill_once)
    assert killed
    isl = res.run["islands"]
    assert isl["lost"] == 1 and isl["restarted"] == 1 and isl["started"] == 3
    assert isl["per_island"][0]["status"] == "restarted"
    assert any("island 0 (reduce) lost" in e for e in res.run["events"])
    assert res.best.feasible and Evaluator(problem).one(res.best.x).feasible


def test_without_restarts_the_partitions_go_to_the_other_island(local_ray, problem):
    killed = []

    def kill_once(engine):
        if not killed and engine.islands[1].units >= 1:
            local_ray.kill(engine.actors[1])
            killed.append(True)

    settings = EngineSettings(islands=2, max_restarts=0, **FAST)
    res = optimize(problem, 25, settings=settings, seed=3, on_update=kill_once)
    per = res.run["islands"]["per_island"]
    assert per[1]["status"] == "lost" and res.run["islands"]["restarted"] == 0
    assert per[0]["units"] > per[1]["units"]
    assert res.best.feasible


def test_reproducible_rounds_give_the_same_answer(local_ray, problem):
    settings = EngineSettings(islands=2, reproducible=True, rounds=2, ticks_per_unit=40, **FAST)
    a, b = (optimize(problem, 120, settings=settings, seed=7) for _ in range(2))
    assert a.run["units"] == b.run["units"] == 2 * a.run["partitions"]["count"]
    assert np.array_equal(a.best.x, b.best.x)
    assert a.best.score == b.best.score


def test_cancel_returns_the_best_so_far_promptly(local_ray, problem):
    cancel = threading.Event()

    def stop_after_two_units(engine):
        if engine.units >= 2:
            cancel.set()

    settings = EngineSettings(islands=2, **FAST)
    res = optimize(problem, 300, settings=settings, seed=4, cancel=cancel, on_update=stop_after_two_units)
    assert res.run["cancelled"] and res.run["elapsed_s"] < 60
    assert res.best.feasible


def test_a_dead_cluster_falls_back_to_the_start(local_ray, problem):
    """Every island lost for good: each partition keeps its start, the job still answers."""

    def kill_all(engine):
        for i in engine.alive():
            local_ray.kill(engine.actors[i])

    settings = EngineSettings(islands=2, max_restarts=0, **FAST)
    res = optimize(problem, 8, settings=settings, seed=5, on_update=kill_all)
    assert res.run["islands"]["lost"] == 2
    assert res.best.feasible


def test_settings_refuse_unknown_solvers_and_wall_clock_solvers_when_reproducible():
    with pytest.raises(ValueError, match="unknown solver"):
        EngineSettings(mix=["reduce", "magic"])
    with pytest.raises(ValueError, match="reproducible runs cannot use"):
        EngineSettings(mix=["lns"], reproducible=True)
    with pytest.raises(ValueError, match="extra"):
        EngineSettings(island=3)


def test_hosts_out_of_service_get_no_vms(problem, result):
    bad = problem.cluster.hosts.state != HostState.ACTIVE
    x = result.best.x
    assert not bad[x[x >= 0]].any()


def test_coarsening_phases_repartition_from_the_merged_best(local_ray, problem):
    """Phase 1 on one-rack partitions, phase 2 on whole zones cut from phase 1's merged
    best: the run ends with one partition per zone and stays feasible and no worse than the
    start."""
    settings = EngineSettings(islands=2, coarsen=[0], **{**FAST, "racks_per_partition": 1})
    res = optimize(problem, 25, settings=settings, seed=6)
    c = problem.cluster
    zones = len(np.unique(c.hosts.zone))
    phase2 = [e for e in res.run["events"] if "phase 2" in e]
    most = int(np.bincount(c.topology.rack_zone).max())
    assert phase2 and f"{zones} partitions of up to {most} racks of a zone" in phase2[0]
    assert res.run["partitions"]["count"] == zones
    assert res.best.feasible and res.best.score <= res.run["start_score"]


def test_reproducible_coarsening_gives_the_same_answer(local_ray, problem):
    """Rounds are shared between the phases (one each here), ticks bound the units."""
    one_rack = {**FAST, "racks_per_partition": 1}
    settings = EngineSettings(
        islands=2, reproducible=True, rounds=2, ticks_per_unit=40, coarsen=[0], **one_rack
    )
    a, b = (optimize(problem, 120, settings=settings, seed=8) for _ in range(2))
    zones = len(np.unique(problem.cluster.hosts.zone))
    assert a.run["units"] == b.run["units"] > zones  # phase 1's partitions, then one per zone
    assert a.run["partitions"]["count"] == zones
    assert np.array_equal(a.best.x, b.best.x) and a.best.score == b.best.score


def test_phases_that_cut_the_same_partitions_are_dropped(problem):
    most = int(np.bincount(problem.cluster.topology.rack_zone).max())
    assert most > 1
    settings = EngineSettings(racks_per_partition=1, coarsen=[1, most + 5, 0])
    assert partition_phases(problem.cluster, settings) == [1, most]
    assert partition_phases(problem.cluster, EngineSettings(racks_per_partition=most + 1)) == [most]
