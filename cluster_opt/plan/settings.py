"""Planner settings: concurrency limits, link budgets, timing, window, budgets, stability.

Parsed once from YAML (``cluster-opt plan --settings FILE``) into a validated object; every
field has a default. Example::

    concurrency: {per_host: 2, per_rack: 8, global: 500}
    links: {host_gbps: 25, rack_gbps: 100, zone_gbps: 400, region_gbps: 100}
    migration_gbps: 10
    dirty_page_factor: 1.3
    window_seconds: 7200
    max_migrations: 5000
    min_benefit_per_move: 0.0
    cooldown_hours: 24
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


class Concurrency(BaseModel):
    """Moves running at the same time (in one wave). A move counts on its source and its
    destination host, on each rack it touches (once when both ends share a rack), and once
    globally."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    per_host: int = Field(default=2, ge=1)
    per_rack: int = Field(default=8, ge=1)
    global_: int = Field(default=500, ge=1, alias="global")


class Links(BaseModel):
    """Bandwidth budget of each link, Gbit/s (None = unlimited). A live migration streams
    ``migration_gbps`` over the source and destination host links; over both racks' uplinks
    when the racks differ, both zones' links when the zones differ, and both regions' WAN
    links when the regions differ."""

    model_config = ConfigDict(extra="forbid")
    host_gbps: float | None = Field(default=25.0, gt=0)
    rack_gbps: float | None = Field(default=100.0, gt=0)
    zone_gbps: float | None = Field(default=400.0, gt=0)
    region_gbps: float | None = Field(default=100.0, gt=0)

    def budgets(self) -> tuple[float, float, float, float]:
        """(host, rack, zone, region) budgets with ``inf`` for unlimited."""
        inf = float("inf")
        return tuple(
            inf if b is None else float(b)
            for b in (  # type: ignore[return-value]
                self.host_gbps,
                self.rack_gbps,
                self.zone_gbps,
                self.region_gbps,
            )
        )


class PlanSettings(BaseModel):
    """Everything the planner needs besides the cluster and the target.

    Durations: ``setup_seconds + mem_gb * 8 / migration_gbps * dirty_page_factor`` for a live
    migration (the factor accounts for pages re-sent while the VM keeps running), and
    ``setup_seconds`` for placing a pending VM or stopping an evicted one.
    Budgets: ``max_migrations`` caps the moves kept from the target (forced moves first, then by
    benefit); ``min_benefit_per_move`` drops moves whose net benefit (objective gain minus
    the migration cost, in score units, $/h by default) is below it. Stability: VMs moved by
    the previous plan are not moved again within ``cooldown_hours`` (unless forced) and
    otherwise lose ``stability_penalty`` of benefit (twice that when moved back to where the
    previous plan took them from).
    """

    model_config = ConfigDict(extra="forbid")
    concurrency: Concurrency = Field(default_factory=Concurrency)
    links: Links = Field(default_factory=Links)
    migration_gbps: float = Field(default=10.0, gt=0)
    dirty_page_factor: float = Field(default=1.3, ge=1.0)
    setup_seconds: float = Field(default=5.0, ge=0)
    window_seconds: float | None = Field(default=None, gt=0)
    max_migrations: int | None = Field(default=None, ge=0)
    min_benefit_per_move: float | None = None
    cooldown_hours: float = Field(default=24.0, ge=0)
    stability_penalty: float = Field(default=0.1, ge=0)
    staging: bool = True
    max_extra_moves: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_migration_fits_every_link(self) -> PlanSettings:
        for name, budget in self.links.model_dump().items():
            if budget is not None and budget < self.migration_gbps:
                raise ValueError(
                    f"links.{name} = {budget} is below migration_gbps = {self.migration_gbps}: "
                    "no migration could ever start"
                )
        return self

    def migration_seconds(self, mem_gb: float) -> float:
        """Estimated seconds of one live migration of ``mem_gb`` of memory."""
        return self.setup_seconds + mem_gb * 8.0 / self.migration_gbps * self.dirty_page_factor


def load_settings(path: str | Path | None, **overrides: object) -> PlanSettings:
    """PlanSettings from a YAML file (or the defaults), with non-None ``overrides`` applied
    on top; errors name the file and the field."""
    data: dict = {}
    if path is not None:
        data = yaml.safe_load(Path(path).read_text()) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of settings")
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return PlanSettings.model_validate(data)
    except Exception as exc:
        where = f"{path}: " if path is not None else ""
        raise ValueError(f"{where}invalid plan settings: {exc}") from None
