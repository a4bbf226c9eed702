"""The report's charts as Vega-Lite specifications (altair), one function per chart. Stage labels come
from the data (the lifecycle_framework's Chinese and English labels), tiers are A/B/C (20/60/20)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

WIDTH = 620
TIER_COLORS = alt.Scale(domain=["A", "B", "C"], range=["#1b7837", "#7fbf7b", "#d9d9d9"])


def _stage_label(frame: pd.DataFrame) -> pd.Series:
    return frame["label_zh"] + " " + frame["label_en"]


def stages_over_time(frame: pd.DataFrame) -> alt.Chart:
    data = frame.assign(stage=_stage_label(frame))
    order = data.sort_values("sort_order")["stage"].drop_duplicates().tolist()
    return (
        alt.Chart(data)
        .mark_area()
        .encode(
            x=alt.X("month:T", title="month"),
            y=alt.Y("customers:Q", stack=True, title="customers"),
            color=alt.Color("stage:N", sort=order, title="stage", scale=alt.Scale(scheme="tableau10")),
            order=alt.Order("sort_order:Q"),
            tooltip=["month:T", "stage:N", alt.Tooltip("customers:Q", format=",")],
        )
        .properties(width=WIDTH, height=260)
    )


def stage_order(stages_over_time: pd.DataFrame) -> list[str]:
    """Stage labels in the framework's order (stage_sort_order)."""
    ordered = stages_over_time.sort_values("sort_order")
    return (ordered["label_zh"] + " " + ordered["label_en"]).drop_duplicates().tolist()


def transition_matrix(frame: pd.DataFrame, order: list[str]) -> alt.LayerChart:
    base = alt.Chart(frame).encode(
        x=alt.X("to_stage:N", sort=order, title="to stage (as-of month)"),
        y=alt.Y("from_stage:N", sort=["(new record)", *order], title="from stage"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("customers:Q", scale=alt.Scale(scheme="blues", type="sqrt"), title="customers"),
        tooltip=["from_stage:N", "to_stage:N", alt.Tooltip("customers:Q", format=",")],
    )
    text = base.mark_text(fontSize=11).encode(text=alt.Text("customers:Q", format=","))
    return (cells + text).properties(width=WIDTH - 120, height=260)


def growth_accounting(frame: pd.DataFrame) -> alt.LayerChart:
    flows = frame.melt(
        id_vars=["month"],
        value_vars=["new_customers", "resurrected_customers", "churned_customers"],
        var_name="flow",
        value_name="customers",
    )
    flows.loc[flows["flow"] == "churned_customers", "customers"] *= -1
    bars = (
        alt.Chart(flows)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):T", title="month"),
            y=alt.Y("customers:Q", title="customers gained (+) and churned (−)"),
            color=alt.Color(
                "flow:N",
                scale=alt.Scale(
                    domain=["new_customers", "resurrected_customers", "churned_customers"],
                    range=["#4c78a8", "#72b7b2", "#e45756"],
                ),
                title="flow",
            ),
            tooltip=["yearmonth(month):T", "flow:N", alt.Tooltip("customers:Q", format=",")],
        )
    )
    # the first months' ratios (few churned customers yet) are huge: the axis shows the usual range
    top = max(4.0, float(frame["quick_ratio"].quantile(0.8))) if frame["quick_ratio"].notna().any() else 4.0
    ratio = (
        alt.Chart(frame)
        .mark_line(color="#333", point=True, clip=True)
        .encode(
            x="yearmonth(month):T",
            y=alt.Y(
                "quick_ratio:Q",
                title="quick ratio (new + resurrected) / churned",
                scale=alt.Scale(domain=[0, round(top, 1)], clamp=True),
            ),
            tooltip=["yearmonth(month):T", alt.Tooltip("quick_ratio:Q", format=".2f")],
        )
    )
    return alt.layer(bars, ratio).resolve_scale(y="independent").properties(width=WIDTH, height=260)


def cohort_heatmap(frame: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("months_since:O", title="months since acquisition"),
            y=alt.Y("yearmonth(cohort):O", title="acquisition cohort"),
            color=alt.Color("active_share:Q", scale=alt.Scale(scheme="greens", domain=[0, 1]), title="active share"),
            tooltip=[
                "yearmonth(cohort):O",
                "months_since:O",
                alt.Tooltip("cohort_size:Q", format=","),
                alt.Tooltip("active_share:Q", format=".1%"),
                alt.Tooltip("purchasing_share:Q", format=".1%"),
            ],
        )
        .properties(width=WIDTH, height=340)
    )


