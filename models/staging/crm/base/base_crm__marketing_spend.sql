{#- A table: the stg view, the rejected rows and the reconciliation all read it (one evaluation). -#}
{{ config(materialized='table') }}

with

source as (

    select * from {{ source('crm', 'marketing_spend') }}

),

renamed as (

    select
        -- keys: channel names follow customers.acquisition_channel (lower case), so they join
        {{ staging_enum('channel') }} as channel,
        {{ staging_text('month') }} as month_text,
        {{ staging_try_month_start(staging_text('month')) }} as month_start_date,

        -- numerics: trimmed text kept beside the parsed value, to tell blank from unparseable
        {{ staging_text('spend_amount') }} as spend_amount_text,
        {{ staging_try_money(staging_text('spend_amount')) }} as spend_amount,

        -- timestamps
        {{ staging_text('updated_at') }} as updated_at_text,
        {{ staging_try_timestamp(staging_text('updated_at')) }} as updated_at,

        -- load metadata
        _raw_row_id,
        _file_name,
        _file_row_number,
        _file_sha256,
        _loaded_at

    from source

),

-- the key is (channel, month): a month that does not parse cannot be versioned, so it is rejected
-- before versioning, like a missing key
pre_versioned as (

    select
        *,
        case
            when channel is null or month_text is null then 'missing_required_value'
            when {{ staging_unparseable('month_text', 'month_start_date') }} then 'unparseable_timestamp'
            when {{ staging_unparseable('updated_at_text', 'updated_at') }} then 'unparseable_timestamp'
        end as pre_version_reason
    from renamed

),

versioned as (

    select
        *,
        {{ staging_version_columns(['channel', 'month_start_date']) }}
    from pre_versioned

),

judged as (

    select
        *,
        {{ staging_rejection_reason([
            ['missing_required_value', 'spend_amount_text is null'],
            ['unparseable_number', staging_unparseable('spend_amount_text', 'spend_amount')],
            ['negative_amount', 'spend_amount < 0'],
        ]) }} as rejection_reason
    from versioned

),

final as (

    select
        *,
        {{ staging_row_disposition() }} as row_disposition,
        {{ dbt.concat(["coalesce(channel, '')", "'|'", "coalesce(month_text, '')"]) }} as record_id,
        {{ staging_record_preview(['channel', 'month_text', 'spend_amount_text', 'updated_at_text']) }}
            as record_preview
    from judged

)

select * from final
