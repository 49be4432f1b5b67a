"""The three jobs submitted to a real local Ray head with ``ray job submit``, as on a
cluster (issue 6, section 8): the working directory is uploaded, the entry points in jobs/
run there, and the plans they write pass ``cluster-opt check-plan``.

The head runs as ``ray start --head --block`` in its own session with its own ports and
temporary folder, and is stopped by signalling that process (and, if any is left, the
processes of its session): ``ray stop`` would also stop every other Ray on the machine.

Each job takes 1-2.5 min on a loaded 2-core machine (every upload of a changed checkout is
a new package, so the job compiles the numba kernels again); all three run by default: no
benchmark covers them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.jobs.conftest import CONFIGS, ROOT, cli

RAY = Path(sys.executable).with_name("ray")
#: Left out of the upload besides what .gitignore and Ray already leave out.
EXCLUDES = ["runs/", "out/", ".venv/", "venv/", ".git/"]
START_TIMEOUT_S = 120
JOB_TIMEOUT_S = 400  # per job; each test's own timeout is above it

pytestmark = pytest.mark.skipif(
    not RAY.is_file(), reason=f"the ray CLI is not installed beside {sys.executable}"
)


@dataclass
class Head:
    """A running local head: its job API address, the environment to talk to it, and its
    temporary folder."""

    address: str
    env: dict[str, str]
    temp: Path

    def submit(self, script: str, *args: str | Path) -> subprocess.CompletedProcess:
        """``ray job submit`` of ``python jobs/SCRIPT ARGS`` with this checkout as the
        working directory; waits for the job to end."""
        command = [
            str(RAY),
            "job",
            "submit",
            "--address",
            self.address,
            "--working-dir",
            str(ROOT),
            "--runtime-env-json",
            json.dumps({"excludes": EXCLUDES}),
            "--",
            "python",
            f"jobs/{script}",
            *map(str, args),
        ]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=JOB_TIMEOUT_S)

    def working_dir(self, job: subprocess.CompletedProcess) -> Path:
        """The folder a job ran in: its upload (``gcs://_ray_pkg_<hash>.zip``) unpacked."""
        (package,) = set(re.findall(r"gcs://(_ray_pkg_[0-9a-f]+)\.zip", job.stdout + job.stderr))
        return self.temp / "session_latest" / "runtime_resources" / "working_dir_files" / package


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"ray start exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(
        f"the Ray head did not answer on {url} within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}"
    )


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to ``ray start --block`` stops the processes it started; SIGKILL whatever of
    its session is still there after that."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    for _ in range(20):
        ps = subprocess.run(["ps", "-eo", "pid=,sid="], capture_output=True, text=True).stdout.split()
        left = [int(pid) for pid, sid in zip(ps[::2], ps[1::2], strict=True) if int(sid) == process.pid]
        if not left:
            return
        time.sleep(0.5)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def head() -> Iterator[Head]:
    # a short folder: Ray's unix socket paths must stay under 108 characters
    temp = Path(tempfile.mkdtemp(prefix="co-ray-", dir="/tmp"))
    gcs, dashboard, client, agent = (free_port() for _ in range(4))
    env = {
        **os.environ,
        "RAY_AUTH_MODE": "disabled",  # ~/.ray/auth_token would otherwise be demanded by job submit
        "RAY_USAGE_STATS_ENABLED": "0",
        "PATH": f"{RAY.parent}{os.pathsep}{os.environ.get('PATH', '')}",  # `python` in jobs = this venv
    }
    env.pop("RAY_ADDRESS", None)
    log = temp / "ray-start.log"
    command = [
        str(RAY),
        "start",
        "--head",
        "--block",
        f"--port={gcs}",
        "--num-cpus=2",
        "--include-dashboard=true",
        "--dashboard-host=127.0.0.1",
        f"--dashboard-port={dashboard}",
        f"--ray-client-server-port={client}",
        f"--dashboard-agent-listen-port={agent}",
        f"--temp-dir={temp}",
        "--disable-usage-stats",
    ]
    with log.open("w") as sink:
        process = subprocess.Popen(
            command, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        address = f"http://127.0.0.1:{dashboard}"
        wait_until_up(f"{address}/api/version", process, log)
        yield Head(address, env, temp)
    finally:
        stop(process)
        shutil.rmtree(temp, ignore_errors=True)


def succeeded(job: subprocess.CompletedProcess) -> bool:
    return job.returncode == 0 and "succeeded" in job.stdout + job.stderr


@pytest.mark.timeout(600)
def test_nightly_job_on_a_ray_head(head, snapshot, tmp_path):
    out = tmp_path / "tonight"
    job = head.submit("nightly_rebalance.py", "--snapshot", snapshot.resolve(), "--time", "2", "--out", out)
    assert succeeded(job), job.stdout[-4000:] + job.stderr[-4000:]
    assert f"report: {out / 'report.html'}" in job.stdout
    check = cli("check-plan", snapshot, out)
    assert check.code == 0 and "safe" in check.out, check.out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"][0].endswith("jobs/nightly_rebalance.py")
    assert manifest["algorithm"] == "engine" and manifest["islands"] == 2  # island actors on the head
    # the upload is the checkout without its run outputs
    package = head.working_dir(job)
    assert (package / "jobs" / "nightly_rebalance.py").is_file() and (package / "cluster_opt").is_dir()
    assert not (package / "runs").exists() and not (package / ".git").exists()


@pytest.mark.timeout(600)
def test_migration_job_on_a_ray_head(head, snapshot, tmp_path):
    out = tmp_path / "drain"
    job = head.submit(
        "plan_migration.py",
        "--config",
        "configs/migration.yaml",
        "--snapshot",
        snapshot.resolve(),
        "--out",
        out,
    )
    text = job.stdout + job.stderr
    # exit 3 (the drain is partial: the safe part is written) fails the Ray job on purpose
    assert succeeded(job) or "exit code 3" in text, text[-4000:]
    plan = json.loads((out / "plan.json").read_text())
    assert plan["drain"]["complete"] == succeeded(job)
    assert cli("check-plan", snapshot, out).code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["profile"].endswith("configs/profiles/balanced.yaml")
    assert Path(manifest["config"]["profile"]) != CONFIGS / "profiles" / "balanced.yaml"  # the uploaded copy


@pytest.mark.timeout(600)
def test_sweep_job_on_a_ray_head(head, snapshot, tmp_path):
    config = tmp_path / "sweep.yaml"
    config.write_text(
        yaml.safe_dump(
            {"snapshots": [str(snapshot.resolve())], "algo": "engine", "grid": {"islands": [1, 2]}}
        )
    )
    out = tmp_path / "sweep"
    job = head.submit("sweep.py", "--config", config, "--time", "3", "--out", out)
    assert succeeded(job), job.stdout[-4000:] + job.stderr[-4000:]
    table = pd.read_csv(out / "results.csv")
    assert sorted(table["setting.islands"]) == [1, 2] and table["feasible"].all()
    assert (out / "quality_vs_time.svg").read_text().lstrip().startswith("<?xml")
    solver = yaml.safe_load((out / "best_profile.yaml").read_text())["solver"]
    assert solver["algo"] == "engine" and solver["engine"]["islands"] in (1, 2)
