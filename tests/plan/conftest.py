"""A generated cluster shared by the planner tests (built-in workload models, no data)."""

from __future__ import annotations

import pytest

from cluster_opt.evaluate import Problem
from cluster_opt.generate import GeneratorSettings, generate
from cluster_opt.io.load import cluster_from_tables


@pytest.fixture(scope="session")
def generated_problem() -> Problem:
    """120 hosts in 2 regions, 1,200 VMs, replica groups, affinity pairs and GPU racks."""
    return Problem(cluster_from_tables(generate(GeneratorSettings(hosts=120, vms=1200, regions=2, seed=3))))
