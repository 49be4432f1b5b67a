"""Delta evaluation of the exact ROADEF/EURO 2012 objective and constraints for one process
moved to another machine (a shift) or two processes exchanging machines (a swap), in int64.

The state of an assignment ``x`` (FORMAT.md sections 4-6):

* ``use[m]`` = (U(m, 0..R-1), reserved(m, 0..R-1)): the usage and the requirements of the
  processes moved away from ``m`` (their space stays reserved on a transient resource), one
  contiguous row per machine;
* ``mcost[m]`` = (load cost, balance cost) of machine ``m``, weighted;
* ``on_machine[s, m]``, ``at_loc[s, l]``, ``at_nbh[s, n]``: processes of service ``s`` per
  machine (conflict), location (spread) and neighbourhood (dependency); ``svc[s]`` = (distinct
  locations of ``s``, moved processes of ``s``) and ``hist[k]`` = services with ``k`` moved
  processes, so the service-move maximum is updated in O(1) both ways;
* ``acc`` = (load, balance, weighted process-move cost, the service-move maximum, the sum of
  MMC(M0(p), M(p))), from which :func:`total` forms the official total;
* ``links``: the processes of every machine as doubly linked lists (for ejection moves).

A move is evaluated read-only first (conflict, capacity with the transient rule, the cost
change: O(R + B)); spread and dependency are then checked on the placed counts (O(1) plus the
dependencies of the service, or the services depending on it, only when the service enters
or leaves a neighbourhood) and the move is applied or reverted. Starting from a feasible
assignment, a move is applied exactly when the result is feasible, so the state stays
feasible. Kernels take plain arrays (a namedtuple of arrays costs ~0.5 us per call to a
small helper here); :class:`RoadefDelta` bundles them for Python callers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from cluster_opt.roadef.instance import Instance

#: Indices into ``acc``.
LOAD, BALANCE, PROCESS_MOVE, SERVICE_MAX, MACHINE_MOVE = range(5)
#: Outcome of a move (:func:`shift_delta`, :func:`swap_delta`, :meth:`RoadefDelta.shift`).
OK, NO_CHANGE, CONFLICT, CAPACITY, SPREAD_OR_DEPENDENCY = range(5)


def _codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """(dense code int64[n] of each value, number of distinct values). O(n log n)."""
    distinct, code = np.unique(values, return_inverse=True)
    return code.astype(np.int64), max(len(distinct), 1)


def _reverse_csr(ptr: np.ndarray, targets: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR of the reversed relation: for every d, the rows s with d in targets[ptr[s]:ptr[s+1]]."""
    rows = np.repeat(np.arange(len(ptr) - 1, dtype=np.int64), np.diff(ptr))
    order = np.argsort(targets, kind="stable")
    rptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(targets, minlength=n), out=rptr[1:])
    return rptr, rows[order]


# -- numba kernels --------------------------------------------------------------------------


@njit(cache=True, _nrt=False)
def total(acc, weights):
    """The official total of the state: load + balance + process move + W_SMC x max moved
    + W_MMC x sum of machine-move costs."""
    return (
        acc[LOAD]
        + acc[BALANCE]
        + acc[PROCESS_MOVE]
        + weights[0] * acc[SERVICE_MAX]
        + weights[1] * acc[MACHINE_MOVE]
    )


@njit(cache=True, _nrt=False)
def _row_after(m, out, inn, req, proc, mach, trans, use, u):
    """Fill ``u`` with machine ``m``'s usage after process ``out`` leaves it and ``inn``
    arrives (either may be -1); True when the capacity and transient rules hold. O(R)."""
    n_res = u.shape[0]
    ok = True
    for r in range(n_res):
        v = use[m, r]
        res = use[m, n_res + r]
        if out >= 0:
            v -= req[out, r]
            if proc[out, 1] == m:
                res += req[out, r]
        if inn >= 0:
            v += req[inn, r]
            if proc[inn, 1] == m:
                res -= req[inn, r]
        u[r] = v
        if v + trans[r] * res > mach[m, r]:
            ok = False
    return ok


@njit(cache=True, _nrt=False)
def _row_cost(m, u, mach, load_w, bal, out):
    """(load, balance) cost of machine ``m`` at usage ``u`` into ``out[0:2]``. O(R + B)."""
    n_res = u.shape[0]
    load = 0
    for r in range(n_res):
        over = u[r] - mach[m, n_res + r]
        if over > 0:
            load += load_w[r] * over
    balance = 0
    for b in range(bal.shape[0]):
        r1, r2 = bal[b, 0], bal[b, 1]
        excess = bal[b, 2] * (mach[m, r1] - u[r1]) - (mach[m, r2] - u[r2])
        if excess > 0:
            balance += bal[b, 3] * excess
    out[0] = load
    out[1] = balance


