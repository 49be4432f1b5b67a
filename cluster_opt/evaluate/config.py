"""Which terms count, how much, and which are hard: the evaluator's configuration."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TermSetting(BaseModel):
    """Override of one term. ``weight`` 0 switches the term off (it is still reported)."""

    model_config = ConfigDict(extra="forbid")
    weight: float | None = Field(default=None, ge=0)
    hard: bool | None = None


class EvaluationConfig(BaseModel):
    """Evaluator settings; every field has a sensible default.

    ``terms`` overrides the defaults of the named terms (see ``cluster-opt evaluate --help``
    or docs/objectives.md for the list). Hard terms make an assignment infeasible when their
    amount is above zero; their weight scales the penalty in the scalar score.
    """

    model_config = ConfigDict(extra="forbid")
    terms: dict[str, TermSetting] = Field(default_factory=dict)
    imbalance_resources: list[str] = Field(default_factory=lambda: ["cpu", "mem_gb"], min_length=1)
    power_resource: str = "cpu"
