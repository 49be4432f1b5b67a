"""Construction heuristics, insertion and repair: every hard rule holds, nothing that could
be placed is left out, and the packing itself is right on hand-computed instances."""

from __future__ import annotations

import numpy as np
import pytest
from evaluate.builders import tiny_cluster
from evaluate.strategies import build_cluster, specs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster_opt.evaluate import Problem
from cluster_opt.solve.construct import KEYS, RULES, Heuristic, construct, insert, repair

from .conftest import assert_feasible, assert_legal, fitting_hosts

ITEM_ORDER = ("ff", "bf", "wf")  # snapshot order: a size key makes no sense for them
SORTED = tuple(r for r in RULES if r not in ITEM_ORDER)
NAMES = RULES + tuple(f"{r}-{k}" for r in SORTED for k in KEYS)


def pinned_mask(problem: Problem) -> np.ndarray:
    c = problem.cluster
    return ~c.vms.migratable & (c.vms.current >= 0)


# --- every heuristic on generated clusters ---------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_construct_places_everything_legally(gen_problem: Problem, name: str) -> None:
    c = gen_problem.cluster
    x = construct(gen_problem, name)
    assert x.dtype == np.int32 and x.shape == (c.n_vms,)
    assert (x >= 0).all(), f"{(x < 0).sum()} VMs left unplaced on a roomy cluster"
    assert_feasible(gen_problem, x)
    pinned = pinned_mask(gen_problem)
    assert pinned.any() and (x[pinned] == c.vms.current[pinned]).all()
    assert not np.isin(x, np.flatnonzero(~c.usable)).any(), "a VM on a host in maintenance"
    gpu = c.vms.gpu_model >= 0
    assert gpu.sum() >= 10 and (c.hosts.gpu_model[x[gpu]] == c.vms.gpu_model[gpu]).all()
    for g in range(len(c.affinity_groups)):
        assert len(np.unique(x[c.vms.affinity == g])) == 1
    # zone-spread groups (limit 1) really are in different zones
    zone_groups = np.flatnonzero(c.anti_affinity.level == 2)
    assert len(zone_groups)
    for g in zone_groups:
        zones = c.hosts.zone[x[c.vms.anti_affinity == g]]
        assert len(np.unique(zones)) == len(zones)
    np.testing.assert_array_equal(construct(gen_problem, name), x)  # deterministic


@pytest.mark.parametrize("name", NAMES)
def test_construct_on_a_tight_cluster_leaves_out_only_what_fits_nowhere(
    tight_problem: Problem, name: str
) -> None:
    x = construct(tight_problem, name)
    assert_feasible(tight_problem, x)  # unplaced is soft: only it may be non-zero
    unplaced = np.flatnonzero(x < 0)
    assert len(unplaced) > 0, "the tight cluster should not hold every VM"
    fits = {v: h for v, h in fitting_hosts(tight_problem, x, unplaced).items() if len(h)}
    assert not fits, f"unplaced VMs that fit somewhere: {dict(list(fits.items())[:5])}"


@pytest.mark.parametrize("name", ["ff", "ffd-max", "bfd", "wfd-sum", "dpd", "bcs-dp", "bcs-l2"])
def test_construct_leaves_forbidden_hosts_empty(gen_problem: Problem, name: str) -> None:
    c = gen_problem.cluster
    rng = np.random.default_rng(4)
    pinned_hosts = c.vms.current[pinned_mask(gen_problem)]
    free = np.setdiff1d(np.flatnonzero(c.usable & (c.hosts.gpu_model < 0)), pinned_hosts)
    forbidden = np.zeros(c.n_hosts, dtype=bool)
    forbidden[rng.choice(free, 8, replace=False)] = True
    x = construct(gen_problem, name, forbidden=forbidden)
    assert not forbidden[x[x >= 0]].any()
    assert (x >= 0).all()
    assert_feasible(gen_problem, x)


