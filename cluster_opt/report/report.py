"""``report.html``: one self-contained page per run (inline CSS and SVG, no scripts, no
network), readable offline and attachable to a ticket.

Sections, in order: key numbers, objective terms (value before and after, lower bound,
gap), rack utilisation heat maps, Pareto front, migration waves, islands' progress, run
details. A section whose data the run did not produce says so instead of disappearing.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from cluster_opt.evaluate import Evaluation
from cluster_opt.io.tables import write_atomic
from cluster_opt.report import aggregate, figures
from cluster_opt.report.data import ReportData


@dataclass(frozen=True)
class Section:
    """One part of the page: anchor id, heading and its HTML body."""

    id: str
    title: str
    body: str


def format_number(value: float | None) -> str:
    """Thousands separators; integers as integers; 4 significant digits below 1,000."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"


def format_gap(gap: float | None) -> str:
    return "—" if gap is None else f"{gap * 100:,.1f} %"


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    scale, unit = aggregate.time_unit(seconds)
    return f"{seconds / scale:,.1f} {unit}"


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _missing(what: str) -> str:
    return f'<p class="missing">Not available: {_esc(what)}</p>'


def _figure(name: str, fig: Figure, caption: str) -> str:
    return (
        f'<figure class="chart" data-figure="{name}">{figures.to_svg(fig, salt=name)}'
        f"<figcaption>{caption}</figcaption></figure>"
    )


# -- sections ------------------------------------------------------------------------------


def _cards(data: ReportData) -> str:
    """The key numbers of the run as a row of cards; an infeasible result's card is red."""
    cards: list[tuple[str, str, str, str]] = []  # label, value, detail, css class
    if data.cluster is not None:
        c = data.cluster
        racks = f"{c.n_vms:,} VMs in {len(c.topology.racks):,} racks"
        cards.append(("Cluster", f"{c.n_hosts:,} hosts", racks, "card"))
    before, after = data.evaluation_before, data.evaluation_after
    if after is not None:
        sub = "feasible" if after.feasible else "INFEASIBLE: hard constraints violated"
        if before is not None and before.score > 0:
            sub = f"{(after.score - before.score) / before.score * 100:+.1f} % vs before · {sub}"
        cards.append(
            ("Score after", format_number(after.score), sub, "card" if after.feasible else "card alert")
        )
    elif before is not None:
        sub = "feasible" if before.feasible else "infeasible"
        cards.append(("Score before", format_number(before.score), sub, "card"))
    plan = data.plan_summary
    if plan is not None:
        gb = f" · {format_number(plan.moved_gb)} GB" if plan.moved_gb is not None else ""
        sub = f"{figures.plural(plan.waves, 'wave')} · {format_seconds(plan.duration_s)}{gb}"
        cards.append(("Migrations", f"{plan.migrations:,}", sub, "card"))
    if data.island_counts is not None:
        ic = data.island_counts
        sub = f"{ic.lost:,} lost · {ic.restarted:,} restarted"
        cards.append(("Islands", f"{ic.started:,} started", sub, "card"))
    if data.duration_s is not None:
        cards.append(("Run time", format_seconds(data.duration_s), "wall clock", "card"))
    if not cards:
        return _missing("this run recorded no results.")
    items = "".join(
        f'<div class="{css}"><div class="label">{_esc(k)}</div><div class="value">{_esc(v)}</div>'
        f'<div class="sub">{_esc(sub)}</div></div>'
        for k, v, sub, css in cards
    )
    return f'<div class="cards">{items}</div>'


def _kind(ev: Evaluation, name: str) -> str:
    if ev.kinds[name] == "objective":
        return "objective"
    return ("hard" if ev.hard[name] else "soft") + " constraint"


def _change_cell(before: float | None, after: float | None) -> str:
    """After minus before, green when lower (better), red when higher, with the relative
    change when it is visible at 0.1 %."""
    if before is None or after is None:
        return "<td>—</td>"
    delta = after - before
    css = "better" if delta < 0 else "worse" if delta > 0 else ""
    text = ("+" if delta > 0 else "") + format_number(delta)
    if before and abs(delta / before) >= 5e-4:  # relative to |before|: the sign stays the delta's
        text += f" ({delta / abs(before) * 100:+.1f} %)"
    return f'<td class="{css}">{_esc(text)}</td>'


