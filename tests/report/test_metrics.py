"""metrics.prom: parsed back with prometheus_client's own parser."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cluster_opt.report import IslandCounts, PlanSummary, write_metrics


def _samples(path):
    """{(name, frozenset(labels without job_kind)): value}, checking job_kind on the way."""
    out = {}
    for family in text_string_to_metric_families(path.read_text()):
        for s in family.samples:
            labels = dict(s.labels)
            assert labels.pop("job_kind") == "plan"
            out[(s.name, frozenset(labels.items()))] = s.value
    return out


def test_metrics_round_trip(tmp_path, full_data):
    before, after = full_data.evaluation_before, full_data.evaluation_after
    path = write_metrics(
        tmp_path / "metrics.prom",
        duration_s=12.5,
        evaluation=after,
        before=before,
        plan_summary=PlanSummary(migrations=93, waves=3, moved_gb=525.0, duration_s=210.0),
        islands=IslandCounts(started=4, lost=1, restarted=1),
        job="plan",
        timestamp=1_700_000_000.0,
    )
    got = _samples(path)
    plain = {name: v for (name, labels), v in got.items() if not labels}
    assert plain == {
        "cluster_opt_run_duration_seconds": 12.5,
        "cluster_opt_run_completed_timestamp_seconds": 1_700_000_000.0,
        "cluster_opt_score": pytest.approx(after.score),
        "cluster_opt_score_before": pytest.approx(before.score),
        "cluster_opt_feasible": float(after.feasible),
        "cluster_opt_plan_migrations": 93.0,
        "cluster_opt_plan_waves": 3.0,
        "cluster_opt_plan_moved_gigabytes": 525.0,
        "cluster_opt_plan_duration_seconds": 210.0,
        "cluster_opt_islands_started": 4.0,
        "cluster_opt_islands_lost": 1.0,
        "cluster_opt_islands_restarted": 1.0,
    }
    for name, value in after.values.items():
        labels = frozenset({"term": name, "kind": after.kinds[name], "unit": after.units[name]}.items())
        assert got[("cluster_opt_term_value", labels)] == pytest.approx(value)
        assert got[("cluster_opt_term_value_before", labels)] == pytest.approx(before.values[name])
    bounds = {dict(k[1])["term"]: v for k, v in got.items() if k[0] == "cluster_opt_term_lower_bound"}
    assert bounds == pytest.approx(after.lower_bounds)
    gaps = {dict(k[1])["term"]: v for k, v in got.items() if k[0] == "cluster_opt_term_gap_ratio"}
    assert gaps == pytest.approx({n: g for n, g in after.gaps.items() if g is not None})
    assert "active_hosts" in gaps  # a term with a positive bound has a gap


def test_minimal_metrics(tmp_path):
    path = write_metrics(tmp_path / "m.prom", duration_s=3.0, evaluation=None, job="plan", timestamp=5.0)
    assert set(_samples(path)) == {
        ("cluster_opt_run_duration_seconds", frozenset()),
        ("cluster_opt_run_completed_timestamp_seconds", frozenset()),
    }
    assert "# HELP cluster_opt_run_duration_seconds Wall-clock duration of the run." in path.read_text()
