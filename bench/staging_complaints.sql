-- The staging complaints reference: one query doing what base_crm__complaints does, written by hand.
-- Every raw complaint row with its parsed values, its version rank within the complaint id and its
-- disposition (staged, superseded, or rejected with the first failing reason code, in the contract's
-- precedence), joined to the staged customers (staged_customers.sql, run before). Same columns as the
-- model, so the two tables can be compared row for row (tests/test_bench.py).

create or replace table staging_complaints as
with

parsed as (
    select
        text_value(complaint_id) as complaint_id,
        text_value(customer_id) as customer_id,
        text_value(order_id) as order_id,
        lower(text_value(category)) as category,
        lower(text_value(severity)) as severity,
        lower(text_value(status)) as status,
        text_value(compensation_amount) as compensation_amount_text,
        money(text_value(compensation_amount)) as provided_compensation_amount,
        text_value(satisfaction_score) as satisfaction_score_text,
        number_value(text_value(satisfaction_score)) as satisfaction_score,
        text_value(opened_at) as opened_at_text,
        business_time(text_value(opened_at)) as opened_at,
        text_value(resolved_at) as resolved_at_text,
        business_time(text_value(resolved_at)) as resolved_at,
        text_value(updated_at) as updated_at_text,
        business_time(text_value(updated_at)) as updated_at,
        _raw_row_id,
        _file_name,
        _file_row_number,
        _file_sha256,
        _loaded_at,
        business_loaded_at(_loaded_at) as loaded_at_business
    from warehouse.raw.complaints
),

-- no id, or an unparseable updated_at: rejected before versioning (such rows rank among themselves)
pre_versioned as (
    select
        *,
        case
            when complaint_id is null then 'missing_required_value'
            when updated_at_text is not null and updated_at is null then 'unparseable_timestamp'
        end as pre_version_reason
    from parsed
),

versioned as (
    select
        pre_versioned.*,
        row_number() over versions as version_rank,
        max(updated_at) over (partition by pre_version_reason, complaint_id) as current_updated_at,
        staged_customers.customer_id as known_customer_id,
        staged_customers.created_at as customer_created_at
    from pre_versioned
    left join staged_customers on pre_versioned.customer_id = staged_customers.customer_id
    window versions as (
        partition by pre_version_reason, complaint_id
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
            when customer_id is null or opened_at_text is null or severity is null then 'missing_required_value'
            when opened_at is null or (resolved_at_text is not null and resolved_at is null)
                then 'unparseable_timestamp'
            when (compensation_amount_text is not null and provided_compensation_amount is null)
                or (satisfaction_score_text is not null and satisfaction_score is null)
                then 'unparseable_number'
            when severity not in ('low', 'medium', 'high', 'critical') then 'invalid_enum_value'
            when provided_compensation_amount < 0 then 'negative_amount'
            when satisfaction_score not in (1, 2, 3, 4, 5) then 'satisfaction_out_of_range'
            when opened_at > loaded_at_business or resolved_at > loaded_at_business then 'timestamp_in_future'
            when resolved_at < opened_at then 'resolved_before_opened'
            when known_customer_id is null then 'unknown_customer'
            when opened_at < customer_created_at then 'before_customer_created'
        end as rejection_reason
    from versioned
)

select
    *,
    row_disposition(rejection_reason, version_rank) as row_disposition,
    coalesce(complaint_id, '') as record_id,
    case
        when rejection_reason is not null
            then 'complaint_id=' || coalesce(complaint_id, '')
            || '; customer_id=' || coalesce(customer_id, '')
            || '; order_id=' || coalesce(order_id, '')
            || '; opened_at_text=' || coalesce(opened_at_text, '')
            || '; resolved_at_text=' || coalesce(resolved_at_text, '')
            || '; category=' || coalesce(category, '')
            || '; severity=' || coalesce(severity, '')
            || '; compensation_amount_text=' || coalesce(compensation_amount_text, '')
            || '; satisfaction_score_text=' || coalesce(satisfaction_score_text, '')
            || '; status=' || coalesce(status, '')
            || '; updated_at_text=' || coalesce(updated_at_text, '')
    end as record_preview
from judged;
