"""The run report: a self-contained ``report.html`` and a Prometheus metrics file."""

from cluster_opt.report.data import IslandCounts, PlanSummary, ReportData
from cluster_opt.report.metrics import write_metrics
from cluster_opt.report.report import render_report, write_report

__all__ = ["IslandCounts", "PlanSummary", "ReportData", "render_report", "write_metrics", "write_report"]
