"""ROADEF fixtures: the toy instances of FORMAT.md (embedded, they are tiny) and the set-A
files read in place from the reference data folder."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from cluster_opt.roadef.instance import Instance
from cluster_opt.roadef.parse import read_assignment, read_model

#: FORMAT.md section 8.1: 2 resources, 4 machines, 2 services, 3 processes, 1 balance cost.
TOY_MODEL = """2
1 100
0  10
4
0 0 30 400 16  80 0 1 4 5
0 0 10 240  8 160 1 0 3 4
1 1 15 100 12  80 4 3 0 2
1 2 10 100  8  80 5 4 2 0
2
2 0
1 1 0
3
0 12  10 1000
0 10  20  100
1  6 200    1
1
0 1 20 10
1 10 100
"""
TOY_INITIAL = "0 3 0\n"

#: FORMAT.md section 8.2: r1 is transient; machine 2 has less of it.
TRANSIENT_MODEL = """2
0 1
1 1
3
0 0 3 10 3 10 0 1 1
0 0 3 10 3 10 1 0 1
0 0 3 7 3 7 1 1 0
2
0 0
0 0
2
0 1 8 5
1 1 6 7
0
1 10 100
"""
TRANSIENT_INITIAL = "0 1\n"

A_INSTANCES = ("a1_1", "a1_2", "a1_3", "a1_4", "a1_5", "a2_1", "a2_2", "a2_3", "a2_4", "a2_5")


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text)
    return path


def load(tmp: Path, model: str, initial: str) -> tuple[Instance, np.ndarray]:
    inst = read_model(write(tmp, "model_t.txt", model))
    return inst, read_assignment(write(tmp, "assignment_t.txt", initial), inst)


@pytest.fixture
def toy(tmp_path) -> tuple[Instance, np.ndarray]:
    return load(tmp_path, TOY_MODEL, TOY_INITIAL)


@pytest.fixture
def transient(tmp_path) -> tuple[Instance, np.ndarray]:
    return load(tmp_path, TRANSIENT_MODEL, TRANSIENT_INITIAL)


@pytest.fixture(scope="session")
def roadef_dir(shared_data) -> Path:
    path = shared_data / "roadef2012"
    if not path.is_dir():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture(scope="session")
def a_set(roadef_dir) -> dict[str, tuple[Instance, np.ndarray]]:
    """Every set-A instance with its original assignment, parsed once."""
    out = {}
    for name in A_INSTANCES:
        inst = read_model(roadef_dir / f"model_{name}.txt")
        out[name] = (inst, read_assignment(roadef_dir / f"assignment_{name}.txt", inst))
    return out


@pytest.fixture(scope="session")
def best_known(roadef_dir) -> dict[str, dict[str, str]]:
    with open(roadef_dir / "best_known.csv", newline="") as f:
        return {row["instance"]: row for row in csv.DictReader(f)}
