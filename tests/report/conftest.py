"""Fixtures of the report tests: one small generated cluster and a full set of run outputs."""

from __future__ import annotations

import pytest

from cluster_opt.generate import GeneratorSettings, generate
from cluster_opt.io.load import cluster_from_tables
from cluster_opt.model import Cluster
from cluster_opt.report import ReportData

from .builders import full_report_data


@pytest.fixture(scope="session")
def small_cluster() -> Cluster:
    """200 hosts, 2,000 VMs in 2 regions (about 0.3 s to generate)."""
    return cluster_from_tables(generate(GeneratorSettings(hosts=200, vms=2000, regions=2, seed=3)))


@pytest.fixture(scope="session")
def full_data(small_cluster: Cluster) -> ReportData:
    """Every part of the report filled in (treat as read-only)."""
    return full_report_data(small_cluster, seed=5)
