"""Consolidation pressure: full hosts are worth more than half-full ones."""

from __future__ import annotations

import numpy as np

from cluster_opt.evaluate.context import BatchContext
from cluster_opt.evaluate.terms.base import Term, register


def fill_squared(load: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """(mean over the resources a host has of its utilisation clipped to [0, 1]) squared,
    per host: ``load`` float[..., H, R], ``capacity`` float[H, R]. O(H R) per individual."""
    has = capacity > 0
    u = np.where(has, np.clip(load / np.where(has, capacity, 1.0), 0.0, 1.0), 0.0)
    mean = u.sum(axis=-1) / np.maximum(has.sum(axis=1), 1)
    return mean * mean


@register
class Consolidation(Term):
    """Sum over powered hosts of 1 - (mean utilisation)^2 (Falkenauer's bin-packing fitness
    turned into a cost): moving load from an emptier host to a fuller one lowers it, and so
    does switching a host off, so a search is drawn towards emptying hosts even while the
    host count does not change yet. Each powered host adds at most 1; give it a weight below
    1 / H where host counts must dominate. O(P H R)."""

    name = "consolidation"
    kind = "objective"
    unit = "hosts"
    description = "powered hosts weighted by how empty they are: 1 - squared mean utilisation"
    default_weight = 0.0

    def batch(self, ctx: BatchContext) -> np.ndarray:
        fill = fill_squared(ctx.load, self.problem.cluster.hosts.capacity)
        return np.where(ctx.active, 1.0 - fill, 0.0).sum(axis=1)

    def lower_bound(self) -> float | None:
        return 0.0
