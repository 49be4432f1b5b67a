"""A Problem: a cluster, the terms that score it, their weights, and precomputed arrays."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

import numpy as np

from cluster_opt.evaluate.config import EvaluationConfig
from cluster_opt.evaluate.terms import REGISTRY, Term
from cluster_opt.model.cluster import Cluster
from cluster_opt.model.codes import SpreadLevel


def group_csr(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR of group membership: members of group g are ``members[ptr[g]:ptr[g+1]]``
    (VM indices, ascending). O(V log V)."""
    grouped = np.flatnonzero(codes >= 0)
    order = np.argsort(codes[grouped], kind="stable")
    members = grouped[order].astype(np.int64)
    ptr = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(codes[grouped], minlength=n_groups), out=ptr[1:])
    return ptr, members


class Problem:
    """A cluster plus the evaluation terms and their configuration.

    Build it once and reuse it: terms precompute their arrays here (e.g. the cost of each
    VM in each zone). Raises ``ValueError`` for an unknown term name in the config.
    """

    def __init__(
        self,
        cluster: Cluster,
        config: EvaluationConfig | None = None,
        terms: Iterable[type[Term]] | None = None,
    ) -> None:
        self.cluster = cluster
        self.config = config or EvaluationConfig()
        classes = list(REGISTRY.values()) if terms is None else list(terms)
        names = [c.name for c in classes]
        unknown = sorted(set(self.config.terms) - set(names))
        if unknown:
            raise ValueError(f"unknown term(s) in config: {unknown}; known: {names}")
        self.terms: list[Term] = [cls(self) for cls in classes]
        settings = [self._setting(c) for c in classes]
        self.weights = np.array([w for w, _ in settings], dtype=np.float64)
        self.hard = np.array([h for _, h in settings], dtype=bool)

    def _setting(self, cls: type[Term]) -> tuple[float, bool]:
        """(weight, hard) of a term: the config's override, else the term's default."""
        override = self.config.terms.get(cls.name)
        weight = cls.default_weight if override is None or override.weight is None else override.weight
        hard = cls.default_hard if override is None or override.hard is None else override.hard
        return float(weight), bool(hard)

    @property
    def term_names(self) -> list[str]:
        return [t.name for t in self.terms]

    def term(self, name: str) -> Term:
        for t in self.terms:
            if t.name == name:
                return t
        raise KeyError(f"no term {name!r}; have {self.term_names}")

    @cached_property
    def lower_bounds(self) -> dict[str, float]:
        """Lower bound of every objective term that has one (computed once)."""
        out = {}
        for term in self.terms:
            lb = term.lower_bound() if term.kind == "objective" else None
            if lb is not None:
                out[term.name] = float(lb)
        return out

    # -- shared precomputed arrays (built on first use) --------------------------------
    @cached_property
    def domains(self) -> np.ndarray:
        """int64[3, H]: domain of each host at the host, rack and zone levels."""
        c = self.cluster
        return np.vstack([c.domain(level).astype(np.int64) for level in SpreadLevel])

    @cached_property
    def anti_affinity_csr(self) -> tuple[np.ndarray, np.ndarray]:
        return group_csr(self.cluster.vms.anti_affinity, len(self.cluster.anti_affinity))

    @cached_property
    def affinity_csr(self) -> tuple[np.ndarray, np.ndarray]:
        return group_csr(self.cluster.vms.affinity, len(self.cluster.affinity_groups))

    @cached_property
    def resource_scale(self) -> np.ndarray:
        """float64[R]: mean positive capacity per resource (1 where no host has any); the
        unit in which capacity overload is summed across resources."""
        cap = self.cluster.hosts.capacity
        pos = cap > 0
        n = pos.sum(axis=0)
        total = np.where(pos, cap, 0.0).sum(axis=0)
        return np.where(n > 0, total / np.maximum(n, 1), 1.0)
