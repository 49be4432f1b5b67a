"""Fixtures for the snapshot I/O tests; helpers live in snapshot_helpers.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from snapshot_helpers import EXAMPLE, copy_example

from cluster_opt.io import load_snapshot
from cluster_opt.model import Cluster


@pytest.fixture(scope="session")
def example_cluster() -> Cluster:
    """examples/small, loaded once (treat as read-only)."""
    return load_snapshot(EXAMPLE)


@pytest.fixture
def snapshot_dir(tmp_path: Path) -> Path:
    """A private, writable copy of examples/small."""
    return copy_example(tmp_path / "snap")
