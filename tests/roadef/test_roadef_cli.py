"""``cluster-opt roadef-check`` and writing solutions in the official format."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cluster_opt.cli.main import main
from cluster_opt.roadef.parse import read_assignment
from cluster_opt.roadef.write import format_solution, write_solution

from .conftest import TOY_INITIAL, TOY_MODEL, write


@pytest.fixture
def toy_files(tmp_path):
    return write(tmp_path, "model_toy.txt", TOY_MODEL), write(tmp_path, "assignment_toy.txt", TOY_INITIAL)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_initial_cost_table(capsys, toy_files):
    code, out, _ = run(capsys, "roadef-check", *toy_files)
    assert code == 0
    for text in ("load", "1,700", "balance", "2,500", "total", "4,200", "lower bound 1,300", "valid"):
        assert text in out


def test_solution_json_with_the_evaluator(capsys, toy_files, tmp_path):
    solution = write(tmp_path, "new.txt", "0 2 1\n")
    code, out, _ = run(capsys, "roadef-check", *toy_files, solution, "--terms", "--json")
    assert code == 0
    obj = json.loads(out)
    assert obj["valid"] is True and obj["total"] == 2411 and obj["lower_bound"] == 1300
    expected = {"load": 400, "balance": 1600, "process_move": 101, "service_move": 10, "machine_move": 300}
    assert obj["costs"] == expected
    assert obj["evaluator"] == {"costs": expected, "valid": True}


def test_invalid_solution_exits_1_with_the_reason(capsys, toy_files, tmp_path):
    code, out, _ = run(capsys, "roadef-check", *toy_files, write(tmp_path, "s.txt", "2 3 0"), "--terms")
    assert code == 1
    assert "INVALID" in out and "dependency: process 2 of service 1" in out
    assert "evaluator terms agree" in out


def test_malformed_solution_names_file_and_line(capsys, toy_files, tmp_path):
    bad = write(tmp_path, "s.txt", "0 2\n9\n")
    code, _, err = run(capsys, "roadef-check", *toy_files, bad)
    assert code == 1
    assert "1 problem(s) found" in err and "nothing was written" in err
    assert "s.txt" in err and "│ 2 " in err and "process 2" in err and "machine" in err
    assert "9 is above the maximum 3 (the model has 4 machines" in err


def test_a_instance_from_the_reference_data(capsys, roadef_dir, best_known):
    code, out, _ = run(
        capsys, "roadef-check", roadef_dir / "model_a2_4.txt", roadef_dir / "assignment_a2_4.txt", "--json"
    )
    assert code == 0
    obj = json.loads(out)
    assert obj["total"] == int(best_known["a2_4"]["initial_cost"]) == 3223516130


def test_write_solution_round_trip(toy, tmp_path):
    inst, _ = toy
    path = tmp_path / "out" / "solution.txt"
    write_solution(path, inst, np.array([0, 2, 1], dtype=np.int64))
    assert path.read_text() == "0 2 1\n"
    assert read_assignment(path, inst).tolist() == [0, 2, 1]
    assert [p.name for p in path.parent.iterdir()] == ["solution.txt"]  # no temporary left


def test_write_solution_refuses_a_bad_assignment(toy, tmp_path):
    inst, _ = toy
    with pytest.raises(ValueError, match="outside"):
        write_solution(tmp_path / "s.txt", inst, np.array([0, 2, -1]))
    with pytest.raises(ValueError, match="shape"):
        format_solution(inst, np.array([0, 2]))
    assert not (tmp_path / "s.txt").exists()