def _terms_table(before: Evaluation | None, after: Evaluation | None) -> str:
    """Every term: kind, unit, weight, value before and after, change, lower bound, gaps."""
    ref = after or before
    if ref is None:
        return _missing("no evaluation was recorded for this run.")
    head = (
        "<tr><th>term</th><th>kind</th><th>unit</th><th>weight</th><th>before</th><th>after</th>"
        "<th>change</th><th>lower bound</th><th>gap before</th><th>gap after</th></tr>"
    )
    rows = []
    for name in sorted(ref.values, key=lambda n: ref.kinds[n] != "constraint"):  # constraints first
        b = before.values.get(name) if before else None
        a = after.values.get(name) if after else None
        lb = ref.lower_bounds.get(name)
        weight = ref.weights[name]
        cells = [
            f'<th scope="row">{_esc(name)}</th>',
            f"<td>{_esc(_kind(ref, name))}</td>",
            f"<td>{_esc(ref.units.get(name, ''))}</td>",
            f"<td>{'off' if weight == 0 else _esc(format_number(weight))}</td>",
            f"<td>{_esc(format_number(b))}</td>",
            f"<td>{_esc(format_number(a))}</td>",
            _change_cell(b, a),
            f"<td>{_esc(format_number(lb))}</td>",
            f"<td>{_esc(format_gap(before.gaps.get(name) if before else None))}</td>",
            f"<td>{_esc(format_gap(after.gaps.get(name) if after else None))}</td>",
        ]
        shown = a if a is not None else b
        css = ' class="violated"' if ref.kinds[name] == "constraint" and (shown or 0) > 0 else ""
        rows.append(f"<tr{css}>{''.join(cells)}</tr>")
    score_cells = (
        '<th scope="row">score</th><td colspan="3">weighted sum of the enabled terms</td>'
        f"<td>{_esc(format_number(before.score if before else None))}</td>"
        f"<td>{_esc(format_number(after.score if after else None))}</td>"
        f"{_change_cell(before.score if before else None, after.score if after else None)}"
        '<td colspan="3"></td>'
    )
    rows.append(f'<tr class="total">{score_cells}</tr>')
    return (
        f'<div class="table-wrap"><table class="terms"><thead>{head}</thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        '<p class="note">Lower is better for every term. Constraints are amounts of violation '
        "(0 = satisfied). The gap is (value − lower bound) / lower bound, shown where the bound is "
        "positive; it bounds how much any placement could still improve that term alone.</p>"
    )


def _heatmap(data: ReportData) -> str:
    before = data.before_assignment
    if data.cluster is None or before is None:
        return _missing("the cluster snapshot was not passed to the report.")
    fig = figures.utilisation_heatmap(data.cluster, before, data.after)
    return _figure(
        "utilisation",
        fig,
        "Each cell is a rack: its load divided by its capacity, for the placement before the run "
        "(left) and the chosen one (right). Rows are zones, grouped by region (white lines "
        "between regions); grey cells are positions where the zone has no rack. Consolidation "
        "shows as racks turning empty (dark) while the others fill up.",
    )


def _pareto(data: ReportData) -> str:
    front = data.pareto
    if front is None or front.empty:
        return _missing("this run kept no Pareto front (single-objective search).")
    objectives = data.pareto_objectives or [
        c
        for c in front.columns
        if pd.api.types.is_numeric_dtype(front[c]) and not pd.api.types.is_bool_dtype(front[c])
    ]
    if not objectives:
        return _missing("the Pareto front has no numeric objective columns.")
    ref_eval = data.evaluation_after or data.evaluation_before
    units = ref_eval.units if ref_eval is not None else {}
    reference = data.evaluation_before.values if data.evaluation_before is not None else None
    fig = figures.pareto_figure(front, objectives, data.pareto_chosen, units, reference)
    shown = min(len(objectives), figures.MAX_PARETO_OBJECTIVES)
    extra = (
        f" Only the first {shown} of {len(objectives)} objectives are paired here."
        if len(objectives) > shown
        else ""
    )
    return _figure(
        "pareto",
        fig,
        "Every non-dominated solution the search kept, projected on each pair of objectives "
        "(lower is better on both axes). The red star is the solution the run chose; the grey "
        f"diamond is the placement before the run.{extra}",
    )


def _waves(data: ReportData) -> str:
    moves = data.moves
    if moves is None:
        return _missing("no migration plan was made in this run.")
    if moves.empty:
        return '<p class="missing">The plan moves no VM: the current placement is kept.</p>'
    return _figure(
        "waves",
        figures.waves_figure(moves),
        "Top: each wave from its first move's start to its last move's end, with its number of "
        "moves; a wave starts only when the previous one has finished. Bottom: VMs being migrated "
        "at the same time (peak per time slot).",
    )


def _islands(data: ReportData) -> str:
    progress = data.islands
    if progress is None or progress.empty:
        return _missing("no island progress was recorded (the search did not run on islands).")
    return _figure(
        "islands",
        figures.islands_figure(progress),
        "Best score found so far by each island (solid steps) and by all islands together "
        "(dashed). Flat stretches mean an island has stopped improving; an island whose line "
        "ends early was lost.",
    )


