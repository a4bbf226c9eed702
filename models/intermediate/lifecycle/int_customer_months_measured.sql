{#-
    Everything the stage rule of DOMAIN.md §4 looks at, measured for each customer at each period
    end (evaluation_date: the month-end, or the as-of date for the current month), and the raw rule
    stage those measures give before the path-dependent dynamics (int_customer_stages_sequenced).

    Purchases are counted as distinct purchase days of completed orders: several orders on one day
    are one purchase occasion (the same definition the BG/NBD summary uses), so cadence, "two or more
    completed orders" and "orders in the trailing 12 months" cannot be inflated by split baskets.
    A returned order is not completed (staging keeps its latest status), so it never counts.
    Incremental: the months of changed customers and the recent months (macros/incremental/customer_months.sql).
-#}

{{ config(**customer_month_model_config()) }}

-- depends_on: {{ ref('int_customer_change_stamps') }}

{%- set spend_window_days = var('decline_spend_window_days') %}
{%- set replays_every_customer = customer_months_rebuild() != 'changed' %}

with

customer_months as (

    select * from {{ ref('int_customer_months_spined') }}
    where {{ customer_month_in_scope() }}

),

month_evaluations as (

    -- the three columns the window joins need, read on their own: a CTE that two passes share is
    -- materialized whole (every activity column of every customer-month) before either pass runs
    select
        customer_id,
        month_start_date,
        evaluation_date
    from {{ ref('int_customer_months_spined') }}
    where {{ customer_month_in_scope() }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

purchase_gaps as (

    -- the customer's own cadence: days between consecutive distinct purchase days (day_number 1, 2, ...)
    select
        customer_id,
        purchase_date,
        completed_orders,
        day_net_spend as net_spend_amount,
        purchase_day_number as day_number,
        gap_days
    from {{ ref('int_customer_purchase_days') }}

),

month_windows as (

    select
        customer_id,
        month_start_date,
        evaluation_date,
        cast({{ dbt.dateadd('month', -12, 'evaluation_date') }} as date) as trailing_12m_start_date,
        cast(
            {{ dbt.dateadd('day', -spend_window_days, 'evaluation_date') }} as date
        ) as spend_window_start_date
    from month_evaluations

),

month_windows_with_baseline as (

    select
        *,
        cast(
            {{ dbt.dateadd('month', -var('decline_baseline_months'), 'spend_window_start_date') }} as date
        ) as baseline_window_start_date
    from month_windows

),

purchases_to_date_totals as (

    -- windows are half-open: (start, end], so a 90-day window holds exactly 90 calendar days. Plain
    -- aggregates only (the median comes from the latest purchase day), so the join streams
    select
        month_windows_with_baseline.customer_id,
        month_windows_with_baseline.month_start_date,
        min(month_windows_with_baseline.spend_window_start_date) as spend_window_start_date,
        min(month_windows_with_baseline.baseline_window_start_date) as baseline_window_start_date,
        min(purchase_gaps.purchase_date) as first_order_date,
        max(purchase_gaps.purchase_date) as last_order_date,
        count(purchase_gaps.purchase_date) as purchase_days_to_date,
        coalesce({{ whole_number_sum('purchase_gaps.completed_orders') }}, 0) as completed_orders_to_date,
        count(
            case
                when purchase_gaps.purchase_date > month_windows_with_baseline.trailing_12m_start_date
                    then 1
            end
        ) as purchase_days_12m,
        coalesce(sum(
            case
                when purchase_gaps.purchase_date > month_windows_with_baseline.spend_window_start_date
                    then purchase_gaps.net_spend_amount
                else 0
            end
        ), 0) as trailing_net_spend_amount,
        coalesce(sum(
            case
                when
                    purchase_gaps.purchase_date > month_windows_with_baseline.baseline_window_start_date
                    and purchase_gaps.purchase_date <= month_windows_with_baseline.spend_window_start_date
                    then purchase_gaps.net_spend_amount
                else 0
            end
        ), 0) as baseline_window_net_spend_amount
    from month_windows_with_baseline
    left join purchase_gaps
        on
            month_windows_with_baseline.customer_id = purchase_gaps.customer_id
            and purchase_gaps.purchase_date <= month_windows_with_baseline.evaluation_date
    group by 1, 2

),

replayed_customer_gaps as (

    select * from purchase_gaps
    where {{ customer_whole_in_scope() }}

),

replayed_customer_medians as (

    -- a customer recomputed from the first month: the median gap of the history up to each purchase day,
    -- computed once per purchase day (not per month); a month reads it from its latest purchase day
    {{ running_median_gap_days('replayed_customer_gaps') }}

),

{%- if not replays_every_customer %}

recent_month_medians as (

    -- everyone else recomputes only the recent months (an incremental run): the median of the gaps up
    -- to the latest purchase day of each such month, one aggregate per month instead of a running
    -- window over every customer's whole history. The same median (percentile_cont interpolates as
    -- the running one does)
    select
        latest_days.customer_id,
        latest_days.day_number,
        percentile_cont(0.5) within group (order by purchase_gaps.gap_days) as median_gap_days
    from (
        select distinct
            customer_id,
            purchase_days_to_date as day_number
        from purchases_to_date_totals
        where not ({{ customer_whole_in_scope() }})
    ) as latest_days
    inner join purchase_gaps
        on
            latest_days.customer_id = purchase_gaps.customer_id
            and purchase_gaps.day_number <= latest_days.day_number
    group by 1, 2

),
{%- endif %}

purchase_day_medians as (

    select * from replayed_customer_medians
    {%- if not replays_every_customer %}
    union all
    select * from recent_month_medians
    {%- endif %}

),

purchases_to_date as (

    -- the latest purchase day up to the period end is the purchase_days_to_date-th one
    select
        purchase_to_date_totals.*,
        purchase_day_medians.median_gap_days
    from purchases_to_date_totals as purchase_to_date_totals
    left join purchase_day_medians
        on
            purchase_to_date_totals.customer_id = purchase_day_medians.customer_id
            and purchase_to_date_totals.purchase_days_to_date = purchase_day_medians.day_number

),

measured as (

    select
        customer_months.*,
        customers.closed_date,
        purchases_to_date.first_order_date,
        purchases_to_date.last_order_date,
        purchases_to_date.purchase_days_to_date,
        purchases_to_date.completed_orders_to_date,
        purchases_to_date.purchase_days_12m,
        cast(purchases_to_date.trailing_net_spend_amount as {{ money_type() }}) as trailing_net_spend_amount,
        purchases_to_date.median_gap_days,
        -- tenure of the buying relationship (from the first completed order), not of the CRM record
        {{ dbt.datediff('purchases_to_date.first_order_date', 'customer_months.evaluation_date', 'day') }}
            as tenure_days,
        {{ dbt.datediff('purchases_to_date.last_order_date', 'customer_months.evaluation_date', 'day') }}
            as days_since_last_order,
        -- days of the baseline window on or after the first purchase: a customer with less history
        -- is averaged over what there is, and has no baseline before one full spend window of it
        {{ dbt.datediff(
            'case when purchases_to_date.baseline_window_start_date >= purchases_to_date.first_order_date'
            ~ ' then purchases_to_date.baseline_window_start_date'
            ~ ' else ' ~ dbt.dateadd('day', -1, 'purchases_to_date.first_order_date') ~ ' end',
            'purchases_to_date.spend_window_start_date',
            'day'
        ) }} as baseline_observed_days,
        cast(purchases_to_date.baseline_window_net_spend_amount as {{ money_type() }})
            as baseline_window_net_spend_amount,
        -- account closed (离网) counts from the closing day, unless the customer bought again after it
        coalesce(
            customers.closed_date <= customer_months.evaluation_date
            and (
                purchases_to_date.last_order_date is null
                or purchases_to_date.last_order_date <= customers.closed_date
            ),
            false
        ) as is_account_closed
    from customer_months
    inner join customers
        on customer_months.customer_id = customers.customer_id
    inner join purchases_to_date
        on
            customer_months.customer_id = purchases_to_date.customer_id
            and customer_months.month_start_date = purchases_to_date.month_start_date

),

thresholds as (

    select
        *,
        cast(
            case
                when baseline_observed_days >= {{ spend_window_days }}
                    then
                        cast(baseline_window_net_spend_amount as {{ dbt.type_numeric() }})
                        * {{ spend_window_days }} / baseline_observed_days
            end as {{ money_type() }}
        ) as baseline_net_spend_amount,
        -- own cadence × factor, never below the floor; one purchase day has no cadence yet: the floor
        case
            when
                median_gap_days is null
                or {{ var('decline_gap_factor') }} * median_gap_days < {{ var('decline_min_days') }}
                then {{ var('decline_min_days') }}
            else {{ var('decline_gap_factor') }} * median_gap_days
        end as decline_gap_threshold_days,
        case
            when
                median_gap_days is null
                or {{ var('churn_gap_factor') }} * median_gap_days < {{ var('churn_min_days') }}
                then {{ var('churn_min_days') }}
            else {{ var('churn_gap_factor') }} * median_gap_days
        end as churn_gap_threshold_days
    from measured

),

flagged as (

    select
        *,
        coalesce(days_since_last_order > decline_gap_threshold_days, false) as is_overdue,
        -- the spend comparison only means something for customers who normally buy within one
        -- spend window; for slower buyers an empty window is their normal rhythm, and the overdue
        -- test against their own cadence is the signal (an irregular but loyal buyer is not declining)
        coalesce(
            baseline_net_spend_amount > 0
            and median_gap_days <= {{ spend_window_days }}
            and trailing_net_spend_amount < {{ var('decline_spend_ratio') }} * baseline_net_spend_amount,
            false
        ) as is_spend_drop,
        -- "no completed order for N days": N full days have passed
        coalesce(days_since_last_order >= churn_gap_threshold_days, false) as is_churn_gap
    from thresholds

),

final as (

    select
        *,
        -- precedence: a record that never bought stays a prospect (even if closed: there was no
        -- relationship to end); then churned, declining, new (the whole new_window_days after the
        -- first purchase, even with a second purchase in it), mature, growing
        case
            when purchase_days_to_date = 0 then 'prospect'
            when is_account_closed or is_churn_gap then 'churned'
            when is_overdue or is_spend_drop then 'declining'
            when tenure_days <= {{ var('new_window_days') }} then 'new'
            when
                tenure_days >= {{ var('mature_min_tenure_days') }}
                and purchase_days_12m >= {{ var('mature_min_orders_12m') }}
                then 'mature'
            when purchase_days_to_date >= 2 then 'growing'
            -- one purchase, older than new_window_days, not yet overdue (only possible when
            -- decline_min_days > new_window_days): no repeat came, so volume is falling
            else 'declining'
        end as rule_stage_code
    from flagged

)

select * from final
