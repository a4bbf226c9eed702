{#- A table, not a view: it computes PII hashes, and the HMAC key must not sit in a view definition.
    Incremental by raw row (dbt_project.yml, macros/staging/staging_incremental.sql). -#}

{{ staging_guard_pii_salt(source('crm', 'customers')) }}

with

{%- if is_incremental() %}
-- an incremental run re-decides the rows of new keys, and of the customers referred by one of them
-- (their has_unknown_referrer may change) only (macros/staging/staging_incremental.sql)
new_keys as (

    {{ staging_new_keys(source('crm', 'customers'), 'customer_id') }}

),

keys_to_decide as (

    select new_keys.customer_id from new_keys
    union
    select stored.customer_id
    from {{ this }} as stored
    where stored.referred_by_customer_id in (select new_keys.customer_id from new_keys)

),
{%- endif %}

source as (

    select * from {{ source('crm', 'customers') }}
    {%- if is_incremental() %}
    where {{ staging_rows_of_keys('customer_id', 'keys_to_decide') }}
    {%- endif %}

),

-- trimmed once: blank text is a missing value, and the parsers below read the trimmed text
trimmed as (

    select
        *,
        {{ normalize_name('full_name') }} as normalized_full_name,
        {{ normalize_phone('phone') }} as normalized_phone,
        {{ normalize_email('email') }} as normalized_email,
        {{ staging_text('birth_date') }} as birth_date_text,
        {{ staging_text('created_at') }} as created_at_text,
        {{ staging_text('closed_at') }} as closed_at_text,
        {{ staging_text('updated_at') }} as updated_at_text
    from source

),

renamed as (

    select
        -- ids
        {{ staging_text('customer_id') }} as customer_id,
        {{ staging_text('referred_by') }} as referred_by_customer_id,

        -- PII: keyed hash and masked form only (DOMAIN.md §3)
        {{ pii_hmac('normalized_full_name') }} as full_name_hash,
        {{ mask_name('normalized_full_name') }} as full_name_masked,
        {{ pii_hmac('normalized_phone') }} as phone_hash,
        {{ mask_phone('normalized_phone') }} as phone_masked,
        {{ pii_hmac('normalized_email') }} as email_hash,
        {{ mask_email('normalized_email') }} as email_masked,

        -- categories
        {{ staging_enum('gender') }} as gender,
        {{ staging_text('city') }} as city,
        {{ staging_enum('customer_type') }} as customer_type,
        {{ staging_enum('acquisition_channel') }} as acquisition_channel,

        -- dates and timestamps: trimmed text kept beside the parsed value, to tell blank from unparseable
        birth_date_text,
        {{ staging_try_date('birth_date_text') }} as birth_date,
        created_at_text,
        {{ staging_try_timestamp('created_at_text') }} as created_at,
        closed_at_text,
        {{ staging_try_timestamp('closed_at_text') }} as closed_at,
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
            when customer_id is null then 'missing_required_value'
            when {{ staging_unparseable('updated_at_text', 'updated_at') }} then 'unparseable_timestamp'
        end as pre_version_reason
    from renamed

),

versioned as (

    select
        *,
        {{ staging_version_columns(['customer_id']) }}
    from pre_versioned

),

judged as (

    select
        *,
        {{ staging_rejection_reason([
            ['missing_required_value', 'created_at_text is null'],
            ['unparseable_timestamp', [
                staging_unparseable('created_at_text', 'created_at'),
                staging_unparseable('closed_at_text', 'closed_at'),
                staging_unparseable('birth_date_text', 'birth_date'),
            ]],
            ['invalid_enum_value', staging_not_in('customer_type', crm_enum_values('customers', 'customer_type'))],
            ['timestamp_in_future', [
                'created_at > loaded_at_business',
                'closed_at > loaded_at_business',
            ]],
        ]) }} as rejection_reason
    from versioned

),

dispositioned as (

    select
        *,
        {{ staging_row_disposition() }} as row_disposition
    from judged

),

-- referrers are checked against the staged customers: a referral to an unknown id is kept (the
-- referral may predate our data) but flagged, so referral credit can skip it knowingly
staged_customer_ids as (

    select customer_id as known_customer_id
    from dispositioned
    where row_disposition = 'staged'
    {%- if is_incremental() %}
    union all
    -- the staged customers this run does not re-decide
    select stored.customer_id
    from {{ this }} as stored
    where
        stored.row_disposition = 'staged'
        and stored.customer_id not in (
            select decided.customer_id from keys_to_decide as decided where decided.customer_id is not null
        )
    {%- endif %}

),

final as (

    select
        dispositioned.*,
        (
            dispositioned.referred_by_customer_id is not null
            and staged_customer_ids.known_customer_id is null
        ) as has_unknown_referrer,
        coalesce(dispositioned.customer_id, '') as record_id,
        case when dispositioned.rejection_reason is not null then {{ staging_record_preview([
            'customer_id', 'full_name_masked', 'phone_masked', 'email_masked', 'birth_date_text',
            'gender', 'city', 'customer_type', 'created_at_text', 'acquisition_channel',
            'referred_by_customer_id', 'closed_at_text', 'updated_at_text',
        ]) }} end as record_preview
    from dispositioned
    left join staged_customer_ids
        on dispositioned.referred_by_customer_id = staged_customer_ids.known_customer_id

)

select * from final
