"""The figures of the lifecycle report, read from the published serving file (so the page shows exactly
the version it is published with). Each query returns a small frame: aggregates, never customer rows
(the Pareto curve is thinned to at most PARETO_POINTS points)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

PARETO_POINTS = 400
REPORTED_MARTS = (
    "fct_customer_lifecycle_monthly",
    "fct_lifecycle_transitions",
    "kpi_monthly",
    "fct_cohort_retention",
    "fct_cohort_survival",
    "fct_value_pareto",
    "fct_value_tier_summary",
    "fct_customer_value_tiers",
    "fct_stage_tier_counts",
    "fct_early_warning",
    "fct_call_list",
    "fct_clv_holdout_by_frequency",
    "fct_clv_holdout_tracking",
)

QUERIES = {
    "stages_over_time": """
        select month_start_date as month, stage_code, any_value(stage_label_en) as label_en,
               any_value(stage_label_zh) as label_zh, min(stage_sort_order) as sort_order, count(*) as customers
        from marts.fct_customer_lifecycle_monthly group by month_start_date, stage_code""",
    "transitions": """
        select coalesce(from_stage_label_zh || ' ' || from_stage_label_en, '(new record)') as from_stage,
               to_stage_label_zh || ' ' || to_stage_label_en as to_stage, sum(customers) as customers
        from marts.fct_lifecycle_transitions where month_start_date = '{as_of}'
        group by all""",
    "growth": """
        select month_start_date as month, new_customers, resurrected_customers, retained_customers,
               churned_customers, active_customers, quick_ratio, churn_rate
        from marts.kpi_monthly where dimension_name = 'overall' order by month_start_date""",
    "cohort_retention": """
        select acquisition_month_start_date as cohort, months_since_acquisition as months_since,
               cohort_size, active_share, purchasing_share
        from marts.fct_cohort_retention""",
    "survival": """
        select cohort_key as cohort, is_pooled, months_since_acquisition as months_since, survival_probability
        from marts.fct_cohort_survival""",
    "pareto": """
        with numbered as (select *, max(value_rank) over () as n from marts.fct_value_pareto)
        select value_rank, value_tier, cumulative_customer_share, cumulative_profit_share from numbered
        where value_rank = 1 or value_rank = n or value_rank % greatest(1, n // {points}) = 0
        order by value_rank""",
    "tier_summary": """
        select value_tier, tier_label_en, tier_label_zh, customers, customer_share, lifetime_profit_share
        from marts.fct_value_tier_summary where tiering = 'historical' order by value_tier""",
    "clv_by_tier": """
        select value_tier, count(*) as customers,
               quantile_cont(historical_clv, 0.05) as p05, quantile_cont(historical_clv, 0.25) as q1,
               quantile_cont(historical_clv, 0.5) as median, quantile_cont(historical_clv, 0.75) as q3,
               quantile_cont(historical_clv, 0.95) as p95
        from marts.fct_customer_value_tiers group by value_tier order by value_tier""",
    "stage_tier": """
        select counts.stage_code, stages.label, stages.sort_order, counts.value_tier, counts.customers
        from marts.fct_stage_tier_counts as counts
        left join (
            select stage_code, any_value(stage_label_zh || ' ' || stage_label_en) as label,
                   min(stage_sort_order) as sort_order
            from marts.fct_customer_lifecycle_monthly where month_start_date = '{as_of}' group by stage_code
        ) as stages on counts.stage_code = stages.stage_code""",
    "warning_reasons": """
        select reason, count(*) as customers
        from (select unnest(string_split(reason_codes, '|')) as reason from marts.fct_early_warning)
        where reason <> '' group by reason order by customers desc""",
    "call_list": """
        select priority, count(*) as customers from marts.fct_call_list group by priority order by priority""",
    "holdout_by_frequency": """
        select frequency_bin_order, frequency_bin, customers, mean_predicted_holdout_purchases,
               mean_actual_holdout_purchases
        from marts.fct_clv_holdout_by_frequency order by frequency_bin_order""",
    "holdout_tracking": """
        select week_end_date, period, actual_cumulative_repeat_purchases, predicted_cumulative_repeat_purchases
        from marts.fct_clv_holdout_tracking order by week_end_date""",
}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return value


@dataclass
class ReportData:
    as_of_month: str
    frames: dict[str, pd.DataFrame]


def read_report_data(connection: Any) -> ReportData:
    """Run every query on an open (read-only) connection to the serving file."""
    as_of = connection.execute("select max(month_start_date) from marts.fct_customer_lifecycle_monthly").fetchone()[0]
    as_of_text = str(as_of)[:10]
    frames = {}
    for name, sql in QUERIES.items():
        frame = connection.execute(sql.format(as_of=as_of_text, points=PARETO_POINTS)).df()
        frames[name] = frame.map(_plain) if len(frame) else frame
    return ReportData(as_of_month=as_of_text[:7], frames=frames)