@pytest.mark.parametrize("name", NAMES)
def test_construct_on_the_example_and_a_hand_built_cluster(
    example_problem: Problem, tiny_problem: Problem, name: str
) -> None:
    x = construct(example_problem, name)
    assert (x >= 0).all()
    assert_feasible(example_problem, x)

    x = construct(tiny_problem, name)  # see conftest.tiny_rules_cluster
    assert_feasible(tiny_problem, x)
    assert (x >= 0).all()
    assert len(set(x[[0, 1, 2]].tolist())) == 3, "replicas share a host"
    assert x[3] == x[4], "affinity pair split"
    assert x[5] == 1, "pinned VM moved"
    assert x[6] == 4, "GPU VM not on the model-A host"
    assert not (x == 5).any(), "VM on the host in maintenance"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(max_hosts=6, max_vms=12), name=st.sampled_from(NAMES))
def test_construct_on_random_clusters(spec, name: str) -> None:
    """Random small clusters (failed hosts, zero capacities, GPU models, pinned VMs on
    any host, contradictory-looking groups): what is placed is legal and what is not fits
    nowhere."""
    problem = Problem(build_cluster(spec))
    x = construct(problem, name)
    assert_legal(problem, x)
    fits = {v: h for v, h in fitting_hosts(problem, x, np.flatnonzero(x < 0)).items() if len(h)}
    assert not fits, f"unplaced VMs that fit somewhere: {fits}"


# --- packing quality on hand-computed instances ------------------------------------------------
def two_d(items: list[tuple[int, int]], n_hosts: int = 4) -> Problem:
    """Identical hosts of cpu 10 / mem 10 (host order = index order) and the given VMs."""
    return Problem(
        tiny_cluster([{"cpu": 10, "mem_gb": 10}] * n_hosts, [{"cpu": a, "mem_gb": b} for a, b in items])
    )


def test_ffd_and_bfd_on_a_perfectly_pairing_instance() -> None:
    # Six VMs that pair into three full hosts: A+B, C+D, E+F = (10, 10) each; optimum 3.
    # l2 sizes (demand / 10): B = D = 0.894 > E = F = 0.707 > A = C = 0.632; the sort is
    # stable, so the order is B, D, E, F, A, C.
    # FFD: B -> h0 (free 6,2); D (8,4) no room in h0 -> h1 (free 2,6); E (5,5) fits neither
    # -> h2 (5,5); F -> h2 (0,0); A (6,2) -> h0 (0,0); C (2,6) -> h1 (0,0).
    # BFD makes the same choices: every placement above is the only fit among open hosts.
    p = two_d([(6, 2), (4, 8), (2, 6), (8, 4), (5, 5), (5, 5)])
    expected = [0, 0, 1, 1, 2, 2]
    for name in ("ffd", "bfd", "ffd-max", "bfd-sum"):
        np.testing.assert_array_equal(construct(p, name), expected, err_msg=name)


def test_ffd_finds_the_optimum_where_bfd_does_not() -> None:
    # v0 (6,4), v1 (2,5), v2 (3,3), v3 (7,2), v4 (7,5), v5 (4,1); total cpu 29 -> at least
    # 3 hosts, and 3 suffice: {v0, v5} = (10, 5), {v1, v3} = (9, 7), {v2, v4} = (10, 8).
    # l2 sizes x10: v4 8.60, v3 7.28, v0 7.21, v1 5.39, v2 4.24, v5 4.12 (sorted order).
    # FFD: v4 -> h0 (free 3,5); v3 -> h1 (3,8); v0 -> h2 (4,6); v1 (2,5) -> h0 (1,0);
    #      v2 (3,3) -> h1 (0,5); v5 (4,1) -> h2 (0,5).                     3 hosts, optimal.
    # BFD: the same up to v1, which goes where the squared residual is least: h0 (1,0)
    #      -> 0.01 beats h2 (2,1) -> 0.05 and h1 (1,3) -> 0.10. v2 (3,3): h1 leaves (0,5)
    #      -> 0.25, h2 leaves (1,3) -> 0.10, so h2 (1,3). v5 (4,1) now fits no open host
    #      (h1 has 3 cpu, h2 has 1) -> opens h3.                                  4 hosts.
    p = two_d([(6, 4), (2, 5), (3, 3), (7, 2), (7, 5), (4, 1)])
    np.testing.assert_array_equal(construct(p, "ffd"), [2, 0, 1, 1, 0, 2])
    np.testing.assert_array_equal(construct(p, "bfd"), [2, 0, 2, 1, 0, 3])


