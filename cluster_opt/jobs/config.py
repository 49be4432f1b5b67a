"""Typed job configurations, parsed once from YAML; an unknown key or a bad value is an
error naming the file and the key path (e.g. ``configs/nightly.yaml: solver.time_s: Input
should be greater than 0``).

Objective profiles (``configs/profiles/*.yaml``) are :class:`EvaluationConfig` files: which
terms count, their weights and which are hard. A job names one with ``profile:``; relative
paths are resolved against the config file's folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, FilePath, ValidationError, field_validator, model_validator

from cluster_opt.distributed.settings import EngineSettings
from cluster_opt.evaluate import REGISTRY, EvaluationConfig
from cluster_opt.plan.settings import PlanSettings

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(text: str | float) -> float:
    """Seconds from ``90``, ``90s``, ``15m``, ``1h`` or ``1.5d``; ValueError otherwise."""
    if isinstance(text, int | float):
        return float(text)
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration (examples: 90, 90s, 15m, 1h, 1d)")
    return float(match.group(1)) * _UNIT[match.group(2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SolverConfig(_Strict):
    """Which search runs and for how long. ``algo``: ``engine`` (the distributed engine on
    Ray, configured by ``engine``), or in this process a registered solver (anneal, reduce,
    cpsat, lns, ga, nsga2, with ``settings``), a construction heuristic (ffd, bfd, ...) or
    ``auto``. ``ray_address``: an existing Ray cluster (default: the job's, else embedded)."""

    algo: str = "engine"
    time_s: float = Field(default=60.0, gt=0)
    settings: dict[str, Any] = Field(default_factory=dict)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    ray_address: str | None = None


class PeriodicConfig(_Strict):
    """``nightly --every``: re-optimise from the newest snapshot in ``snapshots`` every
    ``every``, warm-started from the previous best; write a new plan only when its benefit
    (score gain over the previous plan's target, in score units) is at least
    ``min_benefit``."""

    every: float = Field(default=3600.0, gt=0)
    snapshots: Path | None = None
    min_benefit: float = Field(default=1.0, ge=0)
    max_runs: int | None = Field(default=None, ge=1)

    @field_validator("every", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> float:
        return parse_duration(v)


class JobConfig(_Strict):
    """What every job shares: input, output, seed, objective and planner settings."""

    snapshot: Path | None = None
    out: Path = Path("runs")
    seed: int = 0
    profile: FilePath | None = None
    objective: EvaluationConfig | None = None
    plan: PlanSettings = Field(default_factory=PlanSettings)
    previous: Path | None = None  # a previous run folder: cooldown and stability of moves

    @model_validator(mode="after")
    def _one_objective(self) -> JobConfig:
        if self.profile is not None and self.objective is not None:
            raise ValueError("give either 'profile' (a file) or 'objective' (inline), not both")
        return self

    def evaluation(self) -> EvaluationConfig:
        """The objective: the inline one, the profile file's, or the defaults."""
        if self.objective is not None:
            return self.objective
        if self.profile is not None:
            return load_yaml(self.profile, EvaluationConfig)
        return EvaluationConfig()


class NightlyConfig(JobConfig):
    """The nightly rebalance: optimise the whole cluster, plan the migration to it."""

    out: Path = Path("runs/nightly")
    solver: SolverConfig = Field(default_factory=SolverConfig)
    periodic: PeriodicConfig = Field(default_factory=PeriodicConfig)


class DrainRequest(_Strict):
    """Hosts to empty: a list of host ids, a rack (``region/zone/rack``) or a zone."""

    hosts: list[str] = Field(default_factory=list)
    rack: str | None = None
    zone: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> DrainRequest:
        given = [bool(self.hosts), self.rack is not None, self.zone is not None]
        if sum(given) != 1:
            raise ValueError("name exactly one of hosts, rack or zone")
        return self


class MigrationConfig(JobConfig):
    """On-demand migration planning: a drain / evacuation, or a given target assignment."""

    out: Path = Path("runs/migration")
    drain: DrainRequest | None = None
    target: FilePath | None = None
    # A drain's minimal-move target, improved by this search with the drained hosts closed
    # (kept only when it scores better); None: the minimal-move target as it is.
    solver: SolverConfig | None = None

    @model_validator(mode="after")
    def _one_request(self) -> MigrationConfig:
        if (self.drain is None) == (self.target is None):
            raise ValueError("give exactly one of 'drain' or 'target'")
        return self


class SweepConfig(_Strict):
    """A parameter sweep: every combination of ``grid`` (solver setting -> values, plus
    ``algo`` and ``time_s``) on every snapshot, ``repeats`` seeds each, run as Ray Tune
    trials. Results go to ``out``; the best setting is written back as a profile."""

    snapshots: list[Path] = Field(min_length=1)
    out: Path = Path("runs/sweep")
    seed: int = 0
    repeats: int = Field(default=1, ge=1)
    algo: str = "anneal"
    time_s: float = Field(default=10.0, gt=0)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    profile: FilePath | None = None
    max_concurrent: int = Field(default=2, ge=1)

    @field_validator("grid")
    @classmethod
    def _non_empty(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        empty = [k for k, v in grid.items() if not v]
        if empty:
            raise ValueError(f"grid entries without values: {empty}")
        return grid


M = TypeVar("M", bound=BaseModel)


#: Keys holding paths, resolved against the config file's folder (``periodic`` is nested).
PATH_KEYS = ("snapshot", "profile", "previous", "target", "snapshots")


def resolve_paths(data: Any, base: Path, keys: tuple[str, ...] = PATH_KEYS) -> Any:
    """Make the relative paths under ``keys`` (and under ``periodic``) relative to ``base``."""
    if isinstance(data, dict):
        for key in keys:
            value = data.get(key)
            if isinstance(value, str) and not Path(value).is_absolute():
                data[key] = str(base / value)
            if isinstance(value, list):
                data[key] = [
                    str(base / v) if isinstance(v, str) and not Path(v).is_absolute() else v for v in value
                ]
        resolve_paths(data.get("periodic"), base, keys)
    return data


def _unknown_terms(config: BaseModel) -> list[str]:
    """Key paths of objective term names that no registered term has."""
    found = []
    for prefix, objective in (("", config), ("objective.", getattr(config, "objective", None))):
        if isinstance(objective, EvaluationConfig):
            found += [f"{prefix}terms.{name}" for name in objective.terms if name not in REGISTRY]
    return found


def validate(model: type[M], data: dict[str, Any], source: str) -> M:
    """``model`` from ``data``; ValueError naming ``source`` and every bad key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(f"{source}: {problems}") from None


def load_yaml(path: str | Path, model: type[M], **overrides: Any) -> M:
    """Parse ``path`` into ``model``; ``overrides`` (non-None) replace top-level keys.
    Raises ValueError naming the file and every bad key."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the config: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    data = resolve_paths(data, path.parent)
    data.update({k: v for k, v in overrides.items() if v is not None})
    config = validate(model, data, str(path))
    unknown = _unknown_terms(config)
    if unknown:
        known = ", ".join(REGISTRY)
        raise ValueError(f"{path}: {'; '.join(f'{k}: unknown term' for k in unknown)} (known: {known})")
    return config
