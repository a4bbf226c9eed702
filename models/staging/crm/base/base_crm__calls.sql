{#- A table, not a view: it computes PII hashes, and the HMAC key must not sit in a view definition.
    Incremental by raw row (dbt_project.yml, macros/staging/staging_incremental.sql). -#}

{{ staging_guard_pii_salt(source('crm', 'calls')) }}

with

-- the one documented join of staging: a call's disposition depends on the staged customers
-- (unknown_customer, before_customer_created); a call without customer_id is an unknown caller
staged_customers as (

    select
        customer_id as known_customer_id,
        created_at as customer_created_at
    from {{ ref('base_crm__customers') }}
    where row_disposition = 'staged'

),

{%- if is_incremental() %}
-- an incremental run re-decides the rows of new and stale keys only (macros/staging/staging_incremental.sql)
keys_to_decide as (

    {{ staging_keys_to_decide(source('crm', 'calls'), 'call_id') }}

),
{%- endif %}

source as (

    select * from {{ source('crm', 'calls') }}
    {%- if is_incremental() %}
    where {{ staging_rows_of_keys('call_id', 'keys_to_decide') }}
    {%- endif %}

),

-- trimmed once: blank text is a missing value, and the parsers below read the trimmed text
trimmed as (

    select
        *,
        {{ normalize_phone('phone') }} as normalized_phone,
        {{ staging_text('duration_seconds') }} as duration_seconds_text,
        {{ staging_text('satisfaction_score') }} as satisfaction_score_text,
        {{ staging_text('started_at') }} as started_at_text,
        {{ staging_text('updated_at') }} as updated_at_text
    from source

),

renamed as (

    select
        -- ids
        {{ staging_text('call_id') }} as call_id,
        {{ staging_text('customer_id') }} as customer_id,
        {{ staging_text('agent_id') }} as agent_id,
        {{ staging_text('campaign_id') }} as campaign_id,

        -- PII: keyed hash (in final) and masked form only (DOMAIN.md §3)
        normalized_phone,
        {{ mask_phone('normalized_phone') }} as phone_masked,

        -- categories
        {{ staging_enum('direction') }} as direction,
        {{ staging_enum('purpose') }} as purpose,
        {{ staging_enum('outcome') }} as outcome,

        -- numerics: trimmed text kept beside the parsed value, to tell blank from unparseable
        duration_seconds_text,
        {{ staging_try_number('duration_seconds_text') }} as duration_seconds,
        satisfaction_score_text,
        {{ staging_try_number('satisfaction_score_text') }} as satisfaction_score,

        -- timestamps
        started_at_text,
        {{ staging_try_timestamp('started_at_text') }} as started_at,
        updated_at_text,
        {{ staging_try_timestamp('updated_at_text') }} as updated_at,

        -- load metadata
        _raw_row_id,
        _file_name,
        _file_row_number,
        _file_sha256,
        _loaded_at,
        {{ staging_utc_to_business('_loaded_at') }} as loaded_at_business

    from trimmed

),

pre_versioned as (

    select
        *,
        case
            when call_id is null then 'missing_required_value'
            when {{ staging_unparseable('updated_at_text', 'updated_at') }} then 'unparseable_timestamp'
        end as pre_version_reason
    from renamed

),

versioned as (

    select
        *,
        {{ staging_version_columns(['call_id']) }}
    from pre_versioned

),

with_customer as (

    select
        versioned.*,
        staged_customers.known_customer_id,
        staged_customers.customer_created_at
    from versioned
    left join staged_customers
        on versioned.customer_id = staged_customers.known_customer_id

),

judged as (

    select
        *,
        {{ staging_rejection_reason([
            ['missing_required_value', [
                'direction is null', 'purpose is null', 'started_at_text is null',
            ]],
            ['unparseable_timestamp', staging_unparseable('started_at_text', 'started_at')],
            ['unparseable_number', [
                staging_unparseable('duration_seconds_text', 'duration_seconds'),
                staging_unparseable('satisfaction_score_text', 'satisfaction_score'),
            ]],
            ['invalid_enum_value', [
                staging_not_in('direction', crm_enum_values('calls', 'direction')),
                staging_not_in('purpose', crm_enum_values('calls', 'purpose')),
            ]],
            ['negative_amount', 'duration_seconds < 0'],
            ['satisfaction_out_of_range', 'satisfaction_score not in (1, 2, 3, 4, 5)'],
            ['timestamp_in_future', 'started_at > loaded_at_business'],
            ['unknown_customer', 'customer_id is not null and known_customer_id is null'],
            ['before_customer_created', 'started_at < customer_created_at'],
        ]) }} as rejection_reason
    from with_customer

),

final as (

    select
        call_id,
        customer_id,
        agent_id,
        campaign_id,
        -- hashed last: the version window sorts the short phone number, not its 64-character hash
        {{ pii_hmac('normalized_phone') }} as phone_hash,
        phone_masked,
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
        {{ staging_row_disposition() }} as row_disposition,
        coalesce(call_id, '') as record_id,
        case when rejection_reason is not null then {{ staging_record_preview([
            'call_id', 'customer_id', 'phone_masked', 'direction', 'purpose', 'started_at_text',
            'duration_seconds_text', 'agent_id', 'outcome', 'satisfaction_score_text', 'campaign_id',
            'updated_at_text',
        ]) }} end as record_preview
    from judged

)

select * from final
