"""The shape every solver shares: a problem and seed solutions in, ``step`` within a deadline,
``best()``, ``elites(k)``, ``accept(migrants)`` and a small restartable ``state()``.

A solver never owns the clock or the loop: the caller (a CLI command, an island actor, a
sweep trial) decides how long it runs by the :class:`Deadline` it passes, and can cancel it
from another thread. Every solver keeps an :class:`Archive` of the best distinct
assignments it has seen, so whatever stops it, the best feasible answer is at hand.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from cluster_opt.evaluate import Evaluator, Problem
from cluster_opt.evaluate.context import as_population


class Deadline:
    """A wall-clock budget that can also be cancelled from another thread.

    ``Deadline(None)`` never expires by time (only by :meth:`cancel`).
    """

    def __init__(
        self,
        seconds: float | None = None,
        cancel: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.start = clock()
        self.end = float("inf") if seconds is None else self.start + max(float(seconds), 0.0)
        self.cancelled = cancel or threading.Event()

    def cancel(self) -> None:
        self.cancelled.set()

    def expired(self) -> bool:
        return self.cancelled.is_set() or self.clock() >= self.end

    def remaining(self) -> float:
        """Seconds left (0 when expired or cancelled; inf without a time limit)."""
        if self.cancelled.is_set():
            return 0.0
        return max(self.end - self.clock(), 0.0)

    def elapsed(self) -> float:
        return self.clock() - self.start

    def fraction(self) -> float:
        """Share of the budget used, in [0, 1] (0 without a time limit)."""
        if self.end == float("inf"):
            return 0.0
        span = self.end - self.start
        return 1.0 if span <= 0 else min(self.elapsed() / span, 1.0)

    def within(self, seconds: float) -> Deadline:
        """A sub-deadline: at most ``seconds`` from now, never past this one, sharing its
        cancellation."""
        sub = Deadline(min(seconds, self.remaining()), self.cancelled, self.clock)
        return sub


@dataclass(frozen=True)
class Solution:
    """One scored assignment: ``x`` int32[V] host index per VM (-1 = unplaced)."""

    x: np.ndarray
    score: float
    feasible: bool

    @property
    def key(self) -> tuple[int, float]:
        """Sort key: feasible before infeasible, then lower score."""
        return (0 if self.feasible else 1, self.score)


class Archive:
    """The ``size`` best distinct assignments seen, best first. ``offer`` is O(V + size)."""

    def __init__(self, size: int = 8) -> None:
        self.size = max(int(size), 1)
        self.items: list[Solution] = []
        self._seen: set[bytes] = set()

    def __len__(self) -> int:
        return len(self.items)

    def offer(self, x: np.ndarray, score: float, feasible: bool) -> bool:
        """Keep ``x`` if it is among the best ``size``; True when it is the new best."""
        digest = np.ascontiguousarray(x, dtype=np.int32).tobytes()
        if digest in self._seen:
            return False
        sol = Solution(np.array(x, dtype=np.int32), float(score), bool(feasible))
        if len(self.items) >= self.size and sol.key >= self.items[-1].key:
            return False
        self.items.append(sol)
        self.items.sort(key=lambda s: s.key)
        self._seen.add(digest)
        if len(self.items) > self.size:
            dropped = self.items.pop()
            self._seen.discard(dropped.x.tobytes())
        return self.items[0] is sol

    def best(self) -> Solution:
        if not self.items:
            raise LookupError("no solution yet")
        return self.items[0]

    def top(self, k: int) -> list[Solution]:
        return self.items[: max(int(k), 0)]


class SolverSettings(BaseModel):
    """Settings every solver has; subclasses add their own fields (unknown keys rejected)."""

    model_config = ConfigDict(extra="forbid")
    archive_size: int = 8


@dataclass
class Progress:
    """What a solver did so far, for progress displays and reports."""

    steps: int = 0
    evaluations: int = 0
    improvements: int = 0
    migrants_accepted: int = 0
    history: list[tuple[float, float]] = field(default_factory=list)  # (elapsed s, best score)
    notes: list[str] = field(default_factory=list)  # what the user should know (e.g. terms ignored)


class Solver(ABC):
    """Base class of every search and construction algorithm.

    Subclasses implement :meth:`step` (one bounded unit of work: a generation, a batch of
    moves, one neighbourhood) and may override :meth:`accept` to put migrants into their
    population. They offer what they find to :attr:`archive` through :meth:`_offer`.
    """

    name: ClassVar[str]
    Settings: ClassVar[type[SolverSettings]] = SolverSettings

    def __init__(
        self,
        problem: Problem,
        seeds: np.ndarray | None = None,
        *,
        seed: int = 0,
        settings: SolverSettings | Mapping[str, Any] | None = None,
    ) -> None:
        self.problem = problem
        self.settings = (
            settings if isinstance(settings, self.Settings) else self.Settings.model_validate(settings or {})
        )
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.evaluator = Evaluator(problem)
        self.archive = Archive(self.settings.archive_size)
        self.progress = Progress()
        self.done = False  # True when the solver can do no more (optimal, or converged)
        self._clock = time.monotonic()
        c = problem.cluster
        self.seeds = (
            np.empty((0, c.n_vms), dtype=np.int32)
            if seeds is None
            else as_population(seeds, c.n_vms, c.n_hosts).copy()
        )

    # -- the interface ---------------------------------------------------------------
    @abstractmethod
    def step(self, deadline: Deadline) -> None:
        """Do one bounded unit of work, returning promptly once ``deadline`` expires."""

    def run(self, deadline: Deadline) -> Solution:
        """Step until the deadline expires, the solver is done, or it is cancelled."""
        while not self.done and not deadline.expired():
            self.step(deadline)
        return self.best()

    def best(self) -> Solution:
        return self.archive.best()

    def elites(self, k: int) -> np.ndarray:
        """int32[k', V] (k' <= k): the best distinct assignments, best first."""
        top = self.archive.top(k)
        if not top:
            return np.empty((0, self.problem.cluster.n_vms), dtype=np.int32)
        return np.stack([s.x for s in top])

    def accept(self, migrants: np.ndarray) -> None:
        """Take assignments found elsewhere (e.g. another island's elites)."""
        pop = as_population(migrants, self.problem.cluster.n_vms, self.problem.cluster.n_hosts)
        self.evaluate(pop)
        self.progress.migrants_accepted += len(pop)

    def state(self) -> dict[str, Any]:
        """A small dict from which a restarted solver can resume: its elites and counters."""
        return {"name": self.name, "seed": self.seed, "elites": self.elites(self.archive.size)}

    # -- helpers for subclasses ------------------------------------------------------
    def evaluate(self, pop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score a population with the batch evaluator and offer every row to the archive;
        returns (score float64[P], feasible bool[P])."""
        batch = self.evaluator.batch(pop)
        self.progress.evaluations += len(pop)
        for i in range(len(pop)):
            self._offer(pop[i], float(batch.score[i]), bool(batch.feasible[i]))
        return batch.score, batch.feasible

    def _offer(self, x: np.ndarray, score: float, feasible: bool) -> bool:
        improved = self.archive.offer(x, score, feasible)
        if improved:
            self.progress.improvements += 1
            self.progress.history.append((time.monotonic() - self._clock, score))
        return improved


#: name -> Solver class (filled by :func:`register_solver`).
SOLVERS: dict[str, type[Solver]] = {}


def register_solver(cls: type[Solver]) -> type[Solver]:
    """Class decorator adding a solver to :data:`SOLVERS` under its ``name``."""
    if cls.name in SOLVERS:
        raise ValueError(f"solver {cls.name!r} registered twice")
    SOLVERS[cls.name] = cls
    return cls