@njit(cache=True, _nrt=False)
def _row_set(m, out, inn, u, cost, req, proc, use, mcost, acc):
    """Store machine ``m``'s new usage ``u`` and cost ``cost`` (from :func:`_row_after` and
    :func:`_row_cost`) and its reserved space. O(R)."""
    n_res = u.shape[0]
    for r in range(n_res):
        use[m, r] = u[r]
        if out >= 0 and proc[out, 1] == m:
            use[m, n_res + r] += req[out, r]
        if inn >= 0 and proc[inn, 1] == m:
            use[m, n_res + r] -= req[inn, r]
    acc[LOAD] += cost[0] - mcost[m, 0]
    acc[BALANCE] += cost[1] - mcost[m, 1]
    mcost[m, 0] = cost[0]
    mcost[m, 1] = cost[1]


@njit(cache=True, _nrt=False)
def _moved(s, d, svc, hist, acc):
    """Service ``s`` gains ``d`` in {-1, 0, 1} moved processes; the maximum follows the
    histogram exactly (so +1 then -1 restores it). O(1)."""
    if d == 0:
        return
    c = svc[s, 1]
    hist[c] -= 1
    hist[c + d] += 1
    svc[s, 1] = c + d
    if d > 0 and c + d > acc[SERVICE_MAX]:
        acc[SERVICE_MAX] = c + d
    elif d < 0 and c == acc[SERVICE_MAX] and hist[c] == 0:
        acc[SERVICE_MAX] = c - 1


@njit(cache=True, _nrt=False)
def _place(s, m_from, m_to, geo, on_machine, at_loc, at_nbh, svc):
    """Move one process of service ``s`` in the per-machine, -location and -neighbourhood
    counts (``geo[m]`` = (location code, neighbourhood code)). O(1)."""
    on_machine[s, m_from] -= 1
    on_machine[s, m_to] += 1
    l1, l2 = geo[m_from, 0], geo[m_to, 0]
    if l1 != l2:
        at_loc[s, l1] -= 1
        if at_loc[s, l1] == 0:
            svc[s, 0] -= 1
        if at_loc[s, l2] == 0:
            svc[s, 0] += 1
        at_loc[s, l2] += 1
    at_nbh[s, geo[m_from, 1]] -= 1
    at_nbh[s, geo[m_to, 1]] += 1


@njit(cache=True, _nrt=False)
def _relink(p, m_from, m_to, links):
    """Move ``p`` between the per-machine doubly linked lists ``links`` = (next, prev, head)
    rows (-1 ends a list; a head has prev -1). O(1)."""
    nxt, prv = links[0], links[1]
    a, b = nxt[p], prv[p]
    if b >= 0:
        nxt[b] = a
    else:
        links[2, m_from] = a
    if a >= 0:
        prv[a] = b
    h = links[2, m_to]
    nxt[p] = h
    prv[p] = -1
    if h >= 0:
        prv[h] = p
    links[2, m_to] = p


@njit(cache=True, _nrt=False)
def row_ok(m, mach, trans, use):
    """True when machine ``m`` meets its capacity and transient rules. O(R)."""
    n_res = trans.shape[0]
    for r in range(n_res):  # noqa: SIM110 (numba compiles the loop, not all())
        if use[m, r] + trans[r] * use[m, n_res + r] > mach[m, r]:
            return False
    return True


@njit(cache=True, _nrt=False)
def _geo_ok(s, m_from, m_to, geo, at_nbh, svc, spread_min, dep_ptr, dep, rdep_ptr, rdep):
    """After :func:`_place` of a process of ``s`` from ``m_from`` to ``m_to`` (and any other
    placements of the same move): the spread of ``s`` holds, the dependencies of ``s`` are
    in the new neighbourhood when ``s`` just entered it, and no service depending on ``s``
    is left without it in the old one. O(1 + deps(s)) or O(1 + dependants(s))."""
    if svc[s, 0] < spread_min[s]:
        return False
    n1, n2 = geo[m_from, 1], geo[m_to, 1]
    if n1 == n2:
        return True
    if at_nbh[s, n2] == 1:
        for j in range(dep_ptr[s], dep_ptr[s + 1]):
            if at_nbh[dep[j], n2] == 0:
                return False
    if at_nbh[s, n1] == 0:
        for j in range(rdep_ptr[s], rdep_ptr[s + 1]):
            if at_nbh[rdep[j], n1] > 0:
                return False
    return True


