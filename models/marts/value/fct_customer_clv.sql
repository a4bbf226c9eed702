-- Customer lifetime value (DOMAIN.md §6): one row per customer with a completed order. Historical
-- CLV is the net present value at acquisition of the monthly cash flows, with every component summed
-- so an analyst can see why a customer is worth what they are worth (int_customer_clv_historical).
-- Predicted future CLV comes from the Python BG/NBD + Gamma-Gamma asset (source python_models); it is
-- null until that asset has run, and total CLV then equals historical CLV.
with

historical as (
    select * from {{ ref('int_customer_clv_historical') }}
),

predictions as (
    select * from {{ source('python_models', 'clv_customer_predictions') }}
),

final as (
    select
        -- ids, acquisition, gains, costs and value: the historical columns, in their order
        historical.*,
        -- predictive (null until the Python asset has scored this customer)
        cast(predictions.p_alive as {{ value_type_double() }}) as p_alive,
        cast(predictions.expected_purchases as {{ value_type_double() }}) as expected_purchases,
        cast(predictions.expected_margin_per_purchase as {{ dbt.type_numeric() }}) as expected_margin_per_purchase,
        cast(predictions.predicted_future_clv as {{ dbt.type_numeric() }}) as predicted_future_clv,
        cast(
            historical.historical_clv + coalesce(predictions.predicted_future_clv, 0)
            as {{ dbt.type_numeric() }}
        ) as total_clv
    from historical
    left join predictions
        on historical.customer_id = predictions.customer_id
)

select * from final