def survival_curves(frame: pd.DataFrame) -> alt.LayerChart:
    cohorts = (
        alt.Chart(frame[~frame["is_pooled"]])
        .mark_line(strokeWidth=1, opacity=0.45, interpolate="step-after")
        .encode(
            x=alt.X("months_since:Q", title="months since acquisition"),
            y=alt.Y("survival_probability:Q", title="share not churned (Kaplan–Meier)", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("cohort:N", legend=None, scale=alt.Scale(scheme="viridis")),
            tooltip=["cohort:N", "months_since:Q", alt.Tooltip("survival_probability:Q", format=".1%")],
        )
    )
    pooled = (
        alt.Chart(frame[frame["is_pooled"]])
        .mark_line(strokeWidth=3, color="#000", interpolate="step-after")
        .encode(x="months_since:Q", y="survival_probability:Q", tooltip=["cohort:N", "survival_probability:Q"])
    )
    return (cohorts + pooled).properties(width=WIDTH, height=260)


def pareto_curve(frame: pd.DataFrame, tiers: pd.DataFrame) -> alt.LayerChart:
    curve = (
        alt.Chart(frame)
        .mark_line(color="#1b7837")
        .encode(
            x=alt.X(
                "cumulative_customer_share:Q", title="share of customers (by value rank)", axis=alt.Axis(format="%")
            ),
            y=alt.Y(
                "cumulative_profit_share:Q", title="cumulative share of lifetime profit", axis=alt.Axis(format="%")
            ),
            tooltip=["value_rank:Q", "value_tier:N", alt.Tooltip("cumulative_profit_share:Q", format=".1%")],
        )
    )
    cuts = tiers.assign(cut=tiers["customer_share"].cumsum()).iloc[:-1]
    rules = alt.Chart(cuts).mark_rule(strokeDash=[4, 4], color="#666").encode(x="cut:Q")
    shares = tiers.assign(
        middle=tiers["customer_share"].cumsum() - tiers["customer_share"] / 2,
        text=tiers["value_tier"] + ": " + (tiers["lifetime_profit_share"] * 100).round(1).astype(str) + "% of profit",
    )
    labels = alt.Chart(shares).mark_text(dy=-6, fontSize=11).encode(x="middle:Q", y=alt.value(12), text="text:N")
    return (curve + rules + labels).properties(width=WIDTH, height=260)


def clv_by_tier(frame: pd.DataFrame) -> alt.LayerChart:
    base = alt.Chart(frame).encode(y=alt.Y("value_tier:N", title="value tier"))
    whisker = base.mark_rule().encode(
        x=alt.X("p05:Q", title="historical CLV (5th–95th percentile, quartiles)"), x2="p95:Q"
    )
    box = base.mark_bar(size=16).encode(
        x="q1:Q",
        x2="q3:Q",
        color=alt.Color("value_tier:N", scale=TIER_COLORS, legend=None),
        tooltip=["value_tier:N", alt.Tooltip("customers:Q", format=","), "p05:Q", "q1:Q", "median:Q", "q3:Q", "p95:Q"],
    )
    median = base.mark_tick(color="#000", size=16, thickness=2).encode(x="median:Q")
    return (whisker + box + median).properties(width=WIDTH, height=150)


def stage_tier_heatmap(frame: pd.DataFrame) -> alt.LayerChart:
    data = frame.assign(stage=frame["label"].fillna(frame["stage_code"]))
    order = data.sort_values("sort_order")["stage"].drop_duplicates().tolist()
    base = alt.Chart(data).encode(
        x=alt.X("value_tier:N", title="value tier"), y=alt.Y("stage:N", sort=order, title="stage")
    )
    cells = base.mark_rect().encode(
        color=alt.Color("customers:Q", scale=alt.Scale(scheme="purples"), title="customers"),
        tooltip=["stage:N", "value_tier:N", alt.Tooltip("customers:Q", format=",")],
    )
    return (cells + base.mark_text().encode(text=alt.Text("customers:Q", format=","))).properties(width=300, height=240)


def counts_bar(frame: pd.DataFrame, category: str, title: str, color: str = "#4c78a8") -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_bar(color=color)
        .encode(
            x=alt.X("customers:Q", title=title),
            y=alt.Y(f"{category}:N", sort="-x", title=None),
            tooltip=[f"{category}:N", alt.Tooltip("customers:Q", format=",")],
        )
        .properties(width=WIDTH - 120, height=alt.Step(22))
    )


def _predicted_vs_actual(frame: pd.DataFrame, key: str, predicted: str, actual: str) -> pd.DataFrame:
    return frame.melt(
        id_vars=[key], value_vars=[predicted, actual], var_name="series", value_name="purchases"
    ).replace({"series": {predicted: "predicted (calibration fit)", actual: "actual"}})


def holdout_by_frequency(frame: pd.DataFrame) -> alt.Chart:
    """Mean holdout purchases per calibration-frequency bin, predicted and actual side by side."""
    data = _predicted_vs_actual(
        frame, "frequency_bin", "mean_predicted_holdout_purchases", "mean_actual_holdout_purchases"
    )
    order = frame["frequency_bin"].tolist()
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("frequency_bin:N", sort=order, title="repeat purchase days in the calibration period"),
            xOffset=alt.XOffset("series:N"),
            y=alt.Y("purchases:Q", title="mean purchase days in the holdout"),
            color=alt.Color("series:N", scale=alt.Scale(range=["#4c78a8", "#f58518"]), title=None),
            tooltip=["frequency_bin:N", "series:N", alt.Tooltip("purchases:Q", format=".2f")],
        )
        .properties(width=WIDTH, height=240)
    )


def holdout_tracking(frame: pd.DataFrame) -> alt.LayerChart:
    """Cumulative repeat purchases, predicted vs actual; the rule marks the calibration end."""
    data = _predicted_vs_actual(
        frame, "week_end_date", "predicted_cumulative_repeat_purchases", "actual_cumulative_repeat_purchases"
    )
    lines = (
        alt.Chart(data)
        .mark_line()
        .encode(
            x=alt.X("week_end_date:T", title="week"),
            y=alt.Y("purchases:Q", title="cumulative repeat purchase days"),
            color=alt.Color("series:N", scale=alt.Scale(range=["#4c78a8", "#f58518"]), title=None),
            strokeDash=alt.StrokeDash("series:N", legend=None),
            tooltip=["week_end_date:T", "series:N", alt.Tooltip("purchases:Q", format=",.0f")],
        )
    )
    calibration = frame[frame["period"] == "calibration"]
    boundary = calibration["week_end_date"].tail(1).to_frame()
    rule = alt.Chart(boundary).mark_rule(strokeDash=[4, 4], color="#666").encode(x="week_end_date:T")
    return (lines + rule).properties(width=WIDTH, height=260)


def spec(chart: Any) -> dict[str, Any]:
    return chart.to_dict()
