"""Fixtures of the engine tests: a small generated cluster in two regions (3 zones each)."""

from __future__ import annotations

import pytest

from cluster_opt.evaluate import EvaluationConfig, Problem
from cluster_opt.generate import GeneratorSettings, generate
from cluster_opt.io.load import cluster_from_tables

#: Weights that reward switching hosts off, so that searches have something to gain.
ENERGY = EvaluationConfig.model_validate(
    {
        "terms": {
            "active_hosts": {"weight": 0.5},
            "energy_watts": {"weight": 0.0005},
            "migrations": {"weight": 0.01},
        }
    }
)


@pytest.fixture(scope="session")
def problem() -> Problem:
    """160 hosts, 1,200 VMs, 2 regions, with the current placement (treat as read-only)."""
    cluster = cluster_from_tables(generate(GeneratorSettings(hosts=160, vms=1200, regions=2, seed=5)))
    return Problem(cluster, ENERGY)
