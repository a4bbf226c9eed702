with

base_complaints as (

    select * from {{ ref('base_crm__complaints') }}

),

renamed as (

    select
        -- ids
        complaint_id,
        customer_id,
        order_id,

        -- categories
        category,
        severity,
        status,

        -- booleans: a resolution time is the fact of resolution, whatever the free-text status says
        resolved_at is not null as is_resolved,

        -- numerics: a blank compensation is none paid
        cast(coalesce(provided_compensation_amount, 0) as {{ money_type() }}) as compensation_amount,
        cast(satisfaction_score as integer) as satisfaction_score,

        -- timestamps (naive, business time zone) and their business dates
        opened_at,
        cast(opened_at as date) as opened_date,
        resolved_at,
        cast(resolved_at as date) as resolved_date

    from base_complaints
    where row_disposition = 'staged'

),

final as (

    select * from renamed

)

select * from final
