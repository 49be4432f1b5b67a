"""Repository hygiene: lint is clean, docs cover the schema, README commands match CI."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cluster_opt.evaluate import REGISTRY
from cluster_opt.io.schema import HOST_BASE, LATENCY_COLUMNS, POWER_CURVE_COLUMNS, PRICE_COLUMNS, VM_BASE

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_is_clean():
    if (
        shutil.which("ruff") is None
        and subprocess.run(
            [sys.executable, "-m", "ruff", "--version"], capture_output=True, check=False
        ).returncode
    ):
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "cluster_opt", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_snapshot_format_doc_names_every_column():
    doc = (ROOT / "docs" / "snapshot-format.md").read_text()
    for col in (*HOST_BASE, *VM_BASE, *LATENCY_COLUMNS, *PRICE_COLUMNS):
        assert f"`{col.name}`" in doc, col.name
    assert "`p0`" in doc and "`p100`" in doc and len(POWER_CURVE_COLUMNS) == 12


def test_objectives_doc_names_every_term():
    doc = (ROOT / "docs" / "objectives.md").read_text()
    for name in REGISTRY:
        assert f"`{name}`" in doc, name


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    assert len(blocks) >= 2
    marker = readme.index("<!-- test-command")
    after = readme[marker:]
    test_cmd = re.search(r"```bash\n(.*?)\n```", after, flags=re.S).group(1)
    assert "pytest" in test_cmd and "pip install" in test_cmd
    ci = (ROOT / ".ci" / "run").read_text()
    assert "test-command" in ci  # CI extracts and runs exactly that line
    assert readme.index(blocks[0]) < marker  # the run command comes first
    assert "cluster-opt" in blocks[0] and "pip install" in blocks[0]