def _run_info(data: ReportData) -> str:
    info = dict(data.run_info)
    if data.snapshot:
        info = {"snapshot": data.snapshot, **info}
    if not info:
        return _missing("no run details were recorded.")
    rows = "".join(f'<tr><th scope="row">{_esc(k)}</th><td>{_esc(v)}</td></tr>' for k, v in info.items())
    return f'<div class="table-wrap"><table class="info"><tbody>{rows}</tbody></table></div>'


SECTIONS: tuple[tuple[str, str, Callable[[ReportData], str]], ...] = (
    ("summary", "Summary", _cards),
    ("terms", "Objective terms", lambda d: _terms_table(d.evaluation_before, d.evaluation_after)),
    ("utilisation", "Rack utilisation", _heatmap),
    ("pareto", "Pareto front", _pareto),
    ("waves", "Migration waves", _waves),
    ("islands", "Islands' progress", _islands),
    ("run", "Run details", _run_info),
)

#: Page colours: the figures' palette plus green/red for better and worse.
CSS_VARIABLES = (
    ":root { "
    + "".join(f"--{name}:{colour}; " for name, colour in figures.COLOURS.items())
    + "--good:#15803d; --bad:#b91c1c; --bg:#f8fafc; }"
)
CSS = (
    CSS_VARIABLES
    + """
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; }
header { background:#0f172a; color:#f8fafc; padding:20px 32px; }
header h1 { margin:0 0 4px; font-size:22px; font-weight:600; }
header .meta { color:#cbd5e1; font-size:13px; }
nav { position:sticky; top:0; z-index:1; background:#fff; border-bottom:1px solid var(--grid);
  padding:8px 32px; font-size:13px; }
nav a { color:var(--after); text-decoration:none; margin-right:18px; }
main { max-width:1180px; margin:0 auto; padding:8px 32px 48px; }
section { background:#fff; border:1px solid var(--grid); border-radius:8px; padding:16px 20px;
  margin:18px 0; }
h2 { margin:0 0 12px; font-size:17px; font-weight:600; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(190px,1fr)); gap:12px; }
.card { border:1px solid var(--grid); border-left:4px solid var(--after); border-radius:6px;
  padding:10px 14px; }
.card.alert { border-left-color:var(--bad); } .card.alert .sub { color:var(--bad); }
.card .label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card .value { font-size:22px; font-weight:600; font-variant-numeric:tabular-nums; }
.card .sub { color:var(--muted); font-size:12px; }
.table-wrap { overflow-x:auto; }
table { border-collapse:collapse; width:100%; font-size:12.5px; font-variant-numeric:tabular-nums; }
th, td { padding:4px 8px; border-bottom:1px solid var(--grid); text-align:right; white-space:nowrap; }
thead th { color:var(--muted); font-weight:600; border-bottom:2px solid var(--grid); }
th[scope=row], td:nth-child(2), td:nth-child(3), thead th:nth-child(-n+3) { text-align:left; }
table.info td { text-align:left; white-space:normal; word-break:break-all; }
tbody tr:nth-child(even) { background:#f9fafb; }
tr.violated th { color:var(--bad); }
tr.total { font-weight:600; border-top:2px solid var(--grid); }
td.better { color:var(--good); } td.worse { color:var(--bad); }
figure.chart { margin:0; }
figure.chart svg { display:block; max-width:100%; height:auto; margin:0 auto; }
figcaption, .note { color:var(--muted); font-size:12.5px; margin-top:8px; }
.missing { color:var(--muted); font-style:italic; margin:4px 0; }
footer { color:var(--muted); font-size:12px; text-align:center; padding:0 0 24px; }
"""
)


def render_report(data: ReportData) -> str:
    """The whole page as one HTML string. O(V + H) plus the size of the tables drawn."""
    sections = [Section(sid, title, build(data)) for sid, title, build in SECTIONS]
    nav = "".join(f'<a href="#{s.id}">{_esc(s.title)}</a>' for s in sections)
    body = "".join(
        f'<section id="{s.id}" data-section="{s.id}"><h2>{_esc(s.title)}</h2>{s.body}</section>'
        for s in sections
    )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = " · ".join(
        _esc(x) for x in (data.snapshot and f"snapshot {data.snapshot}", f"generated {stamp}") if x
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="icon" href="data:,"><title>{_esc(data.title)}</title><style>{CSS}</style></head>'
        f'<body><header><h1>{_esc(data.title)}</h1><div class="meta">{meta}</div></header>'
        f"<nav>{nav}</nav><main>{body}</main>"
        "<footer>cluster-opt · self-contained report: no network access is needed to view it</footer>"
        "</body></html>\n"
    )


def write_report(path: str | Path, data: ReportData) -> Path:
    """Write ``report.html`` (atomically: a reader never sees half a page) and return its path."""
    path = Path(path)
    page = render_report(data)
    write_atomic(path, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    path.chmod(0o644)
    return path
