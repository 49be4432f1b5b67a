"""The hard placement rules of a problem as flat arrays that numba kernels can read.

Built once per :class:`~cluster_opt.evaluate.Problem` (``PlacementRules.of(problem)`` caches
it on the problem) and shared by the construction heuristics, repair and the delta
evaluator, so that they agree with the evaluator's hard terms: capacity, host state, GPU
model, anti-affinity and spread, affinity, and unmigratable VMs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cluster_opt.evaluate import Problem
from cluster_opt.model.codes import STANDARD_RESOURCES


@dataclass(frozen=True)
class PlacementRules:
    """Flat arrays of the hard rules (all contiguous, int64 codes)."""

    capacity: np.ndarray  # float64[H, R]
    demand: np.ndarray  # float64[V, R]
    scale: np.ndarray  # float64[R] mean positive capacity (normalises resources)
    usable: np.ndarray  # bool[H] active hosts
    host_model: np.ndarray  # int64[H] GPU model, -1 none
    host_has_gpu: np.ndarray  # bool[H] host offers GPUs (kept for VMs that need them)
    vm_model: np.ndarray  # int64[V] required GPU model, -1 any
    vm_needs_gpu: np.ndarray  # bool[V]
    current: np.ndarray  # int32[V]
    pinned: np.ndarray  # bool[V] unmigratable VMs that have a current host
    vm_group: np.ndarray  # int64[V] anti-affinity group, -1 none
    g_ptr: np.ndarray  # int64[G + 1] CSR of group members
    g_members: np.ndarray  # int64[M]
    g_level: np.ndarray  # int64[G] SpreadLevel
    g_limit: np.ndarray  # int64[G] max members per domain
    domains: np.ndarray  # int64[3, H] host, rack, zone of each host
    vm_affinity: np.ndarray  # int64[V] affinity group, -1 none
    a_ptr: np.ndarray  # int64[A + 1]
    a_members: np.ndarray  # int64[...]
    host_order: np.ndarray  # int64[H'] usable hosts, preferred first (see host_preference)
    size_order: np.ndarray  # int64[V] VMs by decreasing normalised size (summed over resources)

    @classmethod
    def of(cls, problem: Problem) -> PlacementRules:
        """The rules of ``problem``, built on first use and cached on it. O(V + H log H)."""
        cached = getattr(problem, "_placement_rules", None)
        if cached is None:
            cached = cls._build(problem)
            problem._placement_rules = cached  # type: ignore[attr-defined]
        return cached

    @classmethod
    def _build(cls, problem: Problem) -> PlacementRules:
        c = problem.cluster
        cap = np.ascontiguousarray(c.hosts.capacity, dtype=np.float64)
        gpu = c.resources.index("gpus") if "gpus" in c.resources else -1
        host_has_gpu = (c.hosts.gpu_model >= 0) | (cap[:, gpu] > 0 if gpu >= 0 else False)
        vm_needs_gpu = (c.vms.gpu_model >= 0) | (c.vms.demand[:, gpu] > 0 if gpu >= 0 else False)
        g_ptr, g_members = problem.anti_affinity_csr
        a_ptr, a_members = problem.affinity_csr
        usable = np.ascontiguousarray(c.usable)
        return cls(
            capacity=cap,
            demand=np.ascontiguousarray(c.vms.demand, dtype=np.float64),
            scale=np.ascontiguousarray(problem.resource_scale, dtype=np.float64),
            usable=usable,
            host_model=c.hosts.gpu_model.astype(np.int64),
            host_has_gpu=np.asarray(host_has_gpu, dtype=bool),
            vm_model=c.vms.gpu_model.astype(np.int64),
            vm_needs_gpu=np.asarray(vm_needs_gpu, dtype=bool),
            current=c.vms.current.astype(np.int32),
            pinned=~c.vms.migratable & (c.vms.current >= 0),
            vm_group=c.vms.anti_affinity.astype(np.int64),
            g_ptr=g_ptr,
            g_members=g_members,
            g_level=c.anti_affinity.level.astype(np.int64),
            g_limit=c.anti_affinity.max_per_domain.astype(np.int64),
            domains=np.ascontiguousarray(problem.domains),
            vm_affinity=c.vms.affinity.astype(np.int64),
            a_ptr=a_ptr,
            a_members=a_members,
            host_order=host_preference(problem, usable, host_has_gpu),
            size_order=np.argsort(-(c.vms.demand / problem.resource_scale).sum(axis=1), kind="stable"),
        )


def host_preference(problem: Problem, usable: np.ndarray, host_has_gpu: np.ndarray) -> np.ndarray:
    """Usable hosts in the order construction opens them: hosts without GPUs first (GPU
    hosts are kept for the VMs that need them), then larger hosts (capacity summed over
    the standard resources present, each in units of its mean), then lower idle watts per
    unit of that capacity, then index. O(H log H)."""
    c = problem.cluster
    cols = [k for k, r in enumerate(c.resources) if r in STANDARD_RESOURCES and r != "gpus"]
    size = (c.hosts.capacity[:, cols] / problem.resource_scale[cols]).sum(axis=1)
    idle = c.idle_watts / np.maximum(size, 1e-9)
    hosts = np.flatnonzero(usable)
    order = np.lexsort((hosts, idle[hosts], -size[hosts], host_has_gpu[hosts]))
    return hosts[order].astype(np.int64)
