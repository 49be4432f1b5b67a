"""ROADEF/EURO 2012 set A for the peers benchmark: the instance as our Problem, the exact
checker's verdict of any assignment, and CP-SAT alone on the standard full model.

The CP-SAT model is the usual one of the literature (one boolean per process x machine,
P x M <= 100,000 on set A), written with our array model writer; CP-SAT runs with its own
search, no hint (not even the original assignment):

* each process on exactly one machine;
* capacity with transient resources: sum_p Req(p, r) x[p, m] plus, for transient r, the
  processes whose original machine is m and that move away, <= C(m, r);
* conflict: at most one process of a service per machine;
* spread: a boolean per (service, location) used, at most the processes of the service
  there, at least spreadMin(s) of them true;
* dependency (s depends on s'): a boolean per (s', neighbourhood) that is at most the
  processes of s' there, and at least each process of s in that neighbourhood;
* objective (integers, exact): load cost WL(r) max(0, U(m, r) - SC(m, r)), balance cost
  WB max(0, target A(m, r1) - A(m, r2)), process move cost, service move cost (the most
  processes moved from one service) and machine move cost, with the instance's weights.

Build O(P M R + S M + D N P_s); the model's optimum is the official optimum.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from cluster_opt.evaluate import Problem
from cluster_opt.roadef.adapter import roadef_problem
from cluster_opt.roadef.checker import check
from cluster_opt.roadef.instance import Instance
from cluster_opt.roadef.parse import read_assignment, read_model
from cluster_opt.solve.base import Deadline
from cluster_opt.solve.cpsat.proto import ModelWriter
from cluster_opt.solve.cpsat.search import run_cpsat

A_INSTANCES = ("a1_1", "a1_2", "a1_3", "a1_4", "a1_5", "a2_1", "a2_2", "a2_3", "a2_4", "a2_5")


def load(folder: Path, name: str) -> tuple[Instance, np.ndarray, Problem]:
    """(instance, original assignment int64[P], our Problem) of one instance."""
    inst = read_model(folder / f"model_{name}.txt")
    x0 = read_assignment(folder / f"assignment_{name}.txt", inst)
    return inst, x0, roadef_problem(inst, x0)


def checked(inst: Instance, x0: np.ndarray, x: np.ndarray | None) -> dict:
    """The exact checker's verdict and total of ``x``; an assignment with unplaced
    processes (-1) is reported as incomplete (the official checker needs every process)."""
    if x is None:
        return {"valid": False, "cost": None, "reason": "no solution"}
    x = np.asarray(x)
    if (x < 0).any():
        return {
            "valid": False,
            "cost": None,
            "reason": f"incomplete: {int((x < 0).sum())} processes unplaced",
        }
    res = check(inst, x0, x)
    return {"valid": bool(res.valid), "cost": int(res.total), "reason": res.reason or ""}


def _sum_le_var(w: ModelWriter, terms: np.ndarray, var: int) -> None:
    """sum(terms) <= var (booleans)."""
    w.linear(np.append(terms, var), np.append(np.ones(len(terms), dtype=np.int64), -1), hi=0)


def _var_le_sum(w: ModelWriter, var: int, terms: np.ndarray) -> None:
    """var <= sum(terms) (booleans)."""
    w.linear(np.append(terms, var), np.append(-np.ones(len(terms), dtype=np.int64), 1), hi=0)


def build(inst: Instance, x0: np.ndarray) -> tuple[ModelWriter, np.ndarray]:
    """The full CP-SAT model (see the module docstring): (writer, x int64[P, M] variable
    indices)."""
    n_p, n_m, n_r = inst.n_processes, inst.n_machines, inst.n_resources
    req, cap = inst.requirement, inst.capacity
    w = ModelWriter()
    x = w.bools(n_p * n_m).reshape(n_p, n_m)
    for p in range(n_p):
        w.exactly_one(x[p])
    usage_hi = req.sum(axis=0)
    for m in range(n_m):
        home = x0 == m
        for r in range(n_r):
            moved_in = ~home if inst.transient[r] else np.ones(n_p, dtype=bool)
            stay = int(req[home, r].sum()) if inst.transient[r] else 0
            keep = moved_in & (req[:, r] > 0)
            if req[keep, r].sum() > cap[m, r] - stay:
                w.linear(x[keep, m], req[keep, r], hi=int(cap[m, r] - stay))
    procs = [np.flatnonzero(inst.service == s) for s in range(inst.n_services)]
    for s in range(inst.n_services):
        if len(procs[s]) > 1:
            for m in range(n_m):
                w.linear(x[procs[s], m], np.ones(len(procs[s]), dtype=np.int64), hi=1)
    locations = [np.flatnonzero(inst.location == loc) for loc in np.unique(inst.location)]
    for s in np.flatnonzero(inst.spread_min > 0):
        used = w.bools(len(locations))
        for k, machines in enumerate(locations):
            _var_le_sum(w, used[k], x[np.ix_(procs[s], machines)].ravel())
        w.linear(used, np.ones(len(used), dtype=np.int64), lo=int(inst.spread_min[s]))
    neighbourhoods = [np.flatnonzero(inst.neighborhood == n) for n in np.unique(inst.neighborhood)]
    present: dict[int, np.ndarray] = {}
    for s in range(inst.n_services):
        for t in inst.dependency[inst.dependency_ptr[s] : inst.dependency_ptr[s + 1]]:
            if int(t) not in present:
                present[int(t)] = w.bools(len(neighbourhoods))
                for k, machines in enumerate(neighbourhoods):  # present <= processes of t there
                    _var_le_sum(w, present[int(t)][k], x[np.ix_(procs[t], machines)].ravel())
            for k, machines in enumerate(neighbourhoods):  # a process of s there -> t present
                for p in procs[s]:
                    _sum_le_var(w, x[p, machines], present[int(t)][k])
    obj_vars: list[np.ndarray] = []
    obj_coefs: list[np.ndarray] = []
    # load: over[m, r] >= U(m, r) - SC(m, r)
    for r in np.flatnonzero(inst.load_weight > 0):
        over = w.ints(np.zeros(n_m, dtype=np.int64), np.full(n_m, usage_hi[r]))
        for m in range(n_m):
            w.linear(
                np.append(x[:, m], over[m]), np.append(req[:, r], -1), hi=int(inst.safety_capacity[m, r])
            )
        obj_vars.append(over)
        obj_coefs.append(np.full(n_m, inst.load_weight[r]))
    # balance: bal >= target (C1 - U1) - (C2 - U2) = target C1 - C2 + sum (req2 - target req1) x
    for b in range(inst.n_balances):
        r1, r2 = inst.balance_resources[b]
        t = int(inst.balance_target[b])
        hi = t * cap[:, r1].max() + usage_hi[r2]
        bal = w.ints(np.zeros(n_m, dtype=np.int64), np.full(n_m, hi))
        coef = req[:, r2] - t * req[:, r1]
        for m in range(n_m):
            w.linear(np.append(x[:, m], bal[m]), np.append(coef, -1), hi=int(cap[m, r2] - t * cap[m, r1]))
        obj_vars.append(bal)
        obj_coefs.append(np.full(n_m, inst.balance_weight[b]))
    stay = x[np.arange(n_p), x0]
    # process move: W_PMC PMC(p) (1 - stay[p])
    obj_vars.append(stay)
    obj_coefs.append(-inst.process_move_weight * inst.process_move_cost)
    offset = int(inst.process_move_weight * inst.process_move_cost.sum())
    # service move: smc >= moved processes of s = |s| - sum stay
    smc = w.ints(np.zeros(1, dtype=np.int64), np.array([max(len(p) for p in procs)]))
    for s in range(inst.n_services):
        if len(procs[s]):
            w.linear(
                np.append(stay[procs[s]], smc[0]),
                np.ones(len(procs[s]) + 1, dtype=np.int64),
                lo=len(procs[s]),
            )
    obj_vars.append(smc)
    obj_coefs.append(np.array([inst.service_move_weight]))
    # machine move: W_MMC MMC(x0[p], m) x[p, m]
    obj_vars.append(x.ravel())
    obj_coefs.append((inst.machine_move_weight * inst.machine_move_cost[x0]).astype(np.int64).ravel())
    variables = np.concatenate(obj_vars)
    coefs = np.concatenate(obj_coefs).astype(np.int64)
    keep = coefs != 0
    obj = w.proto.objective
    obj.vars.extend(variables[keep].tolist())
    obj.coeffs.extend(coefs[keep].tolist())
    obj.offset = float(offset)
    return w, x


def solve_cpsat(inst: Instance, x0: np.ndarray, seconds: float, seed: int, report: Callable) -> dict:
    """Child body (see peers_cpsat.run_capped): build, then CP-SAT for what is left."""
    deadline = Deadline(seconds)
    w, x = build(inst, x0)
    built = {"build_s": deadline.elapsed(), "variables": w.n_vars, "pairs": int(x.size)}
    report("built", built)
    res = run_cpsat(w.model, deadline, workers=2, seed=seed)
    sol = res.values[x].argmax(axis=1).astype(np.int64) if res.has_solution else None
    return {**built, "status": res.status, "x": sol, "bound": res.bound, "elapsed": deadline.elapsed()}
