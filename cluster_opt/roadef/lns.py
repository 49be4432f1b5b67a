"""Large-neighbourhood search for ROADEF/EURO 2012: re-place every process of a few machines
exactly with CP-SAT.

A neighbourhood is a set ``K`` of machines (2-8); its free processes are those on ``K``
now, and the sub-model places each of them on one machine of ``K`` (everything else stays)
under the full rules of FORMAT.md restricted to ``K``:

* capacity with the transient rule: a free process whose original machine is ``m`` in ``K``
  counts on ``m`` wherever it goes (there, or reserved), plus the reservations of processes
  of ``m`` that already sit outside ``K``;
* conflict: at most one free process of a service per machine;
* spread: for each service with free processes, the locations it keeps outside the
  neighbourhood plus the locations of ``K`` it still uses (a boolean per location) reach
  its minimum;
* dependency, per neighbourhood ``n`` of ``K``: a service present in ``n`` after the move
  has each of its dependencies there (counts of the fixed processes plus the placed ones);
* objective: the weighted load and balance cost of the machines of ``K``, the process- and
  machine-move costs of the free processes and W_SMC times the service-move maximum (a
  variable above every service's moved count and the largest count of the others).

The model's objective equals the change of the official total up to a constant, so an
improvement found by CP-SAT is one of the official cost; the caller still re-checks the
result with the exact checker before keeping it. Building a model is
O(F |K| (R + B) + deps), F the free processes; CP-SAT runs with one worker, hinted with the
current placement, under a per-neighbourhood time limit.
"""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from cluster_opt.roadef.delta import BALANCE, LOAD, RoadefDelta


def _service_max_elsewhere(d: RoadefDelta, services: np.ndarray) -> int:
    """The largest moved count among services not in ``services``. O(S)."""
    moved = d.svc[:, 1].copy()
    moved[services] = 0
    return int(moved.max()) if len(moved) else 0