def test_item_order_rules_follow_snapshot_order() -> None:
    # Snapshot order 3, 6, 4, 7 (cpu; mem 1 each) on hosts of 10:
    # FF: 3 -> h0 (7 free); 6 -> h0 (1); 4 -> h1 (6); 7 -> h2.
    # WF: 3 -> h0 (7); 6: only h0 is open and it fits -> h0 (1); 4 -> h1; 7: h1 has 6
    #     free -> h2. With FFD the order is 7, 6, 4, 3: 7 -> h0; 6 -> h1; 4 -> h1; 3 -> h0.
    p = two_d([(3, 1), (6, 1), (4, 1), (7, 1)])
    np.testing.assert_array_equal(construct(p, "ff"), [0, 0, 1, 2])
    np.testing.assert_array_equal(construct(p, "wf"), [0, 0, 1, 2])
    np.testing.assert_array_equal(construct(p, "ffd"), [0, 1, 1, 0])


def test_a_vm_too_large_for_every_active_host_stays_unplaced() -> None:
    hosts = [{"cpu": 10, "mem_gb": 10}] * 2 + [{"cpu": 20, "mem_gb": 20, "state": "maintenance"}]
    p = Problem(
        tiny_cluster(hosts, [{"cpu": 5, "mem_gb": 5}, {"cpu": 11, "mem_gb": 1}, {"cpu": 5, "mem_gb": 5}])
    )
    for name in NAMES:
        np.testing.assert_array_equal(construct(p, name), [0, -1, 0], err_msg=name)


# --- insert --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["ff", "bfd", "wfd-max", "dpd", "bcs-dp"])
def test_insert_moves_only_the_listed_vms(gen_problem: Problem, name: str) -> None:
    c = gen_problem.cluster
    rng = np.random.default_rng(11)
    x = construct(gen_problem, "ffd")
    before = x.copy()
    vms = rng.choice(c.n_vms, 40, replace=False)
    forbidden = np.zeros(c.n_hosts, dtype=bool)
    forbidden[np.unique(x[vms])[:3]] = True  # the old hosts of some of them
    y = insert(gen_problem, x, vms, heuristic=name, forbidden=forbidden)
    np.testing.assert_array_equal(x, before)  # input untouched
    others = np.setdiff1d(np.arange(c.n_vms), vms)
    np.testing.assert_array_equal(y[others], x[others])
    moved_pinned = vms[pinned_mask(gen_problem)[vms]]
    assert not forbidden[y[np.setdiff1d(vms, moved_pinned)]].any()
    assert (y[np.setdiff1d(vms, moved_pinned)] >= 0).all()
    assert_legal(gen_problem, y)


def test_insert_defaults_to_the_unplaced_vms(gen_problem: Problem) -> None:
    c = gen_problem.cluster
    x = construct(gen_problem, "bfd")
    x[::7] = -1
    y = insert(gen_problem, x)
    placed = x >= 0
    np.testing.assert_array_equal(y[placed], x[placed])
    assert (y >= 0).all()
    assert_feasible(gen_problem, y)
    # on the current placement: pending VMs placed, nothing else moves (even VMs on hosts
    # in maintenance: insert does not repair)
    cur = c.current_assignment()
    y = insert(gen_problem, cur)
    np.testing.assert_array_equal(y[cur >= 0], cur[cur >= 0])
    assert (y >= 0).all()


def test_insert_puts_an_affinity_member_next_to_its_partner(tiny_problem: Problem) -> None:
    x = construct(tiny_problem, "ffd")
    y = insert(tiny_problem, x, [4], heuristic="ff")
    assert y[4] == x[3]
    # the pinned VM goes back to its host whatever the heuristic
    y = insert(tiny_problem, x, [5], heuristic="wf")
    assert y[5] == 1


