"""Parsing model and assignment files: values, layout independence, and errors that name the
file, line and field."""

from __future__ import annotations

import numpy as np
import pytest

from cluster_opt.io import SnapshotError
from cluster_opt.roadef.parse import read_assignment, read_model

from .conftest import A_INSTANCES, TOY_INITIAL, TOY_MODEL, write


def test_toy_model_values(toy):
    inst, x0 = toy
    assert inst.transient.tolist() == [True, False]
    assert inst.load_weight.tolist() == [100, 10]
    assert inst.neighborhood.tolist() == [0, 0, 1, 1]
    assert inst.location.tolist() == [0, 0, 1, 2]
    assert inst.capacity.tolist() == [[30, 400], [10, 240], [15, 100], [10, 100]]
    assert inst.safety_capacity.tolist() == [[16, 80], [8, 160], [12, 80], [8, 80]]
    assert inst.machine_move_cost.tolist() == [[0, 1, 4, 5], [1, 0, 3, 4], [4, 3, 0, 2], [5, 4, 2, 0]]
    assert inst.spread_min.tolist() == [2, 1]
    assert inst.dependency_ptr.tolist() == [0, 0, 1] and inst.dependency.tolist() == [0]
    assert inst.service.tolist() == [0, 0, 1]
    assert inst.requirement.tolist() == [[12, 10], [10, 20], [6, 200]]
    assert inst.process_move_cost.tolist() == [1000, 100, 1]
    assert inst.balance_resources.tolist() == [[0, 1]]
    assert inst.balance_target.tolist() == [20] and inst.balance_weight.tolist() == [10]
    assert (inst.process_move_weight, inst.service_move_weight, inst.machine_move_weight) == (1, 10, 100)
    assert x0.tolist() == [0, 3, 0] and x0.dtype == np.int32
    # the bound of FORMAT.md section 7: load 0 (total use is below the safety capacity) and
    # balance 10 x max(0, 20 x (65 - 28) - (840 - 230)) = 10 x 130
    assert (inst.load_lower_bound(), inst.balance_lower_bound()) == (0, 1300)


def test_line_breaks_carry_no_meaning(tmp_path, toy):
    inst, _ = toy
    flat = read_model(write(tmp_path, "flat.txt", " ".join(TOY_MODEL.split())))
    tall = read_model(write(tmp_path, "tall.txt", "\n".join(TOY_MODEL.split()) + "\n\n"))
    for other in (flat, tall):
        for field in ("capacity", "machine_move_cost", "dependency", "requirement", "balance_target"):
            assert np.array_equal(getattr(other, field), getattr(inst, field))


#: FORMAT.md section 10: R, |TR|, M, P, S, neighborhoods, locations, dependencies, B, LB.
SIZES = {
    "a1_1": (2, 0, 4, 100, 79, 1, 4, 0, 1, 44306390),
    "a1_2": (4, 1, 100, 1000, 980, 2, 4, 40, 0, 777530730),
    "a1_3": (3, 1, 100, 1000, 216, 5, 25, 342, 0, 583005700),
    "a1_4": (3, 1, 50, 1000, 142, 50, 50, 297, 1, 242387530),
    "a1_5": (4, 1, 12, 1000, 981, 2, 4, 32, 1, 727578290),
    "a2_1": (3, 0, 100, 1000, 1000, 1, 1, 0, 0, 0),
    "a2_2": (12, 4, 100, 1000, 170, 5, 25, 0, 0, 13590090),
    "a2_3": (12, 4, 100, 1000, 129, 5, 25, 577, 0, 521441700),
    "a2_4": (12, 0, 50, 1000, 180, 5, 25, 397, 1, 1680222380),
    "a2_5": (12, 0, 50, 1000, 153, 5, 25, 506, 0, 307035180),
}


@pytest.mark.parametrize("name", A_INSTANCES)
def test_a_instance_sizes_and_bound(name, a_set):
    inst, x0 = a_set[name]
    got = (
        inst.n_resources,
        int(inst.transient.sum()),
        inst.n_machines,
        inst.n_processes,
        inst.n_services,
        len(np.unique(inst.neighborhood)),
        len(np.unique(inst.location)),
        len(inst.dependency),
        inst.n_balances,
        inst.load_lower_bound() + inst.balance_lower_bound(),
    )
    assert got == SIZES[name]
    assert x0.shape == (inst.n_processes,)
    assert inst.name == name


def _issues(path, instance=None):
    with pytest.raises(SnapshotError) as err:
        read_model(path) if instance is None else read_assignment(path, instance)
    return err.value.issues


