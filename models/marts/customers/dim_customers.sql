{#-
    One row per customer (records created up to the as-of date): attributes with masked PII only
    (DOMAIN.md §3: hashes and masks, never names, phones or e-mails), the current lifecycle stage
    (the as-of month's row, evaluated on the as-of date), purchase history and the historical value
    tier. The tier by predicted total CLV lives in fct_customer_value_tiers: the customer dimension does
    not wait for the predictive fit, and neither do the marts that read it.
-#}

with

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

current_stages as (

    select * from {{ ref('int_customer_lifecycle_as_of_month') }}

),

value_tiers as (

    select * from {{ ref('int_customer_value_tiers_historical') }}

),

framework_labels as (

    select * from {{ ref('lifecycle_framework_labels') }}
    where framework = '{{ var("lifecycle_framework") }}'

),

lifetime_activity as (

    select
        customer_id,
        sum(net_spend_amount) as net_spend_to_date_amount,
        {{ whole_number_sum('returned_orders') }} as returned_orders_to_date,
        {{ whole_number_sum('calls') }} as calls_to_date,
        {{ whole_number_sum('complaints') }} as complaints_to_date
    from {{ ref('int_customer_months_measured') }}
    group by 1

),

final as (

    select
        customers.customer_id,

        -- attributes (masked PII only)
        customers.full_name_masked,
        customers.phone_masked,
        customers.email_masked,
        customers.gender,
        customers.city,
        customers.customer_type,
        customers.acquisition_channel,
        customers.referred_by_customer_id,
        customers.created_date,
        customers.closed_date,
        customers.is_closed,

        -- current lifecycle stage
        as_of_dates.as_of_date,
        current_stages.stage_code,
        framework_labels.label_en as stage_label_en,
        framework_labels.label_zh as stage_label_zh,
        current_stages.previous_stage_code,
        current_stages.stage_started_date,
        current_stages.months_in_stage,
        current_stages.prospect_status,
        current_stages.is_account_closed,

        -- purchase history
        current_stages.first_order_date,
        current_stages.last_order_date,
        current_stages.completed_orders_to_date,
        current_stages.purchase_days_to_date,
        current_stages.days_since_last_order,
        current_stages.median_gap_days,
        coalesce(lifetime_activity.net_spend_to_date_amount, 0) as net_spend_to_date_amount,
        coalesce(lifetime_activity.returned_orders_to_date, 0) as returned_orders_to_date,
        coalesce(lifetime_activity.calls_to_date, 0) as calls_to_date,
        coalesce(lifetime_activity.complaints_to_date, 0) as complaints_to_date,

        -- value (DOMAIN.md §7; null for prospects)
        value_tiers.value_tier
    from customers
    cross join as_of_dates
    left join current_stages
        on customers.customer_id = current_stages.customer_id
    left join framework_labels
        on current_stages.stage_code = framework_labels.stage_code
    left join lifetime_activity
        on customers.customer_id = lifetime_activity.customer_id
    left join value_tiers
        on customers.customer_id = value_tiers.customer_id
    where customers.created_date <= as_of_dates.as_of_date

)

select * from final