@njit(cache=True, _nrt=False)
def _move_parts(p, m_from, m_to, proc, mmc):
    """(process-move cost change, MMC sum change, moved-count change) of ``p`` going from
    ``m_from`` to ``m_to``. O(1)."""
    o = proc[p, 1]
    d = (1 if m_to != o else 0) - (1 if m_from != o else 0)
    return d * proc[p, 2], mmc[o, m_to] - mmc[o, m_from], d


@njit(cache=True, _nrt=False)
def shift_delta(
    p, m2, force, req, proc, mach, trans, load_w, bal, mmc, weights,
    x, use, mcost, on_machine, svc, hist, acc, ubuf, cbuf,
):  # fmt: skip
    """Read-only evaluation of moving ``p`` to ``m2``: (status, change of the total) where
    status is OK, NO_CHANGE, CONFLICT or CAPACITY (never with ``force``: then the capacity
    of ``m2`` is not checked). On OK, ``ubuf``/``cbuf`` hold the new usage and cost rows of
    (old, new) machine for :func:`shift_apply`. O(R + B)."""
    m1 = x[p]
    if m1 == m2:
        return NO_CHANGE, 0
    s = proc[p, 0]
    if on_machine[s, m2] > 0:
        return CONFLICT, 0
    if not _row_after(m2, -1, p, req, proc, mach, trans, use, ubuf[1]) and not force:
        return CAPACITY, 0
    _row_after(m1, p, -1, req, proc, mach, trans, use, ubuf[0])
    _row_cost(m1, ubuf[0], mach, load_w, bal, cbuf[0])
    _row_cost(m2, ubuf[1], mach, load_w, bal, cbuf[1])
    delta = cbuf[0, 0] + cbuf[0, 1] + cbuf[1, 0] + cbuf[1, 1]
    delta -= mcost[m1, 0] + mcost[m1, 1] + mcost[m2, 0] + mcost[m2, 1]
    pm, mm, d = _move_parts(p, m1, m2, proc, mmc)
    before = acc[SERVICE_MAX]
    _moved(s, d, svc, hist, acc)
    after = acc[SERVICE_MAX]
    _moved(s, -d, svc, hist, acc)
    return OK, delta + pm + weights[1] * mm + weights[0] * (after - before)


@njit(cache=True, _nrt=False)
def shift_apply(
    p, m2, check, req, proc, mmc, geo, spread_min, dep_ptr, dep, rdep_ptr, rdep,
    x, links, use, mcost, on_machine, at_loc, at_nbh, svc, hist, acc, ubuf, cbuf,
):  # fmt: skip
    """Apply a shift that :func:`shift_delta` found OK if spread and dependency hold after
    it (or unconditionally without ``check``, to undo a move); True when applied (else
    nothing changed). O(1 + deps or dependants of the service)."""
    m1 = x[p]
    s = proc[p, 0]
    _place(s, m1, m2, geo, on_machine, at_loc, at_nbh, svc)
    if check and not _geo_ok(s, m1, m2, geo, at_nbh, svc, spread_min, dep_ptr, dep, rdep_ptr, rdep):
        _place(s, m2, m1, geo, on_machine, at_loc, at_nbh, svc)
        return False
    _row_set(m1, p, -1, ubuf[0], cbuf[0], req, proc, use, mcost, acc)
    _row_set(m2, -1, p, ubuf[1], cbuf[1], req, proc, use, mcost, acc)
    pm, mm, d = _move_parts(p, m1, m2, proc, mmc)
    acc[PROCESS_MOVE] += pm
    acc[MACHINE_MOVE] += mm
    _moved(s, d, svc, hist, acc)
    _relink(p, m1, m2, links)
    x[p] = m2
    return True


