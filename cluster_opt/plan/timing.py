"""Durations of moves and waves, and the cut of a plan to a maintenance window.

A live migration copies the VM's memory while it runs and re-sends the pages it dirties:
``seconds = setup_seconds + mem_gb * 8 / migration_gbps * dirty_page_factor``. Placing a
pending VM or stopping an evicted one takes ``setup_seconds``. All moves of a wave start
together; a wave lasts as long as its longest move and the next wave starts when it ends.
"""

from __future__ import annotations

import numpy as np

from cluster_opt.plan.moves import MIGRATE
from cluster_opt.plan.settings import PlanSettings


def move_seconds(settings: PlanSettings, mem_gb: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """float64[M]: estimated seconds of each move. O(M)."""
    mem = np.asarray(mem_gb, dtype=np.float64)
    return np.where(kind == MIGRATE, settings.migration_seconds(mem), settings.setup_seconds)


def wave_times(wave: np.ndarray, seconds: np.ndarray, n_waves: int) -> tuple[np.ndarray, np.ndarray]:
    """(seconds, start offset) of each wave, from the waves of the moves. O(M + W)."""
    length = np.zeros(n_waves)
    if len(wave):
        np.maximum.at(length, wave, seconds)
    start = np.concatenate([[0.0], np.cumsum(length)[:-1]]) if n_waves else np.zeros(0)
    return length, start


def best_prefix(length: np.ndarray, value: np.ndarray, window: float | None) -> int:
    """How many leading waves to keep: the prefix of most total ``value`` among those that
    end within ``window`` seconds (all waves when there is no window); the shorter prefix
    on ties. Any prefix of a safe plan is safe. O(W)."""
    n = len(length)
    if window is None or n == 0:
        return n
    ends = np.cumsum(length)
    gain = np.concatenate([[0.0], np.cumsum(value)])
    fits = np.concatenate([[True], ends <= window * (1 + 1e-12)])
    gain = np.where(fits, gain, -np.inf)
    return int(np.argmax(gain))
