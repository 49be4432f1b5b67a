"""Migration plans that are safe at every step: waves, cycle breaking, timing, budgets,
drains, and plan output. The independent checker lives in :mod:`cluster_opt.validate_plan`."""

from cluster_opt.plan.output import load_previous, plan_document, summary_lines, write_plan, write_plan_files
from cluster_opt.plan.planner import Plan, Unmoved, build_plan
from cluster_opt.plan.settings import PlanSettings, load_settings

__all__ = [
    "Plan",
    "PlanSettings",
    "Unmoved",
    "build_plan",
    "load_previous",
    "load_settings",
    "plan_document",
    "summary_lines",
    "write_plan",
    "write_plan_files",
]
