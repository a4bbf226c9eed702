-- The staging customers reference: one query doing what base_crm__customers does, written by hand. Every
-- raw customer row with its parsed values, its PII as keyed hashes and masked forms, its version rank
-- within the customer id and its disposition (staged, superseded, or rejected with the first failing
-- reason code, in the contract's precedence), and whether its referrer is a staged customer. Same columns
-- as the model, so the two tables can be compared row for row (tests/test_bench.py).

create or replace table staging_customers as
with

parsed as (
    select
        text_value(customer_id) as customer_id,
        text_value(referred_by) as referred_by_customer_id,
        nullif(trim(full_name), '') as full_name,
        digits_only(phone) as phone,
        lower(nullif(trim(email), '')) as email,
        lower(text_value(gender)) as gender,
        text_value(city) as city,
        lower(text_value(customer_type)) as customer_type,
        lower(text_value(acquisition_channel)) as acquisition_channel,
        text_value(birth_date) as birth_date_text,
        calendar_date(text_value(birth_date)) as birth_date,
        text_value(created_at) as created_at_text,
        business_time(text_value(created_at)) as created_at,
        text_value(closed_at) as closed_at_text,
        business_time(text_value(closed_at)) as closed_at,
        text_value(updated_at) as updated_at_text,
        business_time(text_value(updated_at)) as updated_at,
        _raw_row_id,
        _file_name,
        _file_row_number,
        _file_sha256,
        _loaded_at,
        business_loaded_at(_loaded_at) as loaded_at_business
    from warehouse.raw.customers
),

-- no id, or an unparseable updated_at: rejected before versioning (such rows rank among themselves)
pre_versioned as (
    select
        *,
        case
            when customer_id is null then 'missing_required_value'
            when updated_at_text is not null and updated_at is null then 'unparseable_timestamp'
        end as pre_version_reason
    from parsed
),

versioned as (
    select
        *,
        row_number() over (
            partition by pre_version_reason, customer_id
            order by updated_at desc nulls last, _file_name desc, _file_row_number desc
        ) as version_rank,
        max(updated_at) over (partition by pre_version_reason, customer_id) as current_updated_at
    from pre_versioned
),

judged as (
    select
        *,
        case
            when pre_version_reason is not null then pre_version_reason
            when version_rank > 1 and same_updated_at(updated_at, current_updated_at)
                then 'duplicate_id_same_updated_at'
            when version_rank > 1 then null
            when created_at_text is null then 'missing_required_value'
            when created_at is null
                or (closed_at_text is not null and closed_at is null)
                or (birth_date_text is not null and birth_date is null)
                then 'unparseable_timestamp'
            when customer_type not in ('individual', 'enterprise') then 'invalid_enum_value'
            when created_at > loaded_at_business or closed_at > loaded_at_business then 'timestamp_in_future'
        end as rejection_reason
    from versioned
),

dispositioned as (
    select
        *,
        row_disposition(rejection_reason, version_rank) as row_disposition
    from judged
),

staged_ids as (
    select customer_id from dispositioned where row_disposition = 'staged'
)

select
    dispositioned.customer_id,
    referred_by_customer_id,
    pii_hmac(full_name) as full_name_hash,
    masked_name(full_name) as full_name_masked,
    pii_hmac(phone) as phone_hash,
    masked_phone(phone) as phone_masked,
    pii_hmac(email) as email_hash,
    masked_email(email) as email_masked,
    gender,
    city,
    customer_type,
    acquisition_channel,
    birth_date_text,
    birth_date,
    created_at_text,
    created_at,
    closed_at_text,
    closed_at,
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
    rejection_reason,
    row_disposition,
    referred_by_customer_id is not null and staged_ids.customer_id is null as has_unknown_referrer,
    coalesce(dispositioned.customer_id, '') as record_id,
    case
        when rejection_reason is not null
            then 'customer_id=' || coalesce(dispositioned.customer_id, '')
            || '; full_name_masked=' || coalesce(masked_name(full_name), '')
            || '; phone_masked=' || coalesce(masked_phone(phone), '')
            || '; email_masked=' || coalesce(masked_email(email), '')
            || '; birth_date_text=' || coalesce(birth_date_text, '')
            || '; gender=' || coalesce(gender, '')
            || '; city=' || coalesce(city, '')
            || '; customer_type=' || coalesce(customer_type, '')
            || '; created_at_text=' || coalesce(created_at_text, '')
            || '; acquisition_channel=' || coalesce(acquisition_channel, '')
            || '; referred_by_customer_id=' || coalesce(referred_by_customer_id, '')
            || '; closed_at_text=' || coalesce(closed_at_text, '')
            || '; updated_at_text=' || coalesce(updated_at_text, '')
    end as record_preview
from dispositioned
left join staged_ids on dispositioned.referred_by_customer_id = staged_ids.customer_id;