def build_model(d: RoadefDelta, machines: np.ndarray) -> tuple[cp_model.CpModel, np.ndarray, dict]:
    """The sub-model of machines ``machines`` (int[k], distinct) at state ``d``.

    A free process gets a variable only for the machines of ``machines`` where it fits
    alone (capacity with the transient space its machine's original processes always take)
    and for the one it is on now (~20 % more neighbourhoods per second on a2_5).
    Returns (model, free processes int64[F], variables) where ``variables[(i, j)]`` is the
    boolean "free process i goes to machines[j]" (absent when not allowed) and the model is
    hinted with the current placement. O(F k (R + B) + dependencies of the free services)."""
    inst = d.instance
    machines = np.asarray(machines, dtype=np.int64)
    k = len(machines)
    n_res = d.trans.shape[0]
    x = d.x
    free = np.flatnonzero(np.isin(x, machines))
    req = d.req[free]
    orig = d.proc[free, 1]
    svc = d.proc[free, 0]
    now = x[free]
    cap = d.mach[machines, :n_res]
    safety = d.mach[machines, n_res:]
    trans = d.trans.astype(bool)
    # per machine of K, transient space taken whatever the free processes do: reservations of
    # processes outside K and the free processes originally there (here or reserved)
    taken = np.empty((k, n_res), dtype=np.int64)
    for j, m in enumerate(machines.tolist()):
        kept = d.use[m, n_res:] - req[(orig == m) & (now != m)].sum(axis=0)
        taken[j] = kept + req[orig == m].sum(axis=0)
    where = {m: j for j, m in enumerate(machines.tolist())}
    orig_j = np.array([where.get(int(o), -1) for o in orig], dtype=np.int64)
    room = np.where(trans, cap - taken, cap)  # [k, R]
    at_home = (orig_j[:, None] == np.arange(k)[None, :])[:, :, None] & trans  # [F, k, R]: counted in taken
    need = np.where(at_home, 0, req[:, None, :])
    allowed = np.all(need <= room[None], axis=2)
    allowed |= now[:, None] == machines[None, :]
    model = cp_model.CpModel()
    var = {}
    cost: list = []
    for i, j in zip(*np.nonzero(allowed), strict=True):
        v = model.new_bool_var(f"x{i}_{j}")
        var[int(i), int(j)] = v
        model.add_hint(v, bool(now[i] == machines[j]))
    for i in range(len(free)):
        model.add_exactly_one(var[i, j] for j in np.flatnonzero(allowed[i]).tolist())
    # conflict
    for s in np.unique(svc):
        members = np.flatnonzero(svc == s)
        if len(members) > 1:
            for j in range(k):
                lits = [var[i, j] for i in members if allowed[i, j]]
                if len(lits) > 1:
                    model.add_at_most_one(lits)
    # capacity, load, balance
    wsum = cp_model.LinearExpr.weighted_sum
    for j in range(k):
        rows = np.flatnonzero(allowed[:, j])
        col = [var[i, j] for i in rows.tolist()]
        usage = [wsum(col, req[rows, r].tolist()) for r in range(n_res)]
        for r in range(n_res):
            if trans[r]:
                coef = np.where(orig_j[rows] != j, req[rows, r], 0)
                model.add(wsum(col, coef.tolist()) <= int(cap[j, r] - taken[j, r]))
            else:
                model.add(usage[r] <= int(cap[j, r]))
            if d.load_w[r]:
                over = model.new_int_var(0, int(req[rows, r].sum()), f"o{j}_{r}")
                model.add(over >= usage[r] - int(safety[j, r]))
                cost.append((over, int(d.load_w[r])))
        for r1, r2, target, weight in d.bal.tolist():
            if weight:
                ex = model.new_int_var(0, max(int(target * cap[j, r1]), 0), f"b{j}_{r1}_{r2}")
                model.add(ex >= target * (int(cap[j, r1]) - usage[r1]) - (int(cap[j, r2]) - usage[r2]))
                cost.append((ex, int(weight)))
    # process and machine move costs; moved counts for the service-move maximum
    w_smc, w_mmc = int(d.weights[0]), int(d.weights[1])
    services = np.unique(svc)
    smax = model.new_int_var(0, inst.n_processes, "smax")
    model.add(smax >= _service_max_elsewhere(d, services))
    cost.append((smax, w_smc))
    home = [orig_j[i] >= 0 and allowed[i, orig_j[i]] for i in range(len(free))]
    for s in services.tolist():
        members = np.flatnonzero(svc == s)
        moved_now = int(np.sum(now[members] != orig[members]))
        stay = [var[i, orig_j[i]] for i in members if home[i]]
        # moved' = (svc moved - moved_now) + |members| - sum(stay)
        model.add(smax >= int(d.svc[s, 1]) - moved_now + len(members) - sum(stay))
    for i in range(len(free)):
        if home[i] and d.proc[free[i], 2]:
            cost.append((var[i, orig_j[i]], -int(d.proc[free[i], 2])))
        if w_mmc:
            mm = d.mmc[orig[i], machines].astype(np.int64)
            cost.extend((var[i, j], w_mmc * int(mm[j])) for j in np.flatnonzero(allowed[i]).tolist() if mm[j])
    _geography(d, model, var, free, svc, machines)
    model.minimize(wsum([v for v, _ in cost], [c for _, c in cost]))
    return model, free, var


def _geography(d: RoadefDelta, model: cp_model.CpModel, var: dict, free, svc, machines) -> None:
    """Spread and dependency constraints of the sub-model (see the module docstring).
    O(F k + (free services + their dependants) x deps x neighbourhoods of K)."""
    k = len(machines)
    loc, nbh = d.geo[machines, 0].tolist(), d.geo[machines, 1].tolist()
    now = d.geo[d.x[free]]
    members: dict[int, list[int]] = {}
    for i, s in enumerate(svc.tolist()):
        members.setdefault(s, []).append(i)
    at_l: dict[tuple[int, int], list] = {}  # (s, location of K) -> placement literals
    at_n: dict[tuple[int, int], list] = {}  # (s, neighbourhood of K) -> placement literals
    here_l: dict[tuple[int, int], int] = {}  # (s, location) -> free processes of s there now
    here_n: dict[tuple[int, int], int] = {}
    for s, idx in members.items():
        for i in idx:
            here_l[s, int(now[i, 0])] = here_l.get((s, int(now[i, 0])), 0) + 1
            here_n[s, int(now[i, 1])] = here_n.get((s, int(now[i, 1])), 0) + 1
            for j in range(k):
                if (i, j) in var:
                    at_l.setdefault((s, loc[j]), []).append(var[i, j])
                    at_n.setdefault((s, nbh[j]), []).append(var[i, j])
    locs, nbhs = sorted(set(loc)), sorted(set(nbh))
    for s in members:
        if d.spread_min[s] <= 0:
            continue
        outside = int(np.sum(d.at_loc[s] > 0)) - int(np.sum(d.at_loc[s, locs] > 0))
        distinct, used = 0, []
        for lo in locs:
            if int(d.at_loc[s, lo]) - here_l.get((s, lo), 0) > 0:
                distinct += 1
            elif (s, lo) in at_l:
                y = model.new_bool_var("")
                model.add_bool_or(at_l[s, lo]).only_enforce_if(y)
                used.append(y)
        need = int(d.spread_min[s]) - outside - distinct
        if need > 0:
            model.add(sum(used) >= need)
    touched = set(members)
    for t in members:
        touched.update(d.rdep[d.rdep_ptr[t] : d.rdep_ptr[t + 1]].tolist())
    for s in touched:
        deps = d.dep[d.dep_ptr[s] : d.dep_ptr[s + 1]].tolist()
        for n in nbhs:
            fixed_s = int(d.at_nbh[s, n]) - here_n.get((s, n), 0)
            lits_s = at_n.get((s, n), [])
            if fixed_s == 0 and not lits_s:
                continue
            for t in deps:
                if int(d.at_nbh[t, n]) - here_n.get((t, n), 0) > 0:
                    continue
                lits_t = at_n.get((t, n), [])
                if fixed_s > 0:
                    model.add_bool_or(lits_t)  # empty only if already infeasible
                else:
                    for v in lits_s:
                        model.add_bool_or(lits_t).only_enforce_if(v)