@njit(cache=True, _nrt=False)
def swap_delta(
    p, q, req, proc, mach, trans, load_w, bal, mmc, weights,
    x, use, mcost, on_machine, svc, hist, acc, ubuf, cbuf,
):  # fmt: skip
    """Read-only evaluation of ``p`` and ``q`` exchanging machines, as :func:`shift_delta`.
    O(R + B)."""
    m1, m2 = x[p], x[q]
    if m1 == m2:
        return NO_CHANGE, 0
    s, t = proc[p, 0], proc[q, 0]
    if s != t and (on_machine[s, m2] > 0 or on_machine[t, m1] > 0):
        return CONFLICT, 0
    if not _row_after(m1, p, q, req, proc, mach, trans, use, ubuf[0]):
        return CAPACITY, 0
    if not _row_after(m2, q, p, req, proc, mach, trans, use, ubuf[1]):
        return CAPACITY, 0
    _row_cost(m1, ubuf[0], mach, load_w, bal, cbuf[0])
    _row_cost(m2, ubuf[1], mach, load_w, bal, cbuf[1])
    delta = cbuf[0, 0] + cbuf[0, 1] + cbuf[1, 0] + cbuf[1, 1]
    delta -= mcost[m1, 0] + mcost[m1, 1] + mcost[m2, 0] + mcost[m2, 1]
    pm_p, mm_p, d_p = _move_parts(p, m1, m2, proc, mmc)
    pm_q, mm_q, d_q = _move_parts(q, m2, m1, proc, mmc)
    before = acc[SERVICE_MAX]
    _moved(s, d_p, svc, hist, acc)
    _moved(t, d_q, svc, hist, acc)
    after = acc[SERVICE_MAX]
    _moved(t, -d_q, svc, hist, acc)
    _moved(s, -d_p, svc, hist, acc)
    return OK, delta + pm_p + pm_q + weights[1] * (mm_p + mm_q) + weights[0] * (after - before)


@njit(cache=True, _nrt=False)
def swap_apply(
    p, q, req, proc, mmc, geo, spread_min, dep_ptr, dep, rdep_ptr, rdep,
    x, links, use, mcost, on_machine, at_loc, at_nbh, svc, hist, acc, ubuf, cbuf,
):  # fmt: skip
    """Apply a swap that :func:`swap_delta` found OK if spread and dependency hold after it
    (True), else change nothing (False). O(1 + deps or dependants of both services)."""
    m1, m2 = x[p], x[q]
    s, t = proc[p, 0], proc[q, 0]
    if s != t:
        _place(s, m1, m2, geo, on_machine, at_loc, at_nbh, svc)
        _place(t, m2, m1, geo, on_machine, at_loc, at_nbh, svc)
        if not (
            _geo_ok(s, m1, m2, geo, at_nbh, svc, spread_min, dep_ptr, dep, rdep_ptr, rdep)
            and _geo_ok(t, m2, m1, geo, at_nbh, svc, spread_min, dep_ptr, dep, rdep_ptr, rdep)
        ):
            _place(t, m1, m2, geo, on_machine, at_loc, at_nbh, svc)
            _place(s, m2, m1, geo, on_machine, at_loc, at_nbh, svc)
            return False
    _row_set(m1, p, q, ubuf[0], cbuf[0], req, proc, use, mcost, acc)
    _row_set(m2, q, p, ubuf[1], cbuf[1], req, proc, use, mcost, acc)
    pm_p, mm_p, d_p = _move_parts(p, m1, m2, proc, mmc)
    pm_q, mm_q, d_q = _move_parts(q, m2, m1, proc, mmc)
    acc[PROCESS_MOVE] += pm_p + pm_q
    acc[MACHINE_MOVE] += mm_p + mm_q
    _moved(s, d_p, svc, hist, acc)
    _moved(t, d_q, svc, hist, acc)
    _relink(p, m1, m2, links)
    _relink(q, m2, m1, links)
    x[p] = m2
    x[q] = m1
    return True


@njit(cache=True)
def init_state(
    req, proc, mach, load_w, bal, mmc, geo, x, links, use, mcost, on_machine, at_loc, at_nbh, svc, hist, acc
):
    """Recompute every counter and cost of assignment ``x`` from scratch.
    O(P R + M (R + B) + S (M + L + N))."""
    n_proc, n_res = req.shape
    links[:] = -1
    for p in range(n_proc - 1, -1, -1):
        m = x[p]
        h = links[2, m]
        links[0, p] = h
        if h >= 0:
            links[1, h] = p
        links[2, m] = p
    use[:] = 0
    on_machine[:] = 0
    at_loc[:] = 0
    at_nbh[:] = 0
    svc[:] = 0
    hist[:] = 0
    acc[:] = 0
    for p in range(n_proc):
        m, o, s = x[p], proc[p, 1], proc[p, 0]
        for r in range(n_res):
            use[m, r] += req[p, r]
            if m != o:
                use[o, n_res + r] += req[p, r]
        on_machine[s, m] += 1
        if at_loc[s, geo[m, 0]] == 0:
            svc[s, 0] += 1
        at_loc[s, geo[m, 0]] += 1
        at_nbh[s, geo[m, 1]] += 1
        if m != o:
            svc[s, 1] += 1
            acc[PROCESS_MOVE] += proc[p, 2]
        acc[MACHINE_MOVE] += mmc[o, m]
    for s in range(svc.shape[0]):
        hist[svc[s, 1]] += 1
        acc[SERVICE_MAX] = max(acc[SERVICE_MAX], svc[s, 1])
    for m in range(mach.shape[0]):
        _row_cost(m, use[m, :n_res], mach, load_w, bal, mcost[m])
        acc[LOAD] += mcost[m, 0]
        acc[BALANCE] += mcost[m, 1]


