{#- A table: the stg view, the rejected rows and the reconciliation all read it (one evaluation). -#}
{{ config(materialized='table') }}

with

source as (

    select * from {{ source('crm', 'marketing_spend') }}

),

-- trimmed once: blank text is a missing value, and the parsers below read the trimmed text
trimmed as (

    select
        *,
        {{ staging_text('month') }} as month_text,
        {{ staging_text('spend_amount') }} as spend_amount_text,
        {{ staging_text('updated_at') }} as updated_at_text
    from source

),

renamed as (

    select
        -- keys: channel names follow customers.acquisition_channel (lower case), so they join
        {{ staging_enum('channel') }} as channel,
        month_text,
        {{ staging_try_month_start('month_text') }} as month_start_date,

        -- numerics: trimmed text kept beside the parsed value, to tell blank from unparseable
        spend_amount_text,
        {{ staging_try_money('spend_amount_text') }} as spend_amount,

        -- timestamps
        updated_at_text,
        {{ staging_try_timestamp('updated_at_text') }} as updated_at,

        -- load metadata
        _raw_row_id,
        _file_name,
        _file_row_number,
        _file_sha256,
        _loaded_at

    from trimmed

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
        case when rejection_reason is not null then {{ staging_record_preview([
            'channel', 'month_text', 'spend_amount_text', 'updated_at_text',
        ]) }} end as record_preview
    from judged

)

select * from final
