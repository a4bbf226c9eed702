with

base_calls as (

    select * from {{ ref('base_crm__calls') }}

),

renamed as (

    select
        -- ids (customer_id is null for an unknown caller)
        call_id,
        customer_id,
        agent_id,
        campaign_id,

        -- PII: keyed hash and masked form only
        phone_hash,
        phone_masked,

        -- categories
        direction,
        purpose,
        outcome,

        -- booleans: a call with talk time whose outcome is not a failed connection
        (
            coalesce(duration_seconds, 0) > 0
            and coalesce(outcome, '') not in ({{ "'" ~ unanswered_call_outcomes() | join("', '") ~ "'" }})
        ) as is_answered,

        -- numerics: whole seconds
        cast(round(duration_seconds, 0) as bigint) as duration_seconds,
        cast(duration_seconds / 60.0 as decimal(18, 4)) as duration_minutes,
        cast(satisfaction_score as integer) as satisfaction_score,

        -- timestamps (naive, business time zone)
        started_at,
        cast(started_at as date) as started_date

    from base_calls
    where row_disposition = 'staged'

),

final as (

    select * from renamed

)

select * from final