# -- Python side ----------------------------------------------------------------------------


@dataclass(eq=False)
class RoadefDelta:
    """The delta state of one assignment of an instance (see the module docstring).

    ``RoadefDelta.of(instance, initial)`` starts at the original assignment;
    :meth:`reset` jumps to any assignment; :meth:`shift` and :meth:`swap` try one move and
    apply it when it keeps the assignment feasible. Memory O(P R + M R + S (M + L + N)).
    """

    instance: Instance
    # static: the instance
    req: np.ndarray  # int64[P, R]
    proc: np.ndarray  # int64[P, 3] service, original machine, W_PMC x PMC
    mach: np.ndarray  # int64[M, 2R] capacity | safety capacity
    trans: np.ndarray  # int64[R] 1 for a transient resource
    load_w: np.ndarray  # int64[R]
    bal: np.ndarray  # int64[B, 4] r1, r2, target, weight
    mmc: np.ndarray  # int32[M, M] (the instance's, not copied)
    weights: np.ndarray  # int64[2] W_SMC, W_MMC
    geo: np.ndarray  # int64[M, 2] location code, neighbourhood code
    spread_min: np.ndarray  # int64[S]
    dep_ptr: np.ndarray  # int64[S + 1] CSR: s depends on dep[dep_ptr[s]:dep_ptr[s + 1]]
    dep: np.ndarray  # int64[D]
    rdep_ptr: np.ndarray  # int64[S + 1] CSR: rdep[...] depend on s
    rdep: np.ndarray  # int64[D]
    # dynamic: the assignment
    x: np.ndarray  # int64[P]
    links: np.ndarray  # int64[3, max(P, M)] next, prev (per process), head (per machine) of per-machine lists
    use: np.ndarray  # int64[M, 2R] usage | reserved
    mcost: np.ndarray  # int64[M, 2] load, balance
    on_machine: np.ndarray  # int16[S, M]
    at_loc: np.ndarray  # int32[S, L]
    at_nbh: np.ndarray  # int32[S, N]
    svc: np.ndarray  # int64[S, 2] distinct locations, moved processes
    hist: np.ndarray  # int64[P + 2] services per moved count
    acc: np.ndarray  # int64[5]
    ubuf: np.ndarray  # int64[2, R] scratch
    cbuf: np.ndarray  # int64[2, 2] scratch

    @classmethod
    def of(cls, instance: Instance, initial: np.ndarray, x: np.ndarray | None = None) -> RoadefDelta:
        """The state of ``x`` (default ``initial``) against the original assignment ``initial``."""
        inst = instance
        x0 = inst.validate_assignment(initial, "initial assignment")
        n_res, n_mach, n_serv, n_proc = inst.n_resources, inst.n_machines, inst.n_services, inst.n_processes
        loc, n_loc = _codes(inst.location)
        nbh, n_nbh = _codes(inst.neighborhood)
        dep_ptr = inst.dependency_ptr.astype(np.int64)
        dep = inst.dependency.astype(np.int64)
        rdep_ptr, rdep = _reverse_csr(dep_ptr, dep, n_serv)
        bal = np.column_stack(
            [inst.balance_resources.astype(np.int64), inst.balance_target, inst.balance_weight]
        ).reshape(-1, 4)
        state = cls(
            instance=inst,
            req=np.ascontiguousarray(inst.requirement, dtype=np.int64),
            proc=np.column_stack(
                [inst.service.astype(np.int64), x0, inst.process_move_weight * inst.process_move_cost]
            ).astype(np.int64),
            mach=np.ascontiguousarray(np.hstack([inst.capacity, inst.safety_capacity]), dtype=np.int64),
            trans=inst.transient.astype(np.int64),
            load_w=inst.load_weight.astype(np.int64),
            bal=np.ascontiguousarray(bal, dtype=np.int64),
            mmc=inst.machine_move_cost,
            weights=np.array([inst.service_move_weight, inst.machine_move_weight], dtype=np.int64),
            geo=np.column_stack([loc, nbh]).astype(np.int64),
            spread_min=inst.spread_min.astype(np.int64),
            dep_ptr=dep_ptr,
            dep=dep,
            rdep_ptr=rdep_ptr,
            rdep=rdep,
            x=x0.copy(),
            links=np.full((3, max(n_proc, n_mach)), -1, dtype=np.int64),
            use=np.zeros((n_mach, 2 * n_res), dtype=np.int64),
            mcost=np.zeros((n_mach, 2), dtype=np.int64),
            on_machine=np.zeros((n_serv, n_mach), dtype=np.int16),
            at_loc=np.zeros((n_serv, n_loc), dtype=np.int32),
            at_nbh=np.zeros((n_serv, n_nbh), dtype=np.int32),
            svc=np.zeros((n_serv, 2), dtype=np.int64),
            hist=np.zeros(n_proc + 2, dtype=np.int64),
            acc=np.zeros(5, dtype=np.int64),
            ubuf=np.zeros((2, n_res), dtype=np.int64),
            cbuf=np.zeros((2, 2), dtype=np.int64),
        )
        state.reset(x0 if x is None else x)
        return state

    @property
    def evaluate_args(self) -> tuple:
        """Arguments of :func:`shift_delta` (after ``force``) / :func:`swap_delta` after the
        two moved entities."""
        return (
            self.req, self.proc, self.mach, self.trans, self.load_w, self.bal, self.mmc, self.weights,
            self.x, self.use, self.mcost, self.on_machine, self.svc, self.hist, self.acc, self.ubuf,
            self.cbuf,
        )  # fmt: skip

    @property
    def apply_args(self) -> tuple:
        """Arguments of :func:`shift_apply` (after ``check``) / :func:`swap_apply` after the
        two moved entities."""
        return (
            self.req, self.proc, self.mmc, self.geo, self.spread_min, self.dep_ptr, self.dep,
            self.rdep_ptr, self.rdep, self.x, self.links, self.use, self.mcost, self.on_machine, self.at_loc,
            self.at_nbh, self.svc, self.hist, self.acc, self.ubuf, self.cbuf,
        )  # fmt: skip

    def reset(self, x: np.ndarray) -> None:
        """Jump to assignment ``x`` (validated), recomputing everything. O(P R + M R + S (M + L + N))."""
        self.x[:] = self.instance.validate_assignment(x, "assignment")
        init_state(
            self.req, self.proc, self.mach, self.load_w, self.bal, self.mmc, self.geo, self.x, self.links,
            self.use, self.mcost, self.on_machine, self.at_loc, self.at_nbh, self.svc, self.hist, self.acc,
        )  # fmt: skip

    def total(self) -> int:
        """The official total cost of the current assignment."""
        return int(total(self.acc, self.weights))

    def costs(self) -> dict[str, int]:
        """The five weighted components, named as in :data:`cluster_opt.roadef.checker.COMPONENTS`."""
        a, w = self.acc, self.weights
        return {
            "load": int(a[LOAD]),
            "balance": int(a[BALANCE]),
            "process_move": int(a[PROCESS_MOVE]),
            "service_move": int(w[0] * a[SERVICE_MAX]),
            "machine_move": int(w[1] * a[MACHINE_MOVE]),
        }

    def shift(self, p: int, m: int, apply: bool = True) -> tuple[int, int]:
        """(status, cost change) of moving process ``p`` to machine ``m``; applied when
        ``apply`` and the result is feasible. Status OK, NO_CHANGE, CONFLICT, CAPACITY or
        SPREAD_OR_DEPENDENCY (the last one only known when applying)."""
        status, delta = shift_delta(p, m, False, *self.evaluate_args)
        if status == OK and apply and not shift_apply(p, m, True, *self.apply_args):
            status = SPREAD_OR_DEPENDENCY
        return int(status), int(delta)

    def swap(self, p: int, q: int, apply: bool = True) -> tuple[int, int]:
        """As :meth:`shift` for processes ``p`` and ``q`` exchanging machines."""
        status, delta = swap_delta(p, q, *self.evaluate_args)
        if status == OK and apply and not swap_apply(p, q, *self.apply_args):
            status = SPREAD_OR_DEPENDENCY
        return int(status), int(delta)