# --- repair -------------------------------------------------------------------------------------
def test_repair_keeps_a_feasible_assignment(gen_problem: Problem) -> None:
    for name in ("ffd", "bcs-l2"):
        x = construct(gen_problem, name)
        np.testing.assert_array_equal(repair(gen_problem, x), x)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_repair_of_randomly_broken_assignments(gen_problem: Problem, seed: int) -> None:
    c = gen_problem.cluster
    rng = np.random.default_rng(seed)
    x = construct(gen_problem, ["ffd", "bfd", "dpd", "bcs-dp"][seed])
    broken = rng.choice(c.n_vms, c.n_vms // 20, replace=False)
    x[broken] = rng.integers(-1, c.n_hosts, len(broken))  # any host, maintenance included
    pinned = np.flatnonzero(pinned_mask(gen_problem))
    x[pinned[:2]] = (c.vms.current[pinned[:2]] + 1) % c.n_hosts  # and move pinned VMs
    y = repair(gen_problem, x)
    assert (y >= 0).all()
    assert_feasible(gen_problem, y)
    kept = np.setdiff1d(np.arange(c.n_vms), np.concatenate([broken, pinned[:2]]))
    stayed = np.mean(y[kept] == x[kept])
    assert stayed >= 0.95, f"only {stayed:.1%} of the untouched VMs kept their host"


def test_repair_of_the_current_placement(gen_problem: Problem, tight_problem: Problem) -> None:
    # gen: VMs on three hosts in maintenance, pending VMs (GPU ones too)
    cur = gen_problem.cluster.current_assignment()
    y = repair(gen_problem, cur)
    assert (y >= 0).all()
    assert_feasible(gen_problem, y)
    ok = (cur >= 0) & gen_problem.cluster.usable[np.maximum(cur, 0)]
    assert np.mean(y[ok] == cur[ok]) >= 0.95
    # tight: two thirds of the hosts drained; what is left out fits nowhere
    y = repair(tight_problem, tight_problem.cluster.current_assignment())
    assert_feasible(tight_problem, y)
    fits = {v: h for v, h in fitting_hosts(tight_problem, y, np.flatnonzero(y < 0)).items() if len(h)}
    assert not fits


# --- heuristic names -----------------------------------------------------------------------------
def test_heuristic_parse() -> None:
    assert Heuristic.parse("ff") == Heuristic("first", None)
    assert Heuristic.parse(" FFD ") == Heuristic("first", "l2")
    assert Heuristic.parse("bfd-max") == Heuristic("best", "max")
    assert Heuristic.parse("wfd-sum") == Heuristic("worst", "sum")
    assert Heuristic.parse("dpd") == Heuristic("dot", "l2")
    assert Heuristic.parse("bcs-dp") == Heuristic("dot", "l2", bin_centric=True)
    assert Heuristic.parse("bcs-l2") == Heuristic("best", "l2", bin_centric=True)
    assert Heuristic.parse("bcs-l2-max") == Heuristic("best", "max", bin_centric=True)
    for name in NAMES:
        Heuristic.parse(name)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nope", "unknown heuristic"),
        ("", "unknown heuristic"),
        ("ffd-l3", "unknown heuristic"),
        ("bcs", "unknown heuristic"),
        ("ffd-sum-l2", "unknown heuristic"),  # one key at most
        ("ff-l2", "only applies to decreasing"),
        ("wf-max", "only applies to decreasing"),
    ],
)
def test_heuristic_parse_errors(name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as err:
        Heuristic.parse(name)
    if message == "unknown heuristic":
        assert "ffd" in str(err.value) and "bcs-l2" in str(err.value)  # lists the valid names


def test_construct_rejects_an_unknown_heuristic(tiny_problem: Problem) -> None:
    with pytest.raises(ValueError, match="unknown heuristic"):
        construct(tiny_problem, "best-ever")


def test_pinned_affinity_mates_on_different_hosts_stay_unplaced() -> None:
    # The loader accepts this contradictory snapshot: no host can take the pair without
    # moving a pinned VM, so construction leaves both out rather than moving one.
    pair = {"migratable": False, "affinity_group": "a"}
    c = tiny_cluster([{}, {}, {}], [{"host": 0, **pair}, {"host": 1, **pair}, {"cpu": 2}])
    for name in NAMES:
        x = construct(Problem(c), name)
        np.testing.assert_array_equal(x[:2], [-1, -1], err_msg=name)
        assert x[2] >= 0
