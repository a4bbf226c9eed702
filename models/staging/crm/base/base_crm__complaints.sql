{#- A table: the stg view, the rejected rows and the reconciliation all read it (one evaluation).
    Incremental by raw row (dbt_project.yml, macros/staging/staging_incremental.sql). -#}

with

-- the one documented join of staging: a complaint's disposition depends on the staged customers
-- (unknown_customer, before_customer_created)
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

    {{ staging_keys_to_decide(source('crm', 'complaints'), 'complaint_id') }}

),
{%- endif %}

source as (

    select * from {{ source('crm', 'complaints') }}
    {%- if is_incremental() %}
    where {{ staging_rows_of_keys('complaint_id', 'keys_to_decide') }}
    {%- endif %}

),

-- trimmed once: blank text is a missing value, and the parsers below read the trimmed text
trimmed as (

    select
        *,
        {{ staging_text('compensation_amount') }} as compensation_amount_text,
        {{ staging_text('satisfaction_score') }} as satisfaction_score_text,
        {{ staging_text('opened_at') }} as opened_at_text,
        {{ staging_text('resolved_at') }} as resolved_at_text,
        {{ staging_text('updated_at') }} as updated_at_text
    from source

),

renamed as (

    select
        -- ids
        {{ staging_text('complaint_id') }} as complaint_id,
        {{ staging_text('customer_id') }} as customer_id,
        {{ staging_text('order_id') }} as order_id,

        -- categories
        {{ staging_enum('category') }} as category,
        {{ staging_enum('severity') }} as severity,
        {{ staging_enum('status') }} as status,

        -- numerics: trimmed text kept beside the parsed value, to tell blank from unparseable
        compensation_amount_text,
        {{ staging_try_money('compensation_amount_text') }} as provided_compensation_amount,
        satisfaction_score_text,
        {{ staging_try_number('satisfaction_score_text') }} as satisfaction_score,

        -- timestamps
        opened_at_text,
        {{ staging_try_timestamp('opened_at_text') }} as opened_at,
        resolved_at_text,
        {{ staging_try_timestamp('resolved_at_text') }} as resolved_at,
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
            when complaint_id is null then 'missing_required_value'
            when {{ staging_unparseable('updated_at_text', 'updated_at') }} then 'unparseable_timestamp'
        end as pre_version_reason
    from renamed

),

versioned as (

    select
        *,
        {{ staging_version_columns(['complaint_id']) }}
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
                'customer_id is null', 'opened_at_text is null', 'severity is null',
            ]],
            ['unparseable_timestamp', [
                staging_unparseable('opened_at_text', 'opened_at'),
                staging_unparseable('resolved_at_text', 'resolved_at'),
            ]],
            ['unparseable_number', [
                staging_unparseable('compensation_amount_text', 'provided_compensation_amount'),
                staging_unparseable('satisfaction_score_text', 'satisfaction_score'),
            ]],
            ['invalid_enum_value', staging_not_in('severity', crm_enum_values('complaints', 'severity'))],
            ['negative_amount', 'provided_compensation_amount < 0'],
            ['satisfaction_out_of_range', 'satisfaction_score not in (1, 2, 3, 4, 5)'],
            ['timestamp_in_future', ['opened_at > loaded_at_business', 'resolved_at > loaded_at_business']],
            ['resolved_before_opened', 'resolved_at < opened_at'],
            ['unknown_customer', 'known_customer_id is null'],
            ['before_customer_created', 'opened_at < customer_created_at'],
        ]) }} as rejection_reason
    from with_customer

),

final as (

    select
        *,
        {{ staging_row_disposition() }} as row_disposition,
        coalesce(complaint_id, '') as record_id,
        case when rejection_reason is not null then {{ staging_record_preview([
            'complaint_id', 'customer_id', 'order_id', 'opened_at_text', 'resolved_at_text', 'category',
            'severity', 'compensation_amount_text', 'satisfaction_score_text', 'status', 'updated_at_text',
        ]) }} end as record_preview
    from judged

)

select * from final
