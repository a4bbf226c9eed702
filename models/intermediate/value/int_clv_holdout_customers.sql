{#-
    The calibration / holdout split of the CLV holdout evaluation: the purchase summary of every customer
    who bought on or before the calibration end (= the CLV observation end minus var clv_holdout_days),
    computed with the same rules as int_customer_purchase_summary (macros/value/purchase_summary.sql)
    and that end, beside what the customer actually did in the holdout period (calibration end,
    observation end]. No rows when clv_holdout_days is 0 (the evaluation is switched off).
-#}
{%- set holdout_days = var('clv_holdout_days') | int -%}

with

orders as (

    select * from {{ ref('stg_crm__orders') }}

),

all_purchase_days as (

    select * from {{ ref('int_customer_purchase_days') }}

),

observation_end as (

    {{ clv_observation_end('orders') }}

),

calibration_end as (

    -- named like the summary's observation end: the calibration summary ends here
    select cast({{ dbt.dateadd('day', -holdout_days, 'observation_end_date') }} as date) as observation_end_date
    from observation_end

),

purchase_days as (

    {{ purchase_days_through('all_purchase_days', 'observation_end') }}

),

calibration_days as (

    {{ purchase_days_through('all_purchase_days', 'calibration_end') }}

),

calibration as (

    {{ purchase_summary('calibration_days', 'calibration_end') }}

),

holdout_purchases as (

    select
        purchase_days.customer_id,
        count(*) as holdout_purchases,
        avg(purchase_days.day_net_spend) as holdout_mean_spend
    from purchase_days
    cross join calibration_end
    where purchase_days.purchase_date > calibration_end.observation_end_date
    group by purchase_days.customer_id

),

final as (

    select
        calibration.customer_id,
        calibration.first_purchase_date,
        calibration.observation_end_date as calibration_end_date,
        observation_end.observation_end_date as holdout_end_date,
        {{ holdout_days }} as holdout_days,
        calibration.frequency,
        calibration.recency,
        calibration.t,
        calibration.monetary_value,
        calibration.time_unit,
        coalesce(holdout_purchases.holdout_purchases, 0) as holdout_purchases,
        cast(holdout_purchases.holdout_mean_spend as {{ value_type_double() }}) as holdout_mean_spend
    from calibration
    cross join observation_end
    left join holdout_purchases
        on calibration.customer_id = holdout_purchases.customer_id
    where {{ holdout_days }} > 0

)

select * from final
