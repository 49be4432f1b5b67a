"""The int64 delta evaluator against the exact checker: every move of the toy instances
exhaustively, and random walks of shifts and swaps on set-A instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cluster_opt.roadef.checker import check
from cluster_opt.roadef.delta import CAPACITY, NO_CHANGE, OK, SPREAD_OR_DEPENDENCY, RoadefDelta


def after(x: np.ndarray, p: int, q: int | None = None, m: int | None = None) -> np.ndarray:
    """x with p moved to m (a shift) or p and q exchanging machines (a swap)."""
    y = x.copy()
    if q is None:
        y[p] = m
    else:
        y[p], y[q] = x[q], x[p]
    return y


def members(d: RoadefDelta) -> list[list[int]]:
    """The processes of every machine, read from the linked lists (checking prev links)."""
    out = []
    for m in range(d.instance.n_machines):
        seen, p, prev = [], d.links[2, m], -1
        while p >= 0:
            assert d.links[1, p] == prev and d.x[p] == m
            seen.append(int(p))
            prev, p = p, d.links[0, p]
        out.append(sorted(seen))
    return out


def assert_same_state(a: RoadefDelta, b: RoadefDelta) -> None:
    assert members(a) == members(b)
    for name in ("x", "use", "mcost", "on_machine", "at_loc", "at_nbh", "svc", "hist", "acc"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def every_move(inst, x0, x) -> None:
    """From the valid assignment x: every shift and swap, applied when feasible, agrees with
    the checker (verdict, total, components); a refused move changes nothing."""
    n_proc, n_mach = inst.n_processes, inst.n_machines
    moves = [(p, None, m) for p in range(n_proc) for m in range(n_mach)]
    moves += [(p, q, None) for p, q in itertools.combinations(range(n_proc), 2)]
    for p, q, m in moves:
        d = RoadefDelta.of(inst, x0, x)
        before = d.total()
        status, delta = d.shift(p, m) if q is None else d.swap(p, q)
        y = after(x, p, q, m)
        if status == NO_CHANGE:
            assert (y == x).all() and d.total() == before
            continue
        result = check(inst, x0, y)
        assert result.valid == (status == OK), (x, y, status, result.reason)
        if status == OK:
            assert d.total() == before + delta == result.total
            assert d.costs() == result.costs
            assert_same_state(d, RoadefDelta.of(inst, x0, y))
        else:
            assert (d.x == x).all() and d.total() == before
            assert_same_state(d, RoadefDelta.of(inst, x0, x))


def test_toy_every_move_from_every_valid_assignment(toy):
    inst, x0 = toy
    valid = [
        np.array(x)
        for x in itertools.product(range(inst.n_machines), repeat=inst.n_processes)
        if check(inst, x0, np.array(x)).valid
    ]
    assert len(valid) == 7  # FORMAT.md section 8.1
    for x in valid:
        every_move(inst, x0, x)


def test_transient_every_move(transient):
    inst, x0 = transient
    every_move(inst, x0, x0)
    d = RoadefDelta.of(inst, x0)
    assert d.total() == 0
    status, delta = d.shift(1, 2)  # FORMAT.md: "0 2" is valid with total 117
    assert status == OK and delta == d.total() == 117
    assert d.shift(0, 1)[0] == CAPACITY  # "1 2": 8 on m1 + 6 still reserved by p1 > 10


def test_toy_known_totals(toy):
    inst, x0 = toy
    d = RoadefDelta.of(inst, x0)
    assert d.total() == 4200
    assert d.shift(1, 2) == (OK, 3510 - 4200)
    assert d.shift(2, 1) == (OK, 2411 - 3510)
    assert d.costs() == {
        "load": 400,
        "balance": 1600,
        "process_move": 101,
        "service_move": 10,
        "machine_move": 300,
    }
    assert d.shift(2, 0)[0] == OK and d.shift(1, 3)[0] == OK  # back home: no move costs left
    assert d.total() == 4200 and d.costs()["machine_move"] == 0


def random_walk(inst, x0, steps: int, seed: int) -> tuple[int, int]:
    """Random shifts and swaps; the running cost must equal the checker's after every applied
    move, and every 10th refused move must be one the checker refuses. Returns (applied,
    refused checked)."""
    rng = np.random.default_rng(seed)
    d = RoadefDelta.of(inst, x0)
    applied = refused = 0
    for i in range(steps):
        p = int(rng.integers(inst.n_processes))
        x = d.x.copy()
        if rng.random() < 0.5:
            m = int(rng.integers(inst.n_machines))
            status, _ = d.shift(p, m)
            y = after(x, p, m=m)
        else:
            q = int(rng.integers(inst.n_processes))
            status, _ = d.swap(p, q)
            y = after(x, p, q)
        if status == OK:
            applied += 1
            result = check(inst, x0, d.x)
            assert result.valid and d.total() == result.total, (i, result.reason)
        elif status != NO_CHANGE:
            assert (d.x == x).all()
            if i % 10 == 0:
                refused += 1
                assert not check(inst, x0, y).valid
    assert d.costs() == check(inst, x0, d.x).costs
    assert_same_state(d, RoadefDelta.of(inst, x0, d.x.copy()))
    return applied, refused


@pytest.mark.parametrize("name", ["a1_1", "a2_3"])  # a2_3: 4 transient resources, 577 dependencies
def test_random_walk_matches_the_checker(a_set, name):
    inst, x0 = a_set[name]
    applied, refused = random_walk(inst, x0, 3000, seed=7)
    assert applied > 100 and refused > 10


def test_spread_and_dependency_refusals_on_a1_3(a_set):
    """a1_3 has spread minimums and 342 dependencies: some moves are refused only by them."""
    inst, x0 = a_set["a1_3"]
    rng = np.random.default_rng(1)
    d = RoadefDelta.of(inst, x0)
    seen = 0
    for _ in range(20000):
        p, m = int(rng.integers(inst.n_processes)), int(rng.integers(inst.n_machines))
        status, _ = d.shift(p, m)
        if status == SPREAD_OR_DEPENDENCY:
            seen += 1
            y = after(d.x, p, m=m)
            result = check(inst, x0, y)
            assert not result.valid and result.reason.startswith(("spread", "dependency"))
    assert seen > 0


def test_reset_and_move_back_restore_the_initial_costs(a_set):
    inst, x0 = a_set["a1_2"]
    d = RoadefDelta.of(inst, x0)
    start = d.total()
    assert start == check(inst, x0).total
    rng = np.random.default_rng(3)
    while (d.x != x0).sum() < 20:
        d.shift(int(rng.integers(inst.n_processes)), int(rng.integers(inst.n_machines)))
    d.reset(x0)
    assert d.total() == start and d.costs()["process_move"] == 0
    assert_same_state(d, RoadefDelta.of(inst, x0))
