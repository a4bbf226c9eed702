with

base_orders as (

    select * from {{ ref('base_crm__orders') }}

),

renamed as (

    select
        -- ids
        order_id,
        customer_id,

        -- categories
        product_category,
        sales_channel,
        status,

        -- booleans
        status = 'completed' as is_completed,
        status = 'returned' as is_returned,
        status = 'cancelled' as is_cancelled,
        provided_cost_amount is null as is_cost_estimated,

        -- numerics: a blank discount is no discount; a blank cost is estimated with the default
        -- margin rate (DOMAIN.md §2, var default_margin_rate)
        gross_amount,
        coalesce(provided_discount_amount, 0) as discount_amount,
        coalesce(
            provided_cost_amount,
            cast(gross_amount * (1 - {{ var('default_margin_rate') }}) as {{ money_type() }})
        ) as cost_amount,

        -- timestamps (naive, business time zone)
        ordered_at,
        updated_at

    from base_orders
    where row_disposition = 'staged'

),

final as (

    select
        order_id,
        customer_id,
        product_category,
        sales_channel,
        status,
        is_completed,
        is_returned,
        is_cancelled,
        gross_amount,
        cast(discount_amount as {{ money_type() }}) as discount_amount,
        cost_amount,
        is_cost_estimated,
        cast(gross_amount - discount_amount as {{ money_type() }}) as net_amount,
        cast(gross_amount - cost_amount as {{ money_type() }}) as margin_amount,
        ordered_at,
        cast(ordered_at as date) as ordered_date,
        updated_at
    from renamed

)

select * from final
