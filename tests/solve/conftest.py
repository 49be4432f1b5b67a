"""Fixtures and independent checks for the solver tests.

Clusters: ``gen_problem`` (a generated 60-host / 450-VM cluster, edited so that it has every
kind of hard rule: host-, rack- and zone-level anti-affinity, affinity pairs, pending VMs
that need one of two GPU models, pinned VMs and hosts in maintenance), ``tight_problem``
(the same kind of cluster with most hosts in maintenance, so not everything fits),
``example_problem`` (examples/small) and ``tiny_problem`` (hand-built, 6 hosts / 12 VMs).

The checks read the cluster arrays and the batch evaluator only, never the solver code
under test.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pytest
from evaluate.builders import example_cluster, tiny_cluster

from cluster_opt.evaluate import EvaluationConfig, Evaluator, Problem
from cluster_opt.generate import GeneratorSettings, generate
from cluster_opt.io.load import cluster_from_tables
from cluster_opt.io.write import SnapshotTables

GPU_MODELS = ("A100", "T4")


def edited_tables(
    hosts: int, vms: int, seed: int, *, maintenance: int, gpu_hosts: int = 6, gpu_vms: int = 12
) -> SnapshotTables:
    """Generated snapshot tables with extra hard rules. The last ``gpu_hosts`` active hosts
    get 4 GPUs of model A100 or T4 (alternating); ``gpu_vms`` ungrouped migratable VMs
    become pending VMs needing 1 GPU of one of these models; three two-member replica
    groups spread by zone (limit 1); ``maintenance`` hosts that carry VMs go into
    maintenance (their VMs made migratable, so that they can be drained)."""
    tables = generate(GeneratorSettings(hosts=hosts, vms=vms, regions=2, seed=seed))
    h = tables.hosts.copy()
    v = tables.vms.copy()
    active = np.flatnonzero(h["state"].to_numpy() == "active")
    gpu_rows = active[-gpu_hosts:]
    h.loc[gpu_rows, "gpus"] = np.maximum(h.loc[gpu_rows, "gpus"], 4.0)
    h.loc[gpu_rows, "gpu_model"] = [GPU_MODELS[i % 2] for i in range(len(gpu_rows))]

    free = np.flatnonzero(
        (v["anti_affinity_group"] == "").to_numpy()
        & (v["affinity_group"] == "").to_numpy()
        & v["migratable"].to_numpy().astype(bool)
        & (v["gpus"].to_numpy() == 0)
    )
    chosen = free[:: max(len(free) // gpu_vms, 1)][:gpu_vms]
    v.loc[chosen, "gpus"] = 1.0
    v.loc[chosen, "gpu_model"] = [GPU_MODELS[i % 2] for i in range(len(chosen))]
    v.loc[chosen, "host"] = ""

    sizes = v.loc[v["anti_affinity_group"] != "", "anti_affinity_group"].value_counts()
    pairs = sizes.index[sizes == 2][:3]
    zone_rows = v["anti_affinity_group"].isin(pairs)
    v.loc[zone_rows, "spread_level"] = "zone"
    v.loc[zone_rows, "max_per_domain"] = 1

    busy = pd.Index(v.loc[v["host"] != "", "host"].unique())
    candidates = [i for i in active[: len(active) - gpu_hosts] if h.at[i, "id"] in busy]
    drained = [candidates[i] for i in np.linspace(0, len(candidates) - 1, maintenance).astype(int)]
    h.loc[drained, "state"] = "maintenance"
    v.loc[v["host"].isin(h.loc[drained, "id"]), "migratable"] = True
    return SnapshotTables(tables.manifest, h, v, tables.regions, tables.prices, tables.power_curves)


def tiny_rules_cluster():
    """6 hosts (cpu 16, mem 64): h0-h3 in rack k1, h4 (GPU model A, 2 GPUs) in rack k2, h5
    in maintenance. 12 VMs: v0-v2 a replica group (one per host), v3/v4 an affinity pair,
    v5 pinned on h1, v6 needs a GPU of model A, v7 sits on the maintenance host, the rest
    plain; v8-v11 pending."""
    hosts = [{}, {}, {}, {}, {"rack": "k2", "gpus": 2, "gpu_model": "A"}, {"state": "maintenance"}]
    aa = {"anti_affinity_group": "g", "spread_level": "host", "max_per_domain": 1}
    vms = [
        {"cpu": 4, "host": 0, **aa},
        {"cpu": 4, "host": 0, **aa},
        {"cpu": 4, "host": 1, **aa},
        {"cpu": 6, "mem_gb": 8, "host": 2, "affinity_group": "a"},
        {"cpu": 6, "mem_gb": 8, "host": 3, "affinity_group": "a"},
        {"cpu": 8, "host": 1, "migratable": False},
        {"cpu": 2, "gpus": 1, "gpu_model": "A"},
        {"cpu": 3, "host": 5},
        {"cpu": 10},
        {"cpu": 7},
        {"cpu": 5, "mem_gb": 32},
        {"cpu": 1},
    ]
    return tiny_cluster(hosts, vms)


@pytest.fixture(scope="session")
def gen_problem() -> Problem:
    return Problem(cluster_from_tables(edited_tables(60, 450, seed=5, maintenance=3)))


@pytest.fixture(scope="session")
def tight_problem() -> Problem:
    """Two thirds of the hosts in maintenance (their VMs made migratable): not every VM
    can be placed."""
    tables = edited_tables(40, 300, seed=7, maintenance=3)
    h, v = tables.hosts, tables.vms
    h.loc[h.index[::3].union(h.index[1::3]), "state"] = "maintenance"
    h.loc[h.index[-4:], "state"] = "active"  # keep some GPU hosts
    v.loc[v["host"].isin(h.loc[h["state"] != "active", "id"]), "migratable"] = True
    return Problem(cluster_from_tables(tables))


@pytest.fixture(scope="session")
def example_problem() -> Problem:
    return Problem(example_cluster())


@pytest.fixture(scope="session")
def tiny_problem() -> Problem:
    return Problem(tiny_rules_cluster())


# --- independent checks -----------------------------------------------------------------
#: Hard terms that only placed VMs can break (``unmigratable`` also counts evicted pinned VMs).
PLACEMENT_TERMS = ("capacity", "anti_affinity", "affinity", "gpu_model", "host_state")


def legal(problem: Problem, pop: np.ndarray) -> np.ndarray:
    """bool[P]: rows in which no placed VM breaks a hard rule: the batch evaluator's
    capacity, anti-affinity, affinity, GPU-model and host-state amounts are 0 and every
    placed pinned VM is on its current host. Unplaced VMs break nothing."""
    pop = np.atleast_2d(np.asarray(pop, dtype=np.int32))
    values = Evaluator(problem).batch(pop).values
    ok = np.all([values[t] <= 1e-9 for t in PLACEMENT_TERMS], axis=0)
    c = problem.cluster
    pinned = np.flatnonzero(~c.vms.migratable & (c.vms.current >= 0))
    stays = (pop[:, pinned] == c.vms.current[pinned]) | (pop[:, pinned] < 0)
    return ok & stays.all(axis=1)


def assert_legal(problem: Problem, x: np.ndarray) -> None:
    """No placed VM breaks a hard rule: by :func:`legal`, and by direct checks of the
    cluster arrays (active hosts, GPU models, affinity groups on one host)."""
    x = np.asarray(x)
    c = problem.cluster
    if not legal(problem, x)[0]:
        values = Evaluator(problem).one(x.astype(np.int32), details=False).values
        amounts = {t: values[t] for t in PLACEMENT_TERMS}
        raise AssertionError(f"a hard rule is broken (or a pinned VM moved): {amounts}")
    placed = x >= 0
    assert c.usable[x[placed]].all(), "a VM on a host that is not active"
    need = placed & (c.vms.gpu_model >= 0)
    assert (c.hosts.gpu_model[x[need]] == c.vms.gpu_model[need]).all(), "a GPU VM on a wrong model"
    for g in range(len(c.affinity_groups)):
        members = np.flatnonzero(c.vms.affinity == g)
        assert len(np.unique(x[members][x[members] >= 0])) <= 1, f"affinity group {g} split"


def assert_feasible(problem: Problem, x: np.ndarray) -> None:
    """Legal, and feasible for the batch evaluator (so no pinned VM left unplaced)."""
    assert_legal(problem, x)
    ev = Evaluator(problem).one(np.asarray(x, dtype=np.int32), details=False)
    assert ev.feasible, {n: v for n, v in ev.values.items() if ev.hard[n] and v > 0}


def unit_members(problem: Problem, x: np.ndarray, v: int) -> np.ndarray:
    """VM ``v`` and the unplaced members of its affinity group (they are placed together)."""
    a = problem.cluster.vms.affinity[v]
    if a < 0:
        return np.array([v])
    members = np.flatnonzero(problem.cluster.vms.affinity == a)
    return members[x[members] < 0]


def fitting_hosts(problem: Problem, x: np.ndarray, vms: Iterable[int]) -> dict[int, np.ndarray]:
    """Brute force: for each VM, the hosts where putting it (with the unplaced members of
    its affinity group) into ``x`` keeps the assignment :func:`legal`, by scoring every
    (VM, host) candidate with the batch evaluator. O(|vms| H V)."""
    n_hosts = problem.cluster.n_hosts
    out = {}
    for v in vms:
        pop = np.repeat(np.asarray(x, dtype=np.int32)[None], n_hosts, axis=0)
        pop[:, unit_members(problem, x, v)] = np.arange(n_hosts, dtype=np.int32)[:, None]
        out[int(v)] = np.flatnonzero(legal(problem, pop))
    return out


def config(**terms: dict) -> EvaluationConfig:
    """An EvaluationConfig from ``term=dict(weight=..., hard=...)`` keywords."""
    return EvaluationConfig(terms=terms)
