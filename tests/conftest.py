"""Shared fixtures: the reference data folder and the example snapshot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "small"


def data_dir() -> Path | None:
    """$CLUSTER_OPT_DATA, else ../shared/data beside the checkout, if it exists."""
    env = os.environ.get("CLUSTER_OPT_DATA")
    path = Path(env) if env else ROOT.parent / "shared" / "data"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The reference data folder; tests using it skip when it is absent."""
    path = data_dir()
    if path is None:
        pytest.skip("reference data folder ../shared/data (or $CLUSTER_OPT_DATA) is absent")
    return path


@pytest.fixture(scope="session")
def example_dir() -> Path:
    return EXAMPLE


@pytest.fixture(scope="session")
def local_ray():
    """One embedded Ray for the session (about 4 s to start): a fresh local instance, never
    a running ``ray start`` cluster; shut down at the end."""
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
