"""The driver: partition, fan out island actors on Ray, exchange elites, merge, pick.

1. Start from a feasible assignment (a given one, else the current placement repaired, else
   best fit decreasing): that is the first feasible global solution, and every partition's
   fallback.
2. Partition it (:mod:`~cluster_opt.distributed.partition`), put the partitions' clusters
   into the object store once, and start ``islands`` actors
   (:class:`~cluster_opt.distributed.island.Island`), each with a fraction of the CPUs.
3. Hand out *units* (one partition on one island for ``slice_s`` seconds, with that
   partition's elites as migrants). When a unit returns, its elites join the partition's
   archive on the driver and the partition moves on along the topology (ring: to the next
   island, so each partition meets every solver of the mix in turn, carrying its elites).
   The driver waits with ``ray.wait`` and a short timeout; an idle island takes work from
   the longest queue, so a slow island never holds the run back.
4. An island that dies (``RayActorError``) is restarted up to ``max_restarts`` times and
   resumes from the driver's elites; its partition's unit is handed out again. With no
   restarts left its partitions go to the other islands, and with no island left every
   partition keeps its best so far (at worst the starting solution). A unit overrunning
   its slice by ``hang_grace_s`` counts as a death. A solver error in a unit is recorded
   and the partition moves on.
5. At the deadline, on ``cancel`` or Ctrl-C: stop handing out units, collect what returns
   within a second, merge (:mod:`~cluster_opt.distributed.merge`), run the global pass
   with the time left, build the Pareto front and choose.

Reproducible mode runs synchronous rounds (partition p on island (p + round) mod N with
ring topology) with units measured in deadline checks (:class:`TickClock`), and merges
results in partition order.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cluster_opt.distributed.island import Island, TickClock, UnitResult, peak_rss_mib
from cluster_opt.distributed.merge import Front, assemble, chain, front, global_pass
from cluster_opt.distributed.partition import Partition, partition, sub_cluster
from cluster_opt.distributed.runtime import connect, cpus
from cluster_opt.distributed.settings import EngineSettings
from cluster_opt.evaluate import Evaluator, Problem
from cluster_opt.model import Cluster
from cluster_opt.solve import construct
from cluster_opt.solve.base import Archive, Deadline, Solution
from cluster_opt.solve.relabel import fewest_moves

#: Name of the history series of the whole search (sum over partitions of their best).
SEARCH = "all islands"
#: Seconds the driver waits for outstanding units after the deadline or a cancellation.
COLLECT_GRACE_S = 1.0


@dataclass
class IslandRecord:
    """What one island did (a row of run.json's ``islands``)."""

    index: int
    algo: str
    status: str = "starting"  # running | restarted | lost | failed
    units: int = 0
    busy_s: float = 0.0
    improvements: int = 0
    migrants_received: int = 0
    deaths: int = 0
    restarts: int = 0
    errors: list[str] = field(default_factory=list)
    objective: float = 0.0  # sum over partitions of the best this island has seen
    peak_memory_mib: float | None = None


@dataclass
class EngineResult:
    """The chosen solution, the global front and the run's record (run.json)."""

    best: Solution
    front: Front
    run: dict[str, Any]
    history: list[tuple[str, float, float]]  # (island or SEARCH, elapsed s, objective)


#: From-scratch heuristics tried when the repaired current placement leaves VMs unplaced.
SCRATCH = ("ffd", "bfd")


def start_assignment(
    problem: Problem, start: np.ndarray | None = None, on_feasible: Callable[[], None] | None = None
) -> Solution:
    """The start of a search, scored: ``start`` (default: the current placement) repaired;
    when that leaves VMs unplaced (no room in a fragmented placement), the best by score of
    it and first and best fit decreasing from scratch (which move nearly every VM but may
    place them all). Without any placement, best fit decreasing. ``on_feasible`` is called
    as soon as a feasible assignment is in hand (the time to the first feasible solution).
    O(insertion + 2 constructions + evaluation)."""
    c = problem.cluster
    ev = Evaluator(problem)
    if start is None and not (c.vms.current >= 0).any():
        x = construct.construct(problem, "bfd")
    else:
        x = construct.repair(problem, c.current_assignment() if start is None else start)
    batch = ev.batch(x[None])
    if on_feasible is not None and batch.feasible[0]:
        on_feasible()
    rows = x[None]
    if not (x >= 0).all():
        rows = np.stack([x, *(construct.construct(problem, h) for h in SCRATCH)])
        batch = ev.batch(rows)
    i = int(np.lexsort((batch.score, ~batch.feasible))[0])
    return Solution(rows[i], float(batch.score[i]), bool(batch.feasible[i]))


def partition_phases(cluster: Cluster, settings: EngineSettings) -> list[int]:
    """Racks per partition of each phase: ``racks_per_partition`` then ``coarsen``, where 0
    and anything beyond the largest zone's rack count mean whole zones; a phase that would
    cut the same partitions as the one before is dropped. O(racks)."""
    zone_racks = np.bincount(cluster.topology.rack_zone)
    most = int(zone_racks.max()) if len(zone_racks) else 1
    out: list[int] = []
    for racks in (settings.racks_per_partition, *settings.coarsen):
        racks = min(racks or most, most)
        if not out or racks != out[-1]:
            out.append(racks)
    return out


class Engine:
    """One distributed run; build it and call :meth:`run` once."""

    def __init__(
        self,
        problem: Problem,
        settings: EngineSettings | None = None,
        *,
        seed: int = 0,
        start: np.ndarray | None = None,
        ray_address: str | None = None,
        on_update: Callable[[Engine], None] | None = None,
    ) -> None:
        self.problem = problem
        self.settings = settings or EngineSettings()
        self.seed = int(seed)
        self.start_x = None if start is None else np.asarray(start, dtype=np.int32)
        self.ray_address = ray_address
        self.on_update = on_update
        self.islands = [IslandRecord(i, self.settings.algo(i)) for i in range(self.settings.islands)]
        self.history: list[tuple[str, float, float]] = []
        self.migrants = 0
        self.units = 0
        self.clock = time.monotonic()
        self.deadline = Deadline(0)
        self.parts: list[Partition] = []
        self.base = np.zeros(0, dtype=np.int32)  # the assignment the current partitions were cut from
        self.start_scores = np.zeros(0)  # per partition: its score in ``base``
        self.archives: list[Archive] = []
        self.views: list[np.ndarray] = []  # per island: best score seen per partition
        self.errors: list[str] = []
        self.events: list[str] = []
        self.notes: dict[str, None] = {}  # the solvers' notes, each once, in order of arrival
        self.slice_s = 0.0
        self.start_score = float("nan")
        self.start_estimate = float("nan")  # estimate() at the start
        self._last: dict[int, int] = {}  # partition -> island that last worked on it

    # -- public ----------------------------------------------------------------------------
    def elapsed(self) -> float:
        return time.monotonic() - self.clock

    def estimate(self) -> float:
        """Sum over partitions of their best local score (the search's progress)."""
        return float(sum(a.best().score for a in self.archives))

    def run(self, seconds: float, cancel: threading.Event | None = None) -> EngineResult:
        """Search for ``seconds`` (the global pass included); return the chosen solution."""
        import ray
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        st = self.settings
        self.clock = time.monotonic()
        self.deadline = Deadline(seconds, cancel)
        problem = self.problem
        first: list[float] = []
        begin = start_assignment(problem, self.start_x, lambda: first.append(self.elapsed()))
        x0 = begin.x
        first_feasible = first[0] if first else (self.elapsed() if begin.feasible else None)
        self.start_score = begin.score
        phases = partition_phases(problem.cluster, st)
        clusters = self._partition(x0, phases[0])
        self.start_estimate = float(self.start_scores.sum())
        started_ray = connect(self.ray_address)
        search_end = seconds * (1.0 - st.global_share)
        cancelled = False
        try:
            self._actor_cls = ray.remote(Island)
            per_island = st.cpus_per_island or max(min(1.0, cpus() / st.islands), 0.01)
            # outside any placement group: inside a Tune trial the islands are not the trial's
            outside = PlacementGroupSchedulingStrategy(placement_group=None)
            self._options = {"num_cpus": per_island, "max_restarts": 0, "scheduling_strategy": outside}
            self._refs, self._config = ray.put(clusters), problem.config
            self.actors = [self._spawn(i) for i in range(st.islands)]
            search = self.deadline.within(max(search_end - self.elapsed(), 0.0))
            try:
                for k, racks in enumerate(phases):
                    if k:  # coarser partitions, from the merged best of the phase before
                        if search.expired():
                            break
                        best = [a.best().x for a in self.archives]
                        self._load(self._partition(assemble(self.base, self.parts, best), racks))
                        self.events.append(
                            f"{self.elapsed():.1f}s: phase {k + 1}: {len(self.parts)} partitions "
                            f"of up to {racks} racks of a zone"
                        )
                    phase = search.within(search.remaining() / (len(phases) - k))
                    n = max(len(self.parts), 1)
                    self.slice_s = st.slice_s or float(
                        np.clip(phase.remaining() * st.islands / (3 * n), 0.5, 10.0)
                    )
                    if st.reproducible:
                        self._rounds(phase, max(st.rounds // len(phases), 1))
                    else:
                        self._async(phase)
            except KeyboardInterrupt:
                cancelled = True
                self.events.append(f"{self.elapsed():.1f}s: interrupted; merging the best so far")
            self._collect_memory_and_stop()
            # the answer is ready before Ray's shutdown, which is only cleanup
            cancelled = cancelled or self.deadline.cancelled.is_set()
            return self._finish(x0, first_feasible, cancelled)
        finally:
            if started_ray:
                ray.shutdown()

    def _partition(self, x: np.ndarray, racks: int) -> list[Cluster]:
        """Cut the partitions of ``x`` (``racks`` per partition) and start their archives
        from it; returns the partitions' clusters. O(H log H + V + P evals)."""
        problem, c = self.problem, self.problem.cluster
        self.base = x
        self.parts = partition(c, x, racks)
        clusters = [sub_cluster(c, p, x) for p in self.parts]
        self.archives = []
        for part, sc in zip(self.parts, clusters, strict=True):
            arch = Archive(self.settings.elites)
            xl = part.restrict(x)
            b = Evaluator(Problem(sc, problem.config)).batch(xl[None])
            arch.offer(xl, float(b.score[0]), bool(b.feasible[0]))
            self.archives.append(arch)
        self.start_scores = np.array([a.best().score for a in self.archives])
        self.views = [self.start_scores.copy() for _ in self.islands]
        self._last = {}
        return clusters

    def _load(self, clusters: list[Cluster]) -> None:
        """Hand the islands a new set of partitions (their solvers start afresh)."""
        import ray
        from ray.exceptions import RayActorError

        self._refs = ray.put(clusters)
        loads = {self.actors[i].load.remote(self._refs): i for i in self.alive()}
        for ref, i in loads.items():
            try:
                ray.get(ref, timeout=self.settings.hang_grace_s)
            except (RayActorError, ray.exceptions.GetTimeoutError) as exc:
                self._lost(i, type(exc).__name__)  # a restarted island starts with the new set

    def _collect_memory_and_stop(self) -> None:
        """Ask every live island for its peak memory, all at once, waiting at most
        :data:`COLLECT_GRACE_S` (an island still busy with a unit reports nothing), then
        kill them."""
        import ray

        live = [i for i, rec in enumerate(self.islands) if rec.status in ("running", "restarted")]
        asked = {self.actors[i].peak_memory_mib.remote(): i for i in live}
        ready = ray.wait(list(asked), num_returns=len(asked), timeout=COLLECT_GRACE_S)[0] if asked else []
        for ref in ready:
            try:
                self.islands[asked[ref]].peak_memory_mib = float(ray.get(ref))
            except Exception:
                self.islands[asked[ref]].peak_memory_mib = None
        for i in live:
            ray.kill(self.actors[i])

    # -- islands -----------------------------------------------------------------------------
    def _spawn(self, i: int):
        rec = self.islands[i]
        seed = int(np.random.SeedSequence([self.seed, i, rec.restarts]).generate_state(1)[0])
        actor = self._actor_cls.options(**self._options).remote(
            i,
            rec.algo,
            self._refs,
            self._config,
            seed=seed,
            settings=self.settings.solver_settings.get(rec.algo),
        )
        rec.status = "running" if rec.restarts == 0 else "restarted"
        return actor

    def _lost(self, i: int, why: str) -> bool:
        """Record island ``i``'s death; restart it when allowed. True when it is back."""
        import ray

        rec = self.islands[i]
        rec.deaths += 1
        self.events.append(f"{self.elapsed():.1f}s: island {i} ({rec.algo}) lost: {why}")
        ray.kill(self.actors[i])
        if rec.restarts >= self.settings.max_restarts:
            rec.status = "lost"
            return False
        rec.restarts += 1
        self.actors[i] = self._spawn(i)
        self.events.append(f"{self.elapsed():.1f}s: island {i} restarted from the driver's elites")
        return True

    def alive(self) -> list[int]:
        return [r.index for r in self.islands if r.status in ("running", "restarted")]

    # -- units -----------------------------------------------------------------------------
    def _submit(self, i: int, p: int, budget: float, ticks: bool):
        elites = self.archives[p].top(self.settings.elites)
        migrants = np.stack([s.x for s in elites])
        if self._last.get(p, i) != i:
            self.migrants += len(migrants)
            self.islands[i].migrants_received += len(migrants)
        return self.actors[i].work.remote(p, migrants, budget, ticks)

    def _absorb(self, res: UnitResult) -> None:
        """Merge a unit's elites into its partition's archive and the island's record."""
        rec = self.islands[res.island]
        arch = self.archives[res.partition]
        self.notes.update(dict.fromkeys(res.notes))
        before = arch.best().key
        for x, s, f in zip(res.elites, res.scores, res.feasible, strict=True):
            arch.offer(x, float(s), bool(f))
        if arch.best().key < before:
            rec.improvements += 1
        view = self.views[res.island]
        view[res.partition] = min(view[res.partition], float(res.scores[0]) if len(res.scores) else np.inf)
        rec.objective = float(view.sum())
        rec.units += 1
        rec.busy_s += res.seconds
        self.units += 1
        self._last[res.partition] = res.island
        self.history.append((f"island {res.island} ({rec.algo})", self.elapsed(), rec.objective))
        self.history.append((SEARCH, self.elapsed(), self.estimate()))
        if self.on_update is not None:
            self.on_update(self)

    def _next(self, i: int, p: int, rng: np.random.Generator) -> int:
        """The island partition ``p`` goes to after island ``i`` (among those alive)."""
        alive = self.alive()
        if not alive:
            return i
        topology = self.settings.topology
        if topology == "random":
            return int(rng.choice(alive))
        if topology == "none" and i in alive:
            return i
        later = [j for j in alive if j > i]
        return later[0] if later else alive[0]

    def _async(self, search: Deadline) -> None:
        import ray
        from ray.exceptions import RayActorError, RayTaskError

        rng = np.random.default_rng(self.seed)
        queues: dict[int, deque[int]] = {i: deque() for i in range(len(self.islands))}
        for p in range(len(self.parts)):
            queues[p % len(self.islands)].append(p)
        inflight: dict[Any, tuple[int, int, float, float]] = {}  # ref -> (island, partition, sent, budget)
        busy: set[int] = set()
        done_with: dict[int, set[int]] = {p: set() for p in range(len(self.parts))}
        while not search.expired():
            for i in self.alive():
                if i in busy:
                    continue
                if not queues[i]:  # steal from the longest queue a partition it can still improve
                    for donor in sorted(queues, key=lambda j: -len(queues[j])):
                        mine = [q for q in queues[donor] if i not in done_with[q]]
                        if mine:
                            queues[donor].remove(mine[-1])
                            queues[i].append(mine[-1])
                            break
                if not queues[i]:
                    continue
                p = queues[i].popleft()
                budget = min(self.slice_s, search.remaining())
                if budget < 0.05:
                    break
                inflight[self._submit(i, p, budget, False)] = (i, p, time.monotonic(), budget)
                busy.add(i)
            if not inflight:
                if not any(queues.values()) or not self.alive():
                    break
                continue
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=0.2)
            for ref in ready:
                i, p, _, _ = inflight.pop(ref)
                busy.discard(i)
                try:
                    res = ray.get(ref)
                except RayActorError as exc:
                    self._lost_unit(i, p, type(exc).__name__, queues, rng)
                    continue
                except RayTaskError as exc:
                    self.islands[i].errors.append(f"partition {p}: {exc.cause!r}")
                    self.errors.append(f"island {i} partition {p}: {exc.cause!r}")
                    done_with[p].add(i)
                    queues[self._next(i, p, rng)].append(p)
                    continue
                self._absorb(res)
                if res.done:
                    done_with[p].add(i)
                if done_with[p] >= set(self.alive()):
                    continue  # every island is done with it: the partition rests
                nxt = self._next(i, p, rng)
                if nxt in done_with[p]:
                    nxt = next((j for j in self.alive() if j not in done_with[p]), nxt)
                queues[nxt].append(p)
            now = time.monotonic()
            for ref, (i, p, sent, budget) in list(inflight.items()):
                if now - sent > budget + self.settings.hang_grace_s:
                    inflight.pop(ref)
                    busy.discard(i)
                    self._lost_unit(
                        i, p, f"unit on partition {p} overran by {now - sent - budget:.0f}s", queues, rng
                    )
            if self.on_update is not None:
                self.on_update(self)
        self._collect(inflight)

    def _lost_unit(
        self, i: int, p: int, why: str, queues: dict[int, deque[int]], rng: np.random.Generator
    ) -> None:
        """Island ``i`` died running partition ``p``: record it (restart when allowed), put
        ``p`` first in line again (on ``i`` when it is back) and hand a lost island's queue
        to the islands still alive."""
        self._lost(i, why)
        queues[i if i in self.alive() else self._next(i, p, rng)].appendleft(p)
        alive = self.alive()
        if not alive:
            return
        for j, q in queues.items():
            if j not in alive:
                while q:
                    queues[alive[int(rng.integers(len(alive)))]].append(q.popleft())

    def _collect(self, inflight: dict[Any, tuple[int, int, float, float]]) -> None:
        """Take the units that return within :data:`COLLECT_GRACE_S`; drop the rest."""
        import ray

        if not inflight:
            return
        ready, _ = ray.wait(list(inflight), num_returns=len(inflight), timeout=COLLECT_GRACE_S)
        for ref in ready:
            try:
                self._absorb(ray.get(ref))
            except Exception as exc:
                i, p, _, _ = inflight[ref]
                self.errors.append(f"island {i} partition {p} (late): {type(exc).__name__}")

    def _rounds(self, search: Deadline, rounds: int) -> None:
        """``rounds`` synchronous rounds in a fixed order (reproducible for a seed and
        island count)."""
        import ray
        from ray.exceptions import RayActorError, RayTaskError

        st = self.settings
        rng = np.random.default_rng(self.seed)
        n = len(self.islands)
        for r in range(rounds):
            if search.expired():
                self.events.append(f"deadline reached after {r} of {rounds} rounds")
                break
            order = rng.permutation(n) if st.topology == "random" else np.arange(n)
            shift = 0 if st.topology == "none" else r
            units = []
            for p in range(len(self.parts)):
                i = int(order[(p + shift) % n])
                if i not in self.alive():
                    if not self.alive():
                        return
                    i = self.alive()[p % len(self.alive())]
                units.append((p, i, self._submit(i, p, float(st.ticks_per_unit), True)))
            limit = time.monotonic() + search.remaining() + st.hang_grace_s  # the round's last moment
            for p, i, ref in units:
                try:
                    res = ray.get(ref, timeout=max(limit - time.monotonic(), 0.1))
                except (RayActorError, ray.exceptions.GetTimeoutError) as exc:
                    if i in self.alive():
                        self._lost(i, type(exc).__name__)
                    continue
                except RayTaskError as exc:
                    self.errors.append(f"island {i} partition {p}: {exc.cause!r}")
                    continue
                self._absorb(res)

    # -- the end -----------------------------------------------------------------------------
    def _finish(self, x0: np.ndarray, first_feasible: float | None, cancelled: bool) -> EngineResult:
        """Merge, polish, and pick from the front. Trade-off candidates (the chain, the
        k-th elites) are built on the last phase's base; ``x0`` (the start) is one too."""
        st, problem = self.settings, self.problem
        local = [a.best().x for a in self.archives]
        base = self.base
        merged_at = self.elapsed()
        merged = fewest_moves(problem.cluster, assemble(base, self.parts, local))
        merged_ev = Evaluator(problem).batch(merged[None])
        if first_feasible is None and merged_ev.feasible[0]:
            first_feasible = self.elapsed()
        # the front costs about what this merge did, once per candidate: keep time for it
        k = max(len(a) for a in self.archives) if self.archives else 0
        reserve = (self.elapsed() - merged_at) * (4 + len(self.parts) + k)
        final = (
            Deadline(st.ticks_per_unit, self.deadline.cancelled, TickClock())
            if st.reproducible
            else self.deadline.within(max(self.deadline.remaining() - reserve, 0.0))
        )
        polished = global_pass(problem, merged, final, seed=self.seed, algo=st.global_algo)
        if first_feasible is None and polished.feasible:
            first_feasible = self.elapsed()
        gains = self.start_scores - np.array([a.best().score for a in self.archives])
        rows = [x0[None], base[None], merged[None], polished.x[None], chain(base, self.parts, local, gains)]
        rows += [
            assemble(base, self.parts, [a.top(j + 1)[-1].x for a in self.archives])[None] for j in range(1, k)
        ]
        # interchangeable VMs that trade hosts go back: same placement, fewer moves
        candidates = np.unique([fewest_moves(problem.cluster, r) for r in np.vstack(rows)], axis=0)
        fr = front(problem, candidates, choose=st.choose)
        best = Solution(fr.x[fr.chosen], float(fr.scores[fr.chosen]), bool(fr.feasible[fr.chosen]))
        run = {
            "seed": self.seed,
            "seconds": self.deadline.end - self.deadline.start,
            "elapsed_s": self.elapsed(),
            "cancelled": cancelled,
            "settings": st.model_dump(),
            "partitions": {
                "count": len(self.parts),
                "hosts": [len(p.hosts) for p in self.parts],
                "vms": [len(p.vms) for p in self.parts],
                "names": [p.name for p in self.parts],
                "never_improved": [p.index for p, g in zip(self.parts, gains, strict=True) if g <= 0],
            },
            "slice_s": self.slice_s,
            "islands": {
                "started": len(self.islands) + sum(r.restarts for r in self.islands),
                "lost": sum(r.deaths for r in self.islands),
                "restarted": sum(r.restarts for r in self.islands),
                "per_island": [vars(r) for r in self.islands],
            },
            "units": self.units,
            "migrants_exchanged": self.migrants,
            "time_to_first_feasible_s": first_feasible,
            "start_score": self.start_score,
            "merged_score": float(merged_ev.score[0]),
            "merged_at_s": merged_at,
            "global_pass_score": polished.score,
            "global_pass_feasible": polished.feasible,
            "chosen_score": best.score,
            "chosen_feasible": best.feasible,
            "front_size": len(fr.x),
            "driver_peak_memory_mib": peak_rss_mib(),
            "events": self.events,
            "notes": list(self.notes),
            "errors": self.errors,
        }
        return EngineResult(best, fr, run, self.history)


def optimize(
    problem: Problem,
    seconds: float,
    *,
    settings: EngineSettings | None = None,
    seed: int = 0,
    start: np.ndarray | None = None,
    ray_address: str | None = None,
    cancel: threading.Event | None = None,
    on_update: Callable[[Engine], None] | None = None,
) -> EngineResult:
    """Run the distributed engine on ``problem`` for ``seconds``; see :class:`Engine`."""
    engine = Engine(problem, settings, seed=seed, start=start, ray_address=ray_address, on_update=on_update)
    return engine.run(seconds, cancel)
