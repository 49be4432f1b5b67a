"""The independent validator catches a planted violation of each of its rules.

Base cluster (16 cpu hosts): h0, h1 in rack k1 / zone z1; h2 in rack k2 / zone z2 (region
r1); h3 in region r2; h4 in maintenance; h5 with 4 GPUs of model A. VMs: v0 (14 cpu) on h0;
v1, v2 replicas of group g (1 per host) on h1, h2; v3 pinned on h1; v4 + v5 an affinity pair
on h2; v6 a GPU VM on h5; v7 (1 cpu) on h0. The base plan moves v7 to h1 in wave 1.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cluster_opt.validate_plan.replay as replay
from cluster_opt.evaluate import Problem
from cluster_opt.plan import build_plan, plan_document
from cluster_opt.validate_plan import check_plan
from tests.plan.helpers import tiny_cluster

GROUP = {"anti_affinity_group": "g", "spread_level": "host", "max_per_domain": 1, "cpu": 2}
HOSTS = [
    {"rack": "k1", "zone": "z1"},
    {"rack": "k1", "zone": "z1"},
    {"rack": "k2", "zone": "z2"},
    {"rack": "k3", "zone": "z3", "region": "r2"},
    {"rack": "k4", "zone": "z4", "state": "maintenance"},
    {"rack": "k5", "zone": "z5", "gpus": 4, "gpu_model": "A"},
]
VMS = [
    {"cpu": 14, "host": 0},
    {**GROUP, "host": 1},
    {**GROUP, "host": 2},
    {"host": 1, "migratable": False},
    {"host": 2, "affinity_group": "a"},
    {"host": 2, "affinity_group": "a"},
    {"host": 5, "gpus": 1, "gpu_model": "A"},
    {"host": 0},
]
SECONDS = 5 + 1 * 8 / 10 * 1.3  # a 1 GB VM at 10 Gbit/s, dirty-page factor 1.3, 5 s setup


@pytest.fixture(scope="module")
def base():
    cluster = tiny_cluster(HOSTS, VMS)
    target = cluster.current_assignment()
    target[7] = 1
    plan = build_plan(Problem(cluster), target)
    doc = plan_document(plan, cluster)
    assert check_plan(cluster, doc, plan.final).safe
    assert [(m["vm"], m["from"], m["to"], m["wave"]) for m in doc["moves"]] == [("v7", "h0", "h1", 1)]
    return cluster, doc, plan.final


def move(vm, src, dst, wave=1, **extra):
    row = {"vm": vm, "from": src, "to": dst, "wave": wave, "start_s": 0.0, "seconds": SECONDS, "gbps": 10.0}
    return {**row, **extra}


def with_moves(doc, *moves):
    out = copy.deepcopy(doc)
    out["moves"] += list(moves)
    out["summary"]["moves"] = len(out["moves"])
    return out


def with_settings(doc, *moves, **changes):
    out = with_moves(doc, *moves)
    for path, value in changes.items():
        section, key = path.split("__") if "__" in path else (None, path)
        (out["settings"][section] if section else out["settings"])[key] = value
    return out


PLANTED = {
    "capacity": lambda d: with_moves(d, move("v0", "h0", "h1")),  # h1: 2 + 1 + 1 + 14 = 18 > 16
    "anti-affinity": lambda d: with_moves(d, move("v1", "h1", "h2")),
    "replica-in-flight": lambda d: with_moves(d, move("v1", "h1", "h3"), move("v2", "h2", "h0")),
    "affinity": lambda d: with_moves(d, move("v4", "h2", "h3")),
    "unmigratable": lambda d: with_moves(d, move("v3", "h1", "h2")),
    "host-state": lambda d: with_moves(d, move("v7", "h1", "h4", wave=2, start_s=SECONDS)),
    "forbidden-host": lambda d: {**copy.deepcopy(d), "forbidden_hosts": ["h1"]},
    "gpu-model": lambda d: with_moves(d, move("v6", "h5", "h2")),
    "source": lambda d: with_moves(d, move("v6", "h2", "h3")),
    "duplicate-vm": lambda d: with_moves(d, move("v7", "h1", "h2")),
    "no-op": lambda d: with_moves(d, move("v6", "h5", "h5")),
    "unknown-vm": lambda d: with_moves(d, move("nope", "h5", "h2")),
    "unknown-host": lambda d: with_moves(d, move("v6", "h5", "h99")),
    "schema": lambda d: {**copy.deepcopy(d), "format": "something-else"},
    "concurrency-host": lambda d: with_settings(d, move("v1", "h1", "h3"), concurrency__per_host=1),
    "concurrency-rack": lambda d: with_settings(d, move("v1", "h1", "h3"), concurrency__per_rack=1),
    "concurrency-global": lambda d: with_settings(d, move("v6", "h5", "h5"), **{"concurrency__global": 1}),
    "bandwidth": lambda d: with_moves(d, move("v2", "h2", "h3", gbps=1.0)),
    "bandwidth-host": lambda d: with_settings(d, move("v1", "h1", "h3"), links__host_gbps=10),
    "bandwidth-rack": lambda d: with_settings(
        d, move("v1", "h1", "h3"), move("v4", "h2", "h3"), move("v5", "h2", "h3"), links__rack_gbps=15
    ),
    "bandwidth-zone": lambda d: with_settings(
        d, move("v4", "h2", "h3"), move("v5", "h2", "h3"), links__zone_gbps=15
    ),
    "bandwidth-region": lambda d: with_settings(
        d, move("v4", "h2", "h3"), move("v5", "h2", "h3"), links__region_gbps=15
    ),
    "timing": lambda d: with_moves(d, move("v6", "h5", "h2", start_s=3.0)),
    "window": lambda d: with_settings(d, window_seconds=1.0),
    "summary": lambda d: {**copy.deepcopy(d), "summary": {**d["summary"], "waves": 7}},
    "drain": lambda d: {**copy.deepcopy(d), "drain": {"hosts": ["h0"], "complete": True}},
}


@pytest.mark.parametrize("rule", sorted(PLANTED))
def test_each_planted_violation_is_caught(base, rule):
    cluster, doc, _ = base
    planted = PLANTED[rule](doc)
    report = check_plan(cluster, planted, None)
    assert not report.safe
    assert rule in report.by_rule(), [str(v) for v in report.violations]
    hit = next(v for v in report.violations if v.rule == rule)
    assert hit.detail and str(hit).startswith(f"[{rule}]")


def test_moves_are_named_with_their_wave(base):
    cluster, doc, _ = base
    report = check_plan(cluster, PLANTED["unmigratable"](doc), None)
    hit = next(v for v in report.violations if v.rule == "unmigratable")
    assert (hit.wave, hit.vm, hit.src, hit.dst) == (1, "v3", "h1", "h2")


def test_every_violation_is_reported_not_just_the_first(base):
    cluster, doc, _ = base
    planted = with_moves(doc, move("v3", "h1", "h2"), move("v6", "h5", "h2"), move("v1", "h1", "h2"))
    assert {"unmigratable", "gpu-model", "anti-affinity"} <= set(check_plan(cluster, planted, None).by_rule())


def test_final_state_must_match_the_stated_target(base):
    cluster, doc, final = base
    assert check_plan(cluster, doc, final).safe
    wrong = final.copy()
    wrong[7] = 2
    report = check_plan(cluster, doc, wrong)
    assert report.by_rule() == {"final-state": 1} and report.violations[0].vm == "v7"


def test_the_planted_cases_cover_every_documented_rule():
    documented = set(re.findall(r"``([a-z-]+)``", replay.__doc__.split("Rules")[1]))
    assert documented - {"final-state"} == set(PLANTED)


def test_validator_loads_only_the_model_and_the_snapshot_io():
    code = (
        "import sys, cluster_opt.validate_plan; "
        "print(' '.join(sorted({m.split('.')[1] for m in sys.modules if m.startswith('cluster_opt.')})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["io", "model", "validate_plan"]


def test_a_safe_plan_with_staging_replays_clean(base):
    cluster = tiny_cluster([{}, {}, {}], [{"cpu": 10, "host": 0}, {"cpu": 10, "host": 1}])
    plan = build_plan(Problem(cluster), np.array([1, 0], dtype=np.int32))
    report = check_plan(cluster, plan_document(plan, cluster), plan.final)
    assert report.safe and report.moves == 3 and report.waves == 3


def test_plan_format_doc_names_every_rule_and_field(base):
    _, doc, _ = base
    text = (Path(__file__).resolve().parents[2] / "docs" / "plan-format.md").read_text()
    rules = set(re.findall(r"``([a-z-]+)``", replay.__doc__.split("Rules")[1]))
    for name in rules | set(doc) | set(doc["summary"]) | set(doc["moves"][0]) | set(doc["settings"]):
        assert f"`{name}`" in text or f"{name}:" in text, name
