"""The benchmark's before/after comparison (`make bench BEFORE_AFTER=lifecycle`): the "before" pipeline must
leave out exactly the lifecycle work and keep everything else, or its figures compare the wrong things.
The benchmark itself is run by hand (timings belong in docs/benchmarks.md, not in tests)."""

from __future__ import annotations

from pathlib import Path

from orchestration.bench import LIFECYCLE_WORK, model_names, ratio_text, steps

LIFECYCLE_MODELS = {
    "int_customer_months_spined", "int_customer_months_measured", "int_customer_stages_sequenced",
    "fct_customer_lifecycle_monthly", "fct_lifecycle_transitions", "fct_stage_durations",
    "fct_stage_duration_summary", "fct_early_warning", "fct_call_list", "dim_customers",
}
FOUNDATION_AND_VALUE_MODELS = {
    "base_crm__orders", "stg_crm__orders", "stg_crm__rejected_rows", "int_customer_cash_flows_monthly",
    "int_customer_purchase_summary", "fct_customer_clv", "fct_customer_value_tiers", "fct_value_pareto",
}


def test_the_lifecycle_selector_covers_the_lifecycle_models_and_nothing_of_the_foundation(
    clm_env: dict[str, str],
) -> None:
    excluded = set(model_names(LIFECYCLE_WORK, clm_env))
    assert LIFECYCLE_MODELS.issubset(excluded), LIFECYCLE_MODELS - excluded
    assert not FOUNDATION_AND_VALUE_MODELS & excluded
    # what is built on the stages (KPIs from monthly stages, stage x tier) goes with them
    assert {"fct_customer_kpi_monthly", "kpi_monthly", "fct_stage_tier_counts"}.issubset(excluded)


def test_every_dbt_step_after_staging_leaves_the_excluded_selector_out() -> None:
    before = {name: cmd for name, cmd, _ in steps(1, Path("landing"), generated=False, excluded=LIFECYCLE_WORK)}
    after = {name: cmd for name, cmd, _ in steps(1, Path("landing"), generated=False)}
    for name in ("dbt run before clv", "dbt run after clv", "dbt snapshot", "dbt test"):
        exclude_at = before[name].index("--exclude")
        assert LIFECYCLE_WORK in before[name][exclude_at:], name
        assert LIFECYCLE_WORK not in after[name], name
    for name in ("ingest", "dbt parse", "dbt seed", "dbt run staging"):
        assert before[name] == after[name], name
    assert list(before) == list(after)


def test_ratios_read_as_after_over_before() -> None:
    assert ratio_text(30.0, 10.0) == "×3.00"
    assert ratio_text(5.0, 10.0) == "×0.50"
    assert ratio_text(7.0, 0.0) == "new"
    assert ratio_text(0.0, 0.0) == "–"
