"""Fixtures of the operator-job tests: small generated snapshots, one nightly run shared by
the output checks."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from cluster_opt.cli.main import main
from cluster_opt.generate import GeneratorSettings, generate
from cluster_opt.io import write_snapshot

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
#: The files of every job's output folder.
OUTPUTS = (
    "plan.json",
    "plan.parquet",
    "assignment.csv",
    "evaluation.json",
    "report.html",
    "metrics.prom",
    "manifest.json",
)


@dataclass
class Cli:
    """Exit code and captured output of one in-process ``cluster-opt`` call."""

    code: int
    out: str
    err: str


def cli(*argv: str | Path) -> Cli:
    """Run ``cluster-opt ARGV`` in this process (no interpreter start, numba cache warm)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return Cli(code, out.getvalue(), err.getvalue())


def make_snapshot(out: Path, hosts: int = 40, vms: int = 300, seed: int = 1) -> Path:
    """A generated snapshot in 2 regions (about 0.5 s)."""
    return write_snapshot(generate(GeneratorSettings(hosts=hosts, vms=vms, regions=2, seed=seed)), out)


@pytest.fixture(scope="session")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 hosts, 300 VMs, 2 regions (treat as read-only)."""
    return make_snapshot(tmp_path_factory.mktemp("snap") / "snap")


@pytest.fixture(scope="session")
def nightly_run(snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Cli, Path]:
    """``cluster-opt nightly --snapshot S --time 8 --out D`` with nothing but the snapshot:
    its result and its output folder (treat as read-only)."""
    out = tmp_path_factory.mktemp("nightly") / "run"
    return cli("nightly", "--snapshot", snapshot, "--time", "8", "--out", out), out


@pytest.fixture(scope="session", autouse=True)
def _engine_ray(local_ray):
    """The jobs run the distributed engine: share the session's embedded Ray rather than
    starting one per run."""
    return local_ray