def _replace_token(text: str, line: int, index: int, value: str) -> str:
    """``text`` with the ``index``-th token of 1-based line ``line`` replaced."""
    lines = text.splitlines()
    tokens = lines[line - 1].split()
    tokens[index] = value
    lines[line - 1] = " ".join(tokens)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("line", "index", "value", "row_id", "column", "reason"),
    [
        (6, 3, "abc", "machine 1", "capacity[r1]", "'abc' is not a non-negative integer"),
        (7, 2, "-15", "machine 2", "capacity[r0]", "'-15' is not a non-negative integer"),
        (2, 0, "2", "resource 0", "transient", "2 is above the maximum 1"),
        (7, 1, "5", "machine 2", "location", "5 is above the maximum 4"),
        (11, 2, "7", "service 1", "dependency[0]", "7 is above the maximum 1"),
        (13, 0, "2", "process 0", "service", "2 is above the maximum 1"),
        (17, 1, "2", "balance 0", "resource2", "2 is above the maximum 1"),
        (18, 2, "2147483648", None, "machine_move_weight", "2147483648 is above the maximum 2147483647"),
        (8, 8, "1.5", "machine 3", "machine_move_cost[m2]", "'1.5' is not a non-negative integer"),
        (
            18,
            0,
            "99999999999999999999",
            None,
            "process_move_weight",
            "99999999999999999999 is above the maximum 2147483647",
        ),
    ],
)
def test_a_bad_value_names_file_line_entity_and_field(tmp_path, line, index, value, row_id, column, reason):
    path = write(tmp_path, "model_bad.txt", _replace_token(TOY_MODEL, line, index, value))
    [issue] = _issues(path)
    assert (issue.file, issue.row, issue.row_id, issue.column) == (str(path), line, row_id, column)
    assert issue.reason == reason


def test_every_bad_value_is_listed(tmp_path):
    text = _replace_token(_replace_token(TOY_MODEL, 5, 2, "x"), 14, 3, "y")
    issues = _issues(write(tmp_path, "model_bad.txt", text))
    assert [(i.row, i.row_id, i.column) for i in issues] == [
        (5, "machine 0", "capacity[r0]"),
        (14, "process 1", "process_move_cost"),
    ]


def test_a_bad_count_stops_the_parse(tmp_path):
    issues = _issues(write(tmp_path, "m.txt", _replace_token(TOY_MODEL, 1, 0, "21")))
    assert [(i.row, i.column, i.reason) for i in issues] == [(1, "n_resources", "21 is above the maximum 20")]
    issues = _issues(write(tmp_path, "m.txt", _replace_token(TOY_MODEL, 11, 1, "5001")))
    assert [(i.row, i.row_id, i.column) for i in issues] == [(11, "service 1", "n_dependencies")]


def test_a_truncated_model_names_the_missing_field(tmp_path):
    lines = TOY_MODEL.splitlines()
    cut = "\n".join([*lines[:5], "0 0 10 240 8"]) + "\n"  # machine 1 stops after safety_capacity[r0]
    [issue] = _issues(write(tmp_path, "m.txt", cut))
    assert (issue.row, issue.row_id, issue.column) == (6, "machine 1", "safety_capacity[r1]")
    assert "file ends after" in issue.reason
    [issue] = _issues(write(tmp_path, "m.txt", "\n".join(lines[:-1]) + "\n"))  # no move weights
    assert (issue.row, issue.column) == (17, "process_move_weight")
    [issue] = _issues(write(tmp_path, "m.txt", ""))
    assert issue.column == "n_resources"


def test_trailing_integers_are_an_error(tmp_path):
    [issue] = _issues(write(tmp_path, "m.txt", TOY_MODEL + "\n7\n"))
    assert issue.row == 20 and "1 integer(s) left" in issue.reason


def test_missing_file(tmp_path):
    [issue] = _issues(tmp_path / "nope.txt")
    assert issue.reason == "file does not exist"


def test_assignment_errors(tmp_path, toy):
    inst, _ = toy
    [issue] = _issues(write(tmp_path, "a.txt", "0 3\n4\n"), inst)
    assert (issue.row, issue.row_id, issue.column) == (2, "process 2", "machine")
    assert issue.reason == "4 is above the maximum 3 (the model has 4 machines, numbered from 0)"
    [issue] = _issues(write(tmp_path, "a.txt", "0 3\n"), inst)
    assert issue.reason == "2 machine indices for the model's 3 processes"
    [issue] = _issues(write(tmp_path, "a.txt", "0 3 0\n1\n"), inst)
    assert issue.row == 2 and "extra values start at process 3" in issue.reason
    [issue] = _issues(write(tmp_path, "a.txt", "0 x 0\n"), inst)
    assert (issue.row, issue.row_id, issue.reason) == (1, "process 1", "'x' is not a non-negative integer")
    assert read_assignment(write(tmp_path, "a.txt", TOY_INITIAL), inst).tolist() == [0, 3, 0]
