-- The staging calls reference: one query doing what base_crm__calls does, written by hand. Every raw call
-- row with its parsed values, the caller's phone as a keyed hash and a masked form, its version rank within
-- the call id and its disposition (staged, superseded, or rejected with the first failing reason code, in
-- the contract's precedence), joined to the staged customers (staged_customers.sql, run before). Same
-- columns as the model, so the two tables can be compared row for row (tests/test_bench.py).

create or replace table staging_calls as
with

parsed as (
    select
        text_value(call_id) as call_id,
        text_value(customer_id) as customer_id,
        text_value(agent_id) as agent_id,
        text_value(campaign_id) as campaign_id,
        digits_only(phone) as phone,
        lower(text_value(direction)) as direction,
        lower(text_value(purpose)) as purpose,
        lower(text_value(outcome)) as outcome,
        text_value(duration_seconds) as duration_seconds_text,
        number_value(text_value(duration_seconds)) as duration_seconds,
        text_value(satisfaction_score) as satisfaction_score_text,
        number_value(text_value(satisfaction_score)) as satisfaction_score,
        text_value(started_at) as started_at_text,
        business_time(text_value(started_at)) as started_at,
        text_value(updated_at) as updated_at_text,
        business_time(text_value(updated_at)) as updated_at,
        _raw_row_id,
        _file_name,
        _file_row_number,
        _file_sha256,
        _loaded_at,
        business_loaded_at(_loaded_at) as loaded_at_business
    from warehouse.raw.calls
),

-- no id, or an unparseable updated_at: rejected before versioning (such rows rank among themselves)
pre_versioned as (
    select
        *,
        case
            when call_id is null then 'missing_required_value'
            when updated_at_text is not null and updated_at is null then 'unparseable_timestamp'
        end as pre_version_reason
    from parsed
),

versioned as (
    select
        pre_versioned.*,
        row_number() over versions as version_rank,
        max(updated_at) over (partition by pre_version_reason, call_id) as current_updated_at,
        staged_customers.customer_id as known_customer_id,
        staged_customers.created_at as customer_created_at
    from pre_versioned
    left join staged_customers on pre_versioned.customer_id = staged_customers.customer_id
    window versions as (
        partition by pre_version_reason, call_id
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
            when direction is null or purpose is null or started_at_text is null then 'missing_required_value'
            when started_at is null then 'unparseable_timestamp'
            when (duration_seconds_text is not null and duration_seconds is null)
                or (satisfaction_score_text is not null and satisfaction_score is null)
                then 'unparseable_number'
            when direction not in ('inbound', 'outbound')
                or purpose not in ('sales', 'follow_up', 'service', 'survey', 'retention', 'win_back')
                then 'invalid_enum_value'
            when duration_seconds < 0 then 'negative_amount'
            when satisfaction_score not in (1, 2, 3, 4, 5) then 'satisfaction_out_of_range'
            when started_at > loaded_at_business then 'timestamp_in_future'
            when customer_id is not null and known_customer_id is null then 'unknown_customer'
            when started_at < customer_created_at then 'before_customer_created'
        end as rejection_reason
    from versioned
)

select
    call_id,
    customer_id,
    agent_id,
    campaign_id,
    pii_hmac(phone) as phone_hash,
    masked_phone(phone) as phone_masked,
    direction,
    purpose,
    outcome,
    duration_seconds_text,
    duration_seconds,
    satisfaction_score_text,
    satisfaction_score,
    started_at_text,
    started_at,
    updated_at_text,
    updated_at,
    _raw_row_id,
    _file_name,
    _file_row_number,
    _file_sha256,
    _loaded_at,
    loaded_at_business,
    pre_version_reason,
    version_rank,
    current_updated_at,
    known_customer_id,
    customer_created_at,
    rejection_reason,
    row_disposition(rejection_reason, version_rank) as row_disposition,
    coalesce(call_id, '') as record_id,
    case
        when rejection_reason is not null
            then 'call_id=' || coalesce(call_id, '')
            || '; customer_id=' || coalesce(customer_id, '')
            || '; phone_masked=' || coalesce(masked_phone(phone), '')
            || '; direction=' || coalesce(direction, '')
            || '; purpose=' || coalesce(purpose, '')
            || '; started_at_text=' || coalesce(started_at_text, '')
            || '; duration_seconds_text=' || coalesce(duration_seconds_text, '')
            || '; agent_id=' || coalesce(agent_id, '')
            || '; outcome=' || coalesce(outcome, '')
            || '; satisfaction_score_text=' || coalesce(satisfaction_score_text, '')
            || '; campaign_id=' || coalesce(campaign_id, '')
            || '; updated_at_text=' || coalesce(updated_at_text, '')
    end as record_preview
from judged;
