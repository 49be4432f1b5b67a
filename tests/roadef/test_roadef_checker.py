"""The exact checker: FORMAT.md's worked examples, every assignment of the toy instance, and
the official initial costs of set A, to the unit."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cluster_opt.roadef.checker import COMPONENTS, check

from .conftest import A_INSTANCES, TRANSIENT_INITIAL, TRANSIENT_MODEL, load


def costs(*values: int) -> dict[str, int]:
    return dict(zip(COMPONENTS, values, strict=True))


@pytest.mark.parametrize(
    ("solution", "expected"),
    [
        # FORMAT.md 8.1; load: r0 above safety by 18-16 on m0 and 10-8 on m3, x 100; r1 by
        # 210-80 on m0, x 10: 400 + 1300
        ((0, 3, 0), costs(1700, 2500, 0, 0, 0)),
        ((0, 2, 0), costs(1500, 1700, 100, 10, 200)),
        ((0, 2, 1), costs(400, 1600, 101, 10, 300)),
        # worked here: p0 m0->m2, p1 m3->m0, p2 m0->m1.
        # load: only m1 is above safety: r1 200 - 160 = 40, x 10 = 400
        # balance: 20 A(r0) - A(r1) per machine: m0 20x20-380=20, m1 20x4-40=40, m2 20x3-90<0,
        #   m3 20x10-100=100; (20+40+100) x 10 = 1600
        # process move 1000+100+1; service move: 2 moved in service 0 (a max, not 2+1) x 10;
        # machine move (MMC[0,2] + MMC[3,0] + MMC[0,1]) x 100 = (4+5+1) x 100
        ((2, 0, 1), costs(400, 1600, 1101, 20, 1000)),
    ],
)
def test_toy_components(toy, solution, expected):
    inst, x0 = toy
    result = check(inst, x0, np.array(solution))
    assert result.valid and result.reason is None
    assert result.costs == expected
    assert result.total == sum(expected.values())
    assert result.violations == dict.fromkeys(("capacity", "conflict", "spread", "dependency"), 0)


#: FORMAT.md 8.1: the only valid assignments of the toy instance, with their totals.
TOY_VALID = {
    (0, 3, 0): 4200,
    (0, 2, 0): 3510,
    (0, 2, 1): 2411,
    (0, 3, 1): 3111,
    (2, 0, 0): 5420,
    (2, 0, 1): 4121,
    (2, 1, 0): 7120,
}
#: ... and the first failing rule of some invalid ones.
TOY_INVALID = {(0, 0, 0): "conflict", (0, 1, 0): "spread", (2, 3, 0): "dependency", (0, 3, 2): "capacity"}


def test_every_toy_assignment(toy):
    inst, x0 = toy
    valid = {}
    for sol in itertools.product(range(4), repeat=3):
        result = check(inst, x0, np.array(sol))
        assert result.valid == (result.reason is None) == (not any(result.violations.values()))
        if result.valid:
            valid[sol] = result.total
        elif sol in TOY_INVALID:
            assert result.reason.startswith(TOY_INVALID[sol] + ":"), result.reason
    assert valid == TOY_VALID
    assert check(inst, x0, np.array([1, 3, 0])).reason.startswith("capacity: machine 1 resource 0")


def test_initial_cost_is_the_default(toy):
    inst, x0 = toy
    assert check(inst, x0).costs == check(inst, x0, x0).costs == costs(1700, 2500, 0, 0, 0)


def test_transient_rule(tmp_path, transient):
    inst, x0 = transient
    ok = check(inst, x0, np.array([0, 2]))
    assert ok.valid and ok.total == 117 and ok.costs == costs(0, 0, 7, 10, 100)
    # p0 moves onto m1 while p1 leaves it: 8 + 6 (kept by p1) > 10 of the transient r1; in the
    # swap, m0 is overfull the same way (6 + 8 kept by p0)
    for sol, machines in (([1, 2], 1), ([1, 0], 2)):
        result = check(inst, x0, np.array(sol))
        assert not result.valid and result.violations["capacity"] == machines
        assert "kept by transient processes moved away" in result.reason
    # the same moves are fine once r1 is not transient
    plain, _ = load(tmp_path, TRANSIENT_MODEL.replace("\n1 1\n", "\n0 1\n", 1), TRANSIENT_INITIAL)
    assert not plain.transient.any()
    assert check(plain, x0, np.array([1, 2])).valid and check(plain, x0, np.array([1, 0])).valid
    over = check(plain, x0, np.array([2, 0]))  # 8 > 7 on m2 whatever the flags
    assert not over.valid and over.reason == "capacity: machine 2 resource 1: usage 8 > capacity 7"


def test_violations_are_counted(toy):
    inst, x0 = toy
    result = check(inst, x0, np.array([1, 1, 1]))  # everything on m1
    assert result.violations == {"capacity": 1, "conflict": 1, "spread": 1, "dependency": 0}
    result = check(inst, x0, np.array([2, 3, 0]))
    assert result.violations == {"capacity": 0, "conflict": 0, "spread": 0, "dependency": 1}
    assert result.reason == (
        "dependency: process 2 of service 1 on machine 0 (neighborhood 0) "
        "has no process of service 0 in its neighborhood"
    )


def test_rejects_malformed_assignments(toy):
    inst, x0 = toy
    with pytest.raises(ValueError, match="shape"):
        check(inst, x0, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"process 2 on machine 4, outside \[0, 4\)"):
        check(inst, x0, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="integers"):
        check(inst, x0, np.array([0.0, 1.0, 2.0]))


#: FORMAT.md section 10: (load, balance) of the initial assignments that have a balance cost.
A_BREAKDOWN = {
    "a1_1": (36234090, 13294660),
    "a1_4": (390112070, 242387530),
    "a1_5": (656913110, 125276580),
    "a2_4": (2993842640, 229673490),
}


@pytest.mark.parametrize("name", A_INSTANCES)
def test_initial_cost_of_every_a_instance(name, a_set, best_known):
    inst, x0 = a_set[name]
    result = check(inst, x0)
    assert result.valid
    assert result.total == int(best_known[name]["initial_cost"])
    load_, balance = A_BREAKDOWN.get(name, (result.total, 0))
    assert result.costs == costs(load_, balance, 0, 0, 0)
    assert inst.load_lower_bound() + inst.balance_lower_bound() <= int(best_known[name]["best_known_cost"])
