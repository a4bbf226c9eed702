{#-
    The monthly lifecycle snapshot fact (DOMAIN.md §4): one row per customer per month from the
    customer's creation to the as-of month. The whole history is recomputed set-based upstream
    (int_customer_stages_sequenced: the dynamics are path-dependent; read with the month's measures
    through int_customer_lifecycle_months), so this model only decides
    which rows to (re)write:
      - full refresh: every month;
      - incremental on DuckDB and PostgreSQL: every month of the customers whose inputs changed since
        the last run (late data, however old), and every customer's months from the as-of month of the
        last run on, like every incremental customer-month model (macros/incremental/customer_months.sql:
        a row depends only on its customer's data up to its evaluation date). The scope filters the
        measures and the stages before they are joined (macros/lifecycle/lifecycle_months.sql), so a
        daily run reads about one month per customer, not every month;
      - incremental on Spark: the last var lifecycle_lookback_months months and any newer ones, by month
        partition (insert_overwrite; late data older than that: backfill);
      - backfill (vars lifecycle_backfill_start_month / _end_month set): exactly those months.
    Months are replaced whole on a backfill and on Spark (delete+insert on the month, insert_overwrite
    of the month partition), so a rewritten month never keeps stale rows; the rows of a changed
    customer are deleted whole before they are written again.
    Changing lifecycle_framework (labels) needs a full refresh.
-#}

{%- set by_customer = target.type != 'spark' and var('lifecycle_backfill_start_month') is none %}

{{ config(
    materialized='incremental',
    incremental_strategy=(
        'insert_overwrite' if target.type == 'spark' else ('append' if by_customer else 'delete+insert')
    ),
    unique_key=(none if target.type == 'spark' or by_customer else 'month_start_date'),
    partition_by=(['month_start_date'] if target.type == 'spark' else none),
    file_format=('parquet' if target.type == 'spark' else none),
    pre_hook=(["{{ delete_customer_months_in_scope() }}"] if by_customer else []),
    post_hook=(["{{ record_customer_months_watermark() }}"] if by_customer else []),
    on_schema_change='fail',
) }}

-- depends_on: {{ ref('int_customer_change_stamps') }}
-- depends_on: {{ ref('int_customer_months_measured') }}, {{ ref('int_customer_stages_sequenced') }}
-- depends_on: {{ ref('int_as_of_dates') }}

with

stages as (

    {#- the changed customers and the recent months, filtered on each side before the join -#}
    {%- if by_customer and is_incremental() %}
    select * from ({{ lifecycle_months(rows_where=customer_month_in_scope()) }}) as lifecycle_months
    {%- else %}
    select * from {{ ref('int_customer_lifecycle_months') }}
    {%- endif %}

),

framework_labels as (

    select * from {{ ref('lifecycle_framework_labels') }}
    where framework = '{{ var("lifecycle_framework") }}'

),

stages_in_scope as (

    select * from stages
    {% if is_incremental() -%}
    {%- if var('lifecycle_backfill_start_month') is not none %}
    where
        month_start_date >= cast('{{ var("lifecycle_backfill_start_month") }}' as date)
        and month_start_date <= cast('{{ var("lifecycle_backfill_end_month") }}' as date)
    {%- elif not by_customer %}
    where month_start_date > (
        select
            cast({{ dbt.dateadd('month', -var('lifecycle_lookback_months'), 'max(month_start_date)') }} as date)
        from {{ this }}
    )
    {%- endif %}
    {%- endif %}

),

final as (

    select
        stages_in_scope.customer_id,
        stages_in_scope.month_start_date,
        stages_in_scope.month_end_date,
        stages_in_scope.evaluation_date,
        stages_in_scope.period_number,

        -- stage
        stages_in_scope.stage_code,
        framework_labels.label_en as stage_label_en,
        framework_labels.label_zh as stage_label_zh,
        framework_labels.sort_order as stage_sort_order,
        stages_in_scope.previous_stage_code,
        stages_in_scope.rule_stage_code,
        stages_in_scope.months_in_stage,
        stages_in_scope.stage_started_date,
        {{ dbt.datediff(
            'stages_in_scope.stage_started_date', 'stages_in_scope.evaluation_date', 'day'
        ) }} + 1 as days_in_stage,
        stages_in_scope.prospect_status,

        -- measures that drove the rule
        stages_in_scope.first_order_date,
        stages_in_scope.last_order_date,
        stages_in_scope.purchase_days_to_date,
        stages_in_scope.completed_orders_to_date,
        stages_in_scope.purchase_days_12m,
        stages_in_scope.tenure_days,
        stages_in_scope.days_since_last_order,
        stages_in_scope.median_gap_days,
        stages_in_scope.decline_gap_threshold_days,
        stages_in_scope.churn_gap_threshold_days,
        stages_in_scope.trailing_net_spend_amount,
        stages_in_scope.baseline_net_spend_amount,
        stages_in_scope.is_overdue,
        stages_in_scope.is_spend_drop,
        stages_in_scope.is_churn_gap,
        stages_in_scope.is_account_closed,

        -- the month's activity
        stages_in_scope.completed_orders,
        stages_in_scope.purchase_days,
        stages_in_scope.returned_orders,
        stages_in_scope.net_spend_amount,
        stages_in_scope.margin_amount,
        stages_in_scope.calls,
        stages_in_scope.answered_calls,
        stages_in_scope.follow_up_calls,
        stages_in_scope.complaints,
        stages_in_scope.severe_complaints,
        stages_in_scope.average_satisfaction_score
    from stages_in_scope
    left join framework_labels
        on stages_in_scope.stage_code = framework_labels.stage_code

)

select * from final
