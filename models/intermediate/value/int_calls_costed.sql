-- Every call to or from a known customer record with its cost of agent time (minutes x
-- call_cost_per_minute), split at the first completed order: calls before it (to a prospect, or to a
-- customer who has not bought yet) are acquisition cost, calls from that instant on are service cost
-- (DOMAIN.md §6). Calls from unknown callers (no customer_id) belong to no customer and no channel,
-- so they are in neither.
-- Incremental (docs/incremental.md): a costed call depends on the call, its customer's acquisition and
-- the as-of date, so a run recomputes the calls of changed customers and every call from the month of the
-- previous run's as-of date on (macros/incremental/customer_months.sql), keyed by the call's start date.

{{ config(**customer_month_model_config(
    pre_hook="{{ delete_customer_months_in_scope(month_column='started_date') }}"
)) }}

-- depends_on: {{ ref('int_customer_change_stamps') }}

with

calls as (
    select * from {{ ref('stg_crm__calls') }}
    where {{ customer_month_in_scope(month_column='started_date') }}
),

acquisitions as (
    select * from {{ ref('int_customer_acquisitions') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

final as (
    select
        -- ids
        calls.call_id,
        calls.customer_id,
        -- strings
        acquisitions.acquisition_channel,
        calls.direction,
        calls.purpose,
        -- numerics
        calls.duration_minutes,
        {{ value_call_cost('calls.duration_minutes') }} as call_cost,
        -- booleans
        (
            acquisitions.acquired_at is null
            or calls.started_at < acquisitions.acquired_at
        ) as is_before_acquisition,
        -- timestamps and dates
        calls.started_at,
        calls.started_date,
        {{ value_month_start('calls.started_date') }} as call_month_start
    from calls
    inner join acquisitions
        on calls.customer_id = acquisitions.customer_id
    cross join as_of_dates
    where calls.started_date <= as_of_dates.as_of_date
)

select * from final
