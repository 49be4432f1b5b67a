"""Settings of the distributed engine (``engine:`` in job configs, ``--islands`` etc. on the
command line). Unknown keys and unknown solver names are errors."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cluster_opt.solve.registry import solvers

#: Solvers whose work is bounded by wall-clock time inside CP-SAT: not reproducible.
WALL_CLOCK_SOLVERS = frozenset({"cpsat", "lns"})


class EngineSettings(BaseModel):
    """How the engine partitions, which solvers its islands run and how they exchange.

    * ``islands``: Ray actors; island i runs ``mix[i % len(mix)]``.
    * ``racks_per_partition``: racks of one zone per partition (see
      :mod:`cluster_opt.distributed.partition`).
    * ``coarsen``: racks per partition of later phases (0 = whole zones). The search time
      is split equally between the phases; each phase cuts its partitions from the merged
      best of the one before, so small partitions converge fast and larger ones then move
      VMs between their rack groups.
    * ``slice_s``: seconds per unit of work (one partition on one island); after each unit
      the partition's elites move on along ``topology`` (ring: to the next island; random:
      to a random one; none: the partition stays on its island). None = chosen from the
      budget so that every partition gets about three units.
    * ``global_share``: share of the budget for the global pass (cross-zone moves, repair).
    * ``choose``: the solution returned from the Pareto front: lowest weighted ``score``,
      or the ``knee``.
    * ``reproducible``: synchronous rounds, each unit bounded by ``ticks_per_unit`` deadline
      checks instead of seconds, so a run depends only on the seed and the island count;
      it stops after ``rounds`` rounds (or at the deadline, which the run then records).
    """

    model_config = ConfigDict(extra="forbid")

    islands: int = Field(default=2, ge=1)
    mix: list[str] = Field(default_factory=lambda: ["reduce", "anneal"], min_length=1)
    solver_settings: dict[str, dict[str, Any]] = Field(default_factory=dict)
    racks_per_partition: int = Field(default=8, ge=1)
    coarsen: list[Annotated[int, Field(ge=0)]] = Field(default_factory=list)
    slice_s: float | None = Field(default=None, gt=0)
    topology: Literal["ring", "random", "none"] = "ring"
    elites: int = Field(default=4, ge=1)
    global_share: float = Field(default=0.15, ge=0, lt=1)
    global_algo: str = "anneal"
    choose: Literal["score", "knee"] = "score"
    max_restarts: int = Field(default=1, ge=0, description="restarts per island after it dies")
    hang_grace_s: float = Field(default=60.0, gt=0, description="overrun after which a unit is lost")
    cpus_per_island: float | None = Field(default=None, gt=0)
    reproducible: bool = False
    rounds: int = Field(default=6, ge=1)
    ticks_per_unit: int = Field(default=400, ge=10)

    @model_validator(mode="after")
    def _known(self) -> EngineSettings:
        registry = solvers()
        names = [*self.mix, self.global_algo, *self.solver_settings]
        unknown = sorted({n for n in names if n not in registry})
        if unknown:
            raise ValueError(f"unknown solver(s) {unknown}; choose from {sorted(registry)}")
        for name, values in self.solver_settings.items():
            registry[name].Settings.model_validate(values)
        if self.reproducible and WALL_CLOCK_SOLVERS & set(self.mix):
            raise ValueError(
                f"reproducible runs cannot use {sorted(WALL_CLOCK_SOLVERS & set(self.mix))} "
                "(CP-SAT is bounded by wall-clock time)"
            )
        return self

    def algo(self, island: int) -> str:
        return self.mix[island % len(self.mix)]
