{#-
    The call list for the as-of date (回访清单, DOMAIN.md §5, seed 000 §五): who the call centre should
    contact today, why, with what recommended action (stage_strategies, seed 002) and in what order.
    A customer appears once, with all their reasons; the priority is that of the most urgent one:
      1 high_value_at_risk    tier A, and declining or risk score >= call_list_min_risk_score
      2 high_value_no_contact tier A, no call either way in the last contact_gap_days
      3 onboarding            stage new, onboarding_call_days or more since the first order, not called since it
      4 won_back              stage won_back (returned after churn this period)
      5 birthday_top_tier     tier A, birthday within birthday_window_days from today
    Closed accounts (离网) are never on the list. High value = value_tier A of fct_customer_value_tiers.
-#}

with

customers as (

    select * from {{ ref('dim_customers') }}

),

customer_birthdays as (

    select
        customer_id,
        birth_date
    from {{ ref('stg_crm__customers') }}

),

early_warning as (

    select * from {{ ref('fct_early_warning') }}

),

calls as (

    select * from {{ ref('stg_crm__calls') }}

),

strategies as (

    select * from {{ ref('stage_strategies') }}

),

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

day_offsets as (

    -- 0 to 366, from dbt's cross-database numbers table
    select cast(generated_number as integer) - 1 as day_offset
    from ({{ dbt.generate_series(367) }}) as series

),

window_days as (

    -- today and the next birthday_window_days days (at most 366: validated var)
    select
        cast({{ dbt.dateadd('day', 'day_offsets.day_offset', 'as_of_dates.as_of_date') }} as date) as calendar_date
    from day_offsets
    cross join as_of_dates
    where day_offsets.day_offset <= {{ var('birthday_window_days') }}

),

upcoming_birthdays as (

    -- 29 February birthdays are celebrated on 28 February in other years
    select distinct customer_birthdays.customer_id
    from customer_birthdays
    inner join window_days
        on
            extract(month from customer_birthdays.birth_date) = extract(month from window_days.calendar_date)
            and (
                extract(day from customer_birthdays.birth_date) = extract(day from window_days.calendar_date)
                or (
                    extract(month from customer_birthdays.birth_date) = 2
                    and extract(day from customer_birthdays.birth_date) = 29
                    and extract(day from window_days.calendar_date) = 28
                    and extract(month from {{ dbt.dateadd('day', 1, 'window_days.calendar_date') }}) = 3
                )
            )

),

last_calls as (

    select
        calls.customer_id,
        max(calls.started_date) as last_call_date
    from calls
    cross join as_of_dates
    where
        calls.customer_id is not null
        and calls.started_date <= as_of_dates.as_of_date
    group by 1

),

candidates as (

    select
        customers.customer_id,
        customers.as_of_date,
        customers.stage_code,
        customers.stage_label_en,
        customers.stage_label_zh,
        customers.value_tier,
        customers.first_order_date,
        last_calls.last_call_date,
        early_warning.risk_score,
        early_warning.reason_codes as risk_reason_codes,
        coalesce(
            customers.value_tier = 'A'
            and (
                customers.stage_code = 'declining'
                or early_warning.risk_score >= {{ var('call_list_min_risk_score') }}
            ),
            false
        ) as is_high_value_at_risk,
        coalesce(
            customers.value_tier = 'A'
            and (
                last_calls.last_call_date is null
                or last_calls.last_call_date
                <= cast({{ dbt.dateadd('day', -var('contact_gap_days'), 'customers.as_of_date') }} as date)
            ),
            false
        ) as is_high_value_no_contact,
        coalesce(
            customers.stage_code = 'new'
            and {{ dbt.datediff('customers.first_order_date', 'customers.as_of_date', 'day') }}
            >= {{ var('onboarding_call_days') }}
            and (last_calls.last_call_date is null or last_calls.last_call_date < customers.first_order_date),
            false
        ) as is_onboarding_due,
        coalesce(customers.stage_code = 'won_back', false) as is_won_back,
        coalesce(customers.value_tier = 'A' and upcoming_birthdays.customer_id is not null, false)
            as is_top_tier_birthday
    from customers
    left join early_warning
        on customers.customer_id = early_warning.customer_id
    left join last_calls
        on customers.customer_id = last_calls.customer_id
    left join upcoming_birthdays
        on customers.customer_id = upcoming_birthdays.customer_id
    where not coalesce(customers.is_account_closed, false)

),

reasoned as (

    select
        *,
        case
            when is_high_value_at_risk then 1
            when is_high_value_no_contact then 2
            when is_onboarding_due then 3
            when is_won_back then 4
            when is_top_tier_birthday then 5
        end as priority,
        {{ dbt.concat([
            "case when is_high_value_at_risk then 'high_value_at_risk|' else '' end",
            "case when is_high_value_no_contact then 'high_value_no_contact|' else '' end",
            "case when is_onboarding_due then 'onboarding|' else '' end",
            "case when is_won_back then 'won_back|' else '' end",
            "case when is_top_tier_birthday then 'birthday_top_tier|' else '' end",
        ]) }} as reason_codes_delimited
    from candidates

),

final as (

    select
        reasoned.as_of_date as call_date,
        row_number() over (
            order by reasoned.priority asc, coalesce(reasoned.risk_score, 0) desc, reasoned.customer_id asc
        ) as call_rank,
        reasoned.customer_id,
        reasoned.priority,
        substring(reasoned.reason_codes_delimited, 1, length(reasoned.reason_codes_delimited) - 1)
            as reason_codes,
        reasoned.stage_code,
        reasoned.stage_label_en,
        reasoned.stage_label_zh,
        reasoned.value_tier,
        reasoned.risk_score,
        reasoned.risk_reason_codes,
        reasoned.first_order_date,
        reasoned.last_call_date,
        strategies.recommended_action_en,
        strategies.recommended_action_zh
    from reasoned
    left join strategies
        on reasoned.stage_code = strategies.stage_code
    where reasoned.priority is not null

)

select * from final
