-- The staging orders reference: one query doing what base_crm__orders does, written by hand. Every raw
-- order row with its parsed values, its version rank within the order id and its disposition (staged,
-- superseded, or rejected with the first failing reason code, in the contract's precedence), joined to
-- the staged customers (staged_customers.sql, run before). Same columns as the model, so the two tables
-- can be compared row for row (tests/test_bench.py).

create or replace table staging_orders as
with

parsed as (
    select
        text_value(order_id) as order_id,
        text_value(customer_id) as customer_id,
        lower(text_value(status)) as status,
        lower(text_value(product_category)) as product_category,
        lower(text_value(sales_channel)) as sales_channel,
        text_value(gross_amount) as gross_amount_text,
        money(text_value(gross_amount)) as gross_amount,
        text_value(discount_amount) as discount_amount_text,
        money(text_value(discount_amount)) as provided_discount_amount,
        text_value(cost_amount) as cost_amount_text,
        money(text_value(cost_amount)) as provided_cost_amount,
        text_value(ordered_at) as ordered_at_text,
        business_time(text_value(ordered_at)) as ordered_at,
        text_value(updated_at) as updated_at_text,
        business_time(text_value(updated_at)) as updated_at,
        _raw_row_id,
        _file_name,
        _file_row_number,
        _file_sha256,
        _loaded_at,
        business_loaded_at(_loaded_at) as loaded_at_business
    from warehouse.raw.orders
),

-- no id, or an unparseable updated_at: rejected before versioning (such rows rank among themselves)
pre_versioned as (
    select
        *,
        case
            when order_id is null then 'missing_required_value'
            when updated_at_text is not null and updated_at is null then 'unparseable_timestamp'
        end as pre_version_reason
    from parsed
),

versioned as (
    select
        pre_versioned.*,
        row_number() over versions as version_rank,
        max(updated_at) over (partition by pre_version_reason, order_id) as current_updated_at,
        staged_customers.customer_id as known_customer_id,
        staged_customers.created_at as customer_created_at
    from pre_versioned
    left join staged_customers on pre_versioned.customer_id = staged_customers.customer_id
    window versions as (
        partition by pre_version_reason, order_id
        order by updated_at desc nulls last, _file_name desc, _file_row_number desc
    )
),

judged as (
    select
        *,
        case
            when pre_version_reason is not null then pre_version_reason
            when version_rank > 1 and same_updated_at(updated_at, current_updated_at)
                then 'duplicate_id_same_updated_at'
            when version_rank > 1 then null
            when customer_id is null or ordered_at_text is null or status is null or gross_amount_text is null
                then 'missing_required_value'
            when ordered_at is null then 'unparseable_timestamp'
            when gross_amount is null
                or (discount_amount_text is not null and provided_discount_amount is null)
                or (cost_amount_text is not null and provided_cost_amount is null)
                then 'unparseable_number'
            when status not in ('completed', 'cancelled', 'returned') then 'invalid_enum_value'
            when gross_amount < 0 or provided_discount_amount < 0 or provided_cost_amount < 0 then 'negative_amount'
            when provided_discount_amount > gross_amount then 'discount_above_gross'
            when status = 'completed' and provided_cost_amount > gross_amount then 'cost_above_gross'
            when ordered_at > loaded_at_business then 'timestamp_in_future'
            when known_customer_id is null then 'unknown_customer'
            when ordered_at < customer_created_at then 'before_customer_created'
        end as rejection_reason
    from versioned
)

select
    *,
    row_disposition(rejection_reason, version_rank) as row_disposition,
    coalesce(order_id, '') as record_id,
    case
        when rejection_reason is not null
            then 'order_id=' || coalesce(order_id, '')
            || '; customer_id=' || coalesce(customer_id, '')
            || '; ordered_at_text=' || coalesce(ordered_at_text, '')
            || '; status=' || coalesce(status, '')
            || '; gross_amount_text=' || coalesce(gross_amount_text, '')
            || '; discount_amount_text=' || coalesce(discount_amount_text, '')
            || '; cost_amount_text=' || coalesce(cost_amount_text, '')
            || '; product_category=' || coalesce(product_category, '')
            || '; sales_channel=' || coalesce(sales_channel, '')
            || '; updated_at_text=' || coalesce(updated_at_text, '')
    end as record_preview
from judged;
