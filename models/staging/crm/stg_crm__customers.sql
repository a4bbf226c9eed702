with

base_customers as (

    select * from {{ ref('base_crm__customers') }}

),

renamed as (

    select
        -- ids
        customer_id,
        referred_by_customer_id,

        -- PII: keyed hashes and masked forms only
        full_name_hash,
        full_name_masked,
        phone_hash,
        phone_masked,
        email_hash,
        email_masked,

        -- attributes
        birth_date,
        gender,
        city,
        customer_type,
        acquisition_channel,

        -- booleans
        has_unknown_referrer,
        closed_at is not null as is_closed,

        -- timestamps (naive, business time zone) and their business dates
        created_at,
        cast(created_at as date) as created_date,
        closed_at,
        cast(closed_at as date) as closed_date,
        updated_at

    from base_customers
    where row_disposition = 'staged'

),

final as (

    select * from renamed

)

select * from final
