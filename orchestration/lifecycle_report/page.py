"""The lifecycle report as one self-contained HTML page: figures of the as-of month, then the charts.

Vega, Vega-Lite and Vega-Embed are inlined (`vega_script`, vl-convert's bundle: vega_bundle.py) with every
chart's data, so the page works from disk with no network. A chart that fails to render writes its error
into #report-errors, and each chart's container gets data-rendered="true" once drawn (what the browser
test reads)."""

from __future__ import annotations

import html
import json
from typing import Any

import altair as alt
import pandas as pd

from orchestration.lifecycle_report import charts
from orchestration.lifecycle_report.data import ReportData

STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", sans-serif; margin: 24px auto; max-width: 1000px; color: #222; }
h1 { margin-bottom: 4px; } .subtitle { color: #666; margin-top: 0; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 12px; margin: 18px 0; }
.tile { border: 1px solid #ddd; border-radius: 8px; padding: 10px 12px; }
.tile .value { font-size: 24px; font-weight: 600; } .tile .name { color: #666; font-size: 13px; }
section { margin: 28px 0; } section p { color: #555; max-width: 780px; }
#report-errors:empty { display: none; } #report-errors { color: #b00; white-space: pre-wrap; }
"""


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _tiles(business: dict[str, Any], rejected_rows: int | None, labels: dict[str, str]) -> list[tuple[str, str, str]]:
    """(figure id, name, shown value) of the headline figures; stages by their framework labels."""
    quick = business["quick_ratio"]
    tiles = [
        ("active_customers", "active customers", f"{business['active_customers'] or 0:,}"),
        ("churn_rate", "churn rate (month)", _percent(business["churn_rate"])),
        ("quick_ratio", "quick ratio", "n/a" if quick is None else f"{quick:.2f}"),
        (
            "top_20_percent_profit_share",
            "top 20% share of lifetime profit",
            _percent(business["top_20_percent_profit_share"]),
        ),
        ("call_list", "customers on the call list", f"{sum(business['call_list_by_priority'].values()):,}"),
    ]
    tiles += [
        (f"stage_{stage}", f"{labels.get(stage, stage)} ({stage})", f"{n:,}")
        for stage, n in business["customers_per_stage"].items()
    ]
    if rejected_rows is not None:
        tiles.append(("rejected_rows", "rejected raw rows (kept, with a reason)", f"{rejected_rows:,}"))
    return tiles


def _sections(data: ReportData, rejected: list[dict[str, Any]]) -> list[tuple[str, str, Any]]:
    f = data.frames
    reasons: dict[str, int] = {}
    for item in rejected:  # per table and reason: the chart shows reasons
        reasons[item["reason"]] = reasons.get(item["reason"], 0) + item["rows"]
    rejected_frame = pd.DataFrame({"reason": list(reasons), "customers": list(reasons.values())})
    return [
        (
            "Customers per lifecycle stage",
            "Each month's customers by stage (month-end evaluation).",
            charts.stages_over_time(f["stages_over_time"]),
        ),
        (
            f"Transitions in {data.as_of_month}",
            "Customers moving from last month's stage (rows) to this month's.",
            charts.transition_matrix(f["transitions"], charts.stage_order(f["stages_over_time"])),
        ),
        (
            "Growth accounting",
            "New and resurrected customers against churned ones; the line is the quick ratio.",
            charts.growth_accounting(f["growth"]),
        ),
        (
            "Cohort retention",
            "Share of each acquisition cohort still active, by months since acquisition.",
            charts.cohort_heatmap(f["cohort_retention"]),
        ),
        (
            "Survival by cohort",
            "Kaplan–Meier share of customers not yet churned; black: all cohorts pooled.",
            charts.survival_curves(f["survival"]),
        ),
        (
            "Pareto curve and 20/60/20 tiers",
            "Customers ranked by value; dashed lines are the tier cut points.",
            charts.pareto_curve(f["pareto"], f["tier_summary"]),
        ),
        (
            "Historical CLV by tier",
            "Box: quartiles and median; whiskers: 5th to 95th percentile.",
            charts.clv_by_tier(f["clv_by_tier"]),
        ),
        ("Stage × tier", "Customers by current stage and value tier.", charts.stage_tier_heatmap(f["stage_tier"])),
        (
            "CLV model check: holdout by purchase frequency",
            "The BG/NBD model fitted without the last clv_holdout_days of data, against what customers then "
            "did: mean purchase days in that holdout, per number of repeat purchase days before it.",
            charts.holdout_by_frequency(f["holdout_by_frequency"]),
        ),
        (
            "CLV model check: cumulative repeat purchases",
            "Repeat purchase days of the same customers, predicted by the calibration fit and actual; "
            "the dashed line is the end of the calibration period.",
            charts.holdout_tracking(f["holdout_tracking"]),
        ),
        (
            "Early-warning reasons",
            "Customers flagged, per reason (a customer can have several).",
            charts.counts_bar(f["warning_reasons"], "reason", "customers flagged", "#e45756"),
        ),
        (
            "Call list by priority",
            "Customers to call, by priority (1 = first).",
            charts.counts_bar(f["call_list"].astype({"priority": str}), "priority", "customers"),
        ),
        (
            "Rejected rows per reason",
            "Raw rows kept out of staging, by reason code (staging.stg_crm__rejected_rows).",
            charts.counts_bar(rejected_frame, "reason", "rows", "#9d755d"),
        ),
    ]


def render_page(
    data: ReportData, business: dict[str, Any], rejected: list[dict[str, Any]], version: str, vega_script: str
) -> str:
    alt.data_transformers.disable_max_rows()  # every chart's data is already an aggregate
    stages = data.frames["stages_over_time"]
    labels = dict(zip(stages["stage_code"], stages["label_zh"] + " " + stages["label_en"], strict=False))
    tiles = _tiles(business, sum(item["rows"] for item in rejected), labels)
    sections = _sections(data, rejected)
    specs = [charts.spec(chart) for _, _, chart in sections]
    tile_html = "".join(
        f'<div class="tile"><div class="value" data-figure="{key}">{html.escape(value)}</div>'
        f'<div class="name">{html.escape(name)}</div></div>'
        for key, name, value in tiles
    )
    section_html = "".join(
        f'<section><h2>{html.escape(title)}</h2><p>{html.escape(text)}</p><div class="chart" id="chart-{i}"></div>'
        f"</section>"
        for i, (title, text, _) in enumerate(sections)
    )
    embed = (
        "const specs = " + json.dumps(specs).replace("</", "<\\/") + ";\n"
        "const errors = document.getElementById('report-errors');\n"
        "window.addEventListener('error', (e) => { errors.textContent += String(e.message) + '\\n'; });\n"
        "specs.forEach((spec, i) => {\n"
        "  const el = document.getElementById('chart-' + i);\n"
        "  vegaEmbed(el, spec, {renderer: 'svg', actions: false})\n"
        "    .then(() => { el.dataset.rendered = 'true'; })\n"
        "    .catch((err) => { errors.textContent += 'chart ' + i + ': ' + err + '\\n'; });\n"
        "});\n"
    )
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>Customer lifecycle report {data.as_of_month}</title><style>{STYLE}</style></head><body>"
        f"<h1>Customer lifecycle report · 客户生命周期报告</h1>"
        f'<p class="subtitle">as-of month <span data-figure="as_of_month">{data.as_of_month}</span> · '
        f"published version {html.escape(version)}</p>"
        f'<div id="report-errors"></div><div class="tiles">{tile_html}</div>{section_html}'
        f'<script type="module">{vega_script}</script>'
        f'<script type="module">{embed}</script></body></html>\n'
    )
