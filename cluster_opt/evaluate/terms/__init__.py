"""Objective and constraint terms. Importing this package registers the built-in terms."""

from cluster_opt.evaluate.terms import (  # noqa: F401  (imported to register)
    capacity,
    consolidation,
    cost,
    groups,
    imbalance,
    latency,
    migration,
    placement,
    power,
    spot,
)
from cluster_opt.evaluate.terms.base import REGISTRY, Term, register

__all__ = ["REGISTRY", "Term", "register"]