def pick_machines(d: RoadefDelta, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` distinct machines, by one of two rules drawn at random:

    * *cost*: half with probability proportional to their load and balance cost, the rest
      proportional to the room left under the safety capacity in a resource drawn by its
      load cost (uniformly when no machine is over its safety capacity);
    * *moves* (when processes have moved), with probability the share of the move costs in
      the total, clipped to [0.1, 0.9]: the current and original machines of random moved
      processes, so that the sub-model can bring processes home.

    O(M R + P)."""
    n_mach = d.mach.shape[0]
    k = min(k, n_mach)
    moved = np.flatnonzero(d.x != d.proc[:, 1])
    share = 1.0 - float(d.acc[LOAD] + d.acc[BALANCE]) / max(d.total(), 1)
    if len(moved) and rng.random() < min(max(share, 0.1), 0.9):
        chosen: list[int] = []
        for p in rng.permutation(moved)[: 2 * k].tolist():
            for m in (int(d.x[p]), int(d.proc[p, 1])):
                if m not in chosen and len(chosen) < k:
                    chosen.append(m)
        if len(chosen) < k:
            rest = np.setdiff1d(np.arange(n_mach), chosen)
            chosen.extend(rng.choice(rest, k - len(chosen), replace=False).tolist())
        return np.array(chosen, dtype=np.int64)
    n_res = d.trans.shape[0]
    cost = d.mcost.sum(axis=1).astype(np.float64)
    half = max(k // 2, 1)
    if np.count_nonzero(cost) >= half:
        first = rng.choice(n_mach, half, replace=False, p=cost / cost.sum())
    else:
        first = rng.choice(n_mach, half, replace=False)
    weight = np.ones(n_mach)
    over = np.maximum(d.use[:, :n_res] - d.mach[:, n_res:], 0) * d.load_w
    if over.sum() > 0:
        r = rng.choice(n_res, p=over.sum(axis=0) / over.sum())
        weight = np.maximum(d.mach[:, n_res + r] - d.use[:, r], 0) + 1.0
    weight[first] = 0
    rest = rng.choice(n_mach, k - half, replace=False, p=weight / weight.sum())
    return np.concatenate([first, rest]).astype(np.int64)


def reoptimise(
    d: RoadefDelta, machines: np.ndarray, seconds: float, seed: int, wall: float = float("inf")
) -> tuple[np.ndarray | None, bool]:
    """Solve the sub-model of ``machines`` at state ``d`` for at most ``seconds`` of CP-SAT
    deterministic time (one worker, so reproducible from ``seed``) and ``wall`` seconds of
    wall time (a deadline; inf = none). Returns (the new
    assignment when CP-SAT found one strictly better than the current placement, else None;
    whether the neighbourhood was solved to optimality). The state is not changed."""
    model, free, var = build_model(d, machines)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = int(seed) % (2**31)
    solver.parameters.max_deterministic_time = float(seconds)
    if np.isfinite(wall):
        solver.parameters.max_time_in_seconds = max(float(wall), 0.001)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False
    k = len(machines)
    place = np.zeros((len(free), k), dtype=bool)
    for (i, j), v in var.items():
        place[i, j] = solver.boolean_value(v)
    x = d.x.copy()
    x[free] = np.asarray(machines)[place.argmax(axis=1)] if len(free) else x[free]
    optimal = status == cp_model.OPTIMAL
    return (x if not np.array_equal(x, d.x) else None), optimal
