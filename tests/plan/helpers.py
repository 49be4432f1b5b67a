"""Small clusters and a plan-and-check helper for the planner tests.

Hosts default to 16 cpu / 64 GB in region r1, zone z1, rack k1 (see
tests/evaluate/builders.py); VM ``vi`` is index ``i``, host ``hi`` index ``i``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cluster_opt.evaluate import Problem
from cluster_opt.model import Cluster
from cluster_opt.plan import Plan, PlanSettings, build_plan, plan_document
from cluster_opt.validate_plan import check_plan
from tests.evaluate.builders import tiny_cluster

__all__ = ["checked_plan", "moves_of", "tiny_cluster", "two_racks"]


def two_racks(vms: Sequence[dict], per_rack: int = 2, **host) -> Cluster:
    """``2 * per_rack`` hosts: h0.. in rack k1 (zone z1), the rest in rack k2 (zone z2)."""
    hosts = [{**host, "rack": "k1", "zone": "z1"} for _ in range(per_rack)]
    hosts += [{**host, "rack": "k2", "zone": "z2"} for _ in range(per_rack)]
    return tiny_cluster(hosts, vms)


def checked_plan(
    cluster: Cluster, target: Sequence[int], settings: PlanSettings | None = None, **kwargs
) -> tuple[Plan, dict]:
    """Build a plan, assert the independent validator finds it safe, return it and its
    plan.json object."""
    plan = build_plan(Problem(cluster), np.asarray(target, dtype=np.int32), settings, **kwargs)
    doc = plan_document(plan, cluster)
    report = check_plan(cluster, doc, plan.final)
    assert report.safe, [str(v) for v in report.violations]
    return plan, doc


def moves_of(doc: dict) -> list[tuple[str, str | None, str | None, int]]:
    """(vm, from, to, wave) of every move, in plan order."""
    return [(m["vm"], m["from"], m["to"], m["wave"]) for m in doc["moves"]]
