with

base_marketing_spend as (

    select * from {{ ref('base_crm__marketing_spend') }}

),

renamed as (

    select
        -- keys
        channel,
        month_start_date,

        -- numerics
        spend_amount

    from base_marketing_spend
    where row_disposition = 'staged'

),

final as (

    select * from renamed

)

select * from final
