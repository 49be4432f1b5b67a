"""report.html: self-contained, every section present, numbers as computed, partial runs."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from cluster_opt.report import IslandCounts, PlanSummary, ReportData, render_report, write_report
from cluster_opt.report.report import SECTIONS, _change_cell, format_gap, format_number

SECTION_IDS = [s[0] for s in SECTIONS]
FIGURES = ("utilisation", "pareto", "waves", "islands")


@pytest.fixture(scope="module")
def page(full_data) -> str:
    return render_report(full_data)


def _section(page: str, sid: str) -> str:
    match = re.search(rf'<section id="{sid}".*?</section>', page, flags=re.S)
    assert match, sid
    return match.group(0)


def test_every_section_and_figure_is_present(page):
    assert re.findall(r'<section id="([^"]+)"', page) == SECTION_IDS
    assert re.findall(r'data-figure="([^"]+)"', page) == list(FIGURES)
    assert page.count("<svg") == len(FIGURES)
    assert "Not available" not in page
    for sid in SECTION_IDS:  # the navigation links every section
        assert f'href="#{sid}"' in page


def test_page_needs_no_network(page):
    assert "<script" not in page and "@import" not in page
    for attr in re.findall(r'\b(?:src|href)="([^"]*)"', page):
        assert attr.startswith(("#", "data:")), attr
    assert not re.search(r"url\(\s*['\"]?(?!#|data:)", page)


def test_ids_are_unique_and_references_resolve(page):
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    refs = re.findall(r'(?:href="#|url\(#)([^")]+)', page)
    assert set(refs) <= set(ids)


def test_terms_table_shows_values_bounds_and_gaps(page, full_data):
    table = _section(page, "terms")
    before, after = full_data.evaluation_before, full_data.evaluation_after
    for name in after.values:
        row = re.search(rf'<tr[^>]*><th scope="row">{name}</th>(.*?)</tr>', table, flags=re.S)
        assert row, name
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
        kind, unit, weight, b, a, _change, lb, gap_b, gap_a = cells
        assert b == format_number(before.values[name]) and a == format_number(after.values[name])
        assert unit == after.units[name]
        assert lb == format_number(after.lower_bounds.get(name))
        assert gap_b == format_gap(before.gaps.get(name)) and gap_a == format_gap(after.gaps.get(name))
        assert ("constraint" in kind) == (after.kinds[name] == "constraint")
        assert weight == ("off" if after.weights[name] == 0 else format_number(after.weights[name]))
    gap = after.gaps["active_hosts"]
    assert gap is not None and f"{gap * 100:,.1f} %" in table
    assert format_number(after.score) in table


def test_summary_cards(page, full_data):
    cards = _section(page, "summary")
    plan = PlanSummary.from_moves(full_data.moves)
    assert f"{plan.migrations:,}" in cards and f"{plan.waves:,} waves" in cards
    assert "4 started" in cards and "1 lost" in cards and "1 restarted" in cards
    assert f"{full_data.cluster.n_hosts:,} hosts" in cards


def test_empty_report_keeps_every_section():
    page = render_report(ReportData())
    assert re.findall(r'<section id="([^"]+)"', page) == SECTION_IDS
    assert "<svg" not in page
    assert page.count('class="missing"') == len(SECTION_IDS)


def test_partial_run_shows_what_it_has(full_data):
    data = ReportData(cluster=full_data.cluster, evaluation_after=full_data.evaluation_after)
    page = render_report(data)
    assert re.findall(r'data-figure="([^"]+)"', page) == ["utilisation"]  # before = snapshot placement
    for sid in ("pareto", "waves", "islands"):
        assert "Not available" in _section(page, sid)
    terms = _section(page, "terms")
    assert format_number(full_data.evaluation_after.score) in terms
    assert "<td>—</td>" in terms  # no "before" column values


def test_plan_without_moves():
    empty = pd.DataFrame({"wave": [], "start_s": [], "seconds": [], "vm": []})
    page = render_report(ReportData(moves=empty))
    assert "moves no VM" in _section(page, "waves")
    assert PlanSummary.from_moves(empty) == PlanSummary(0, 0, 0.0, 0.0)


def test_text_is_escaped():
    page = render_report(ReportData(title="<script>alert(1)</script>", run_info={"note": "a & <b>"}))
    assert "<script>" not in page and "&lt;script&gt;" in page and "a &amp; &lt;b&gt;" in page


def test_plan_summary_from_moves(full_data):
    moves = full_data.moves
    plan = PlanSummary.from_moves(moves)
    assert plan.migrations == len(moves) and plan.waves == moves["wave"].nunique()
    assert plan.moved_gb == pytest.approx(moves["mem_gb"].sum())
    assert plan.duration_s == pytest.approx(
        (moves["start_s"] + moves["seconds"]).max() - moves["start_s"].min()
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"before": np.zeros(3, dtype=np.int32)}, "before: shape (3,)"),
        ({"moves": pd.DataFrame({"wave": [0]})}, "moves: missing column(s) ['start_s', 'seconds', 'vm']"),
        (
            {"islands": pd.DataFrame({"island": [0]})},
            "islands: missing column(s) ['elapsed_s', 'best_score']",
        ),
        ({"pareto_chosen": 10**6}, "pareto_chosen: 1000000 is not a row"),
        ({"pareto_objectives": ["nope"]}, "pareto: missing column(s) ['nope']"),
    ],
)
def test_bad_inputs_name_the_field(full_data, change, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        replace(full_data, **change)


def test_assignment_needs_a_cluster():
    with pytest.raises(ValueError, match="after: an assignment needs the cluster"):
        ReportData(after=np.zeros(3, dtype=np.int32))


def test_write_report(tmp_path):
    data = ReportData(island_counts=IslandCounts(started=2), run_info={"seed": 1})
    path = write_report(tmp_path / "out" / "report.html", data)
    assert path == tmp_path / "out" / "report.html"
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]  # no temporary file left
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "2 started" in text and "<td>1</td>" in text


def test_infeasible_result_is_flagged(full_data):
    bad = replace(full_data.evaluation_after, feasible=False)
    cards = _section(render_report(ReportData(evaluation_after=bad)), "summary")
    assert 'class="card alert"' in cards and "INFEASIBLE" in cards
    good = _section(render_report(ReportData(evaluation_after=full_data.evaluation_after)), "summary")
    assert "alert" not in good


def test_change_of_a_negative_term_keeps_its_sign():
    assert _change_cell(-100.0, -90.0) == '<td class="worse">+10 (+10.0 %)</td>'
    assert _change_cell(200.0, 150.0) == '<td class="better">-50 (-25.0 %)</td>'
    assert _change_cell(5.0, 5.0) == '<td class="">0</td>'
