{#-
    The path-dependent stage of DOMAIN.md §4 (dynamics of seed 004, 不可跳跃性), set-based:

    1. States that depend only on the raw rule of this and the two previous periods:
       churned (the rule says so), won_back (the first period after a churned one that is not
       churned: only a new completed order can lift the churn rule), growing in the period after
       won_back, declining (rule says so, from any stage but prospect: a first purchase month that
       already looks overdue is just new).
    2. Everything else lies on the up path prospect(0) → new(1) → growing(2) → mature(3), where a
       customer moves up at most one step per period: level_t = min(rule_t, level_t-1 + 1). Unrolled
       inside a segment that starts at t0 with value c, that is
           level_t = t + min(c - t0, min over t0 < k <= t of (rule_k - k)),
       a running minimum of (rule level - period number) between resets. A segment starts after each
       state of step 1 (recovery from declining and the period after won_back start at growing, never
       higher), or at the customer's first period (start capped at new).
    3. Mature is left only through declining or churned (seed 004: any fall in relationship level is
       退化, and 稳定期 is reached only through 形成期): the entry thresholds gate entry, not exit, so
       once a segment reaches mature it stays mature until a state of step 1 ends the segment.
    No recursion: a few passes of window functions, linear in the number of customer-months.

    The passes run on the columns the engine reads (rule_inputs), and the result is narrow: keys,
    month end and the stage columns. The month's measures stay in int_customer_months_measured, and
    readers join them where they need them (the lifecycle fact for every month, the as-of month for
    the customer dimension and early warning): sorting and writing narrow rows is what keeps this
    model fast at scale (docs/DECISIONS.md, "The stage engine writes narrow rows").

    Incremental (macros/incremental/customer_months.sql): the months of changed customers are replayed
    from their first period, and everyone else continues from the state stored with their last month
    before the recomputed ones (the rule stages of that month and the one before, the running counts,
    the fixed state, the level, the segment's highest level, the current spell). That stored row enters
    the passes as the first row of the customer (is_stored_state) and gives each pass the value the
    replay would have reached there, so the passes are the same on a full build (no stored rows) and on
    an incremental run, and the table equals a full build row for row.
-#}

{{ config(**customer_month_model_config()) }}

-- depends_on: {{ ref('int_customer_change_stamps') }}

{%- set continues_stored_states = customer_months_rebuild() == 'changed' %}
{#- The stored state's columns, as the passes read them: columns when an incremental run continues stored
    states, null literals when every customer is replayed (a full build), so that the six sorts do not
    carry seven empty columns there (the engine's full build about 15% faster at scale 10). -#}
{%- set stored_columns = {
    'period_number': dbt.type_bigint(),
    'previous_rule_stage_code': dbt.type_string(),
    'fixed_stage_code': dbt.type_string(),
    'stage_level': dbt.type_bigint(),
    'highest_level': dbt.type_bigint(),
    'months_in_stage': dbt.type_bigint(),
    'stage_started_date': 'date',
} %}
{%- set stored = {} %}
{%- for column, type in stored_columns.items() %}
{%- do stored.update({column: 'stored_' ~ column if continues_stored_states else 'cast(null as ' ~ type ~ ')'}) %}
{%- endfor %}
{%- set running_total = 'partition by customer_id order by month_start_date'
    ~ ' rows between unbounded preceding and current row' %}

with

rule_inputs as (

    select
        customer_id,
        month_start_date,
        month_end_date,
        rule_stage_code,
        purchase_days_to_date,
        calls,
        inbound_calls,
        answered_calls
    from {{ ref('int_customer_months_measured') }}
    where {{ customer_month_in_scope() }}

),
{%- if continues_stored_states %}

stored_states as (

    -- the last stored month before each customer's first recomputed month (the pre-hook deleted the
    -- recomputed months; a customer replayed whole has none left)
    select stored.*
    from {{ this }} as stored
    inner join (
        select
            customer_id,
            min(month_start_date) as first_month_start_date
        from rule_inputs
        group by 1
    ) as recomputed
        on
            stored.customer_id = recomputed.customer_id
            and stored.month_start_date
            = cast({{ dbt.dateadd('month', -1, 'recomputed.first_month_start_date') }} as date)
    -- implied by the join (only customers not replayed whole have a stored month left, the one before the
    -- recent months), written as a literal bound so that the scan skips the older months
    where stored.month_start_date >= {{ customer_months_recent_from(months_before=1) }}

),
{%- endif %}

engine_inputs as (

    select
        *,
        {%- if continues_stored_states %}
        {%- for column, type in stored_columns.items() %}
        cast(null as {{ type }}) as stored_{{ column }},
        {%- endfor %}
        {%- endif %}
        false as is_stored_state
    from rule_inputs
    {%- if continues_stored_states %}
    union all
    -- the running counts continue from the stored totals
    select
        customer_id,
        month_start_date,
        month_end_date,
        rule_stage_code,
        purchase_days_to_date,
        calls_to_date as calls,
        inbound_calls_to_date as inbound_calls,
        answered_calls_to_date as answered_calls,
        {%- for column in stored_columns %}
        {{ column }} as stored_{{ column }},
        {%- endfor %}
        true as is_stored_state
    from stored_states
    {%- endif %}

),

ruled as (

    select
        *,
        -- a stored state is the first row of its customer and carries its own period number
        row_number() over (partition by customer_id order by month_start_date) - 1
        + coalesce(first_value({{ stored.period_number }}) over (partition by customer_id order by month_start_date), 1)
            as period_number,
        lag(rule_stage_code) over (partition by customer_id order by month_start_date)
            as previous_rule_stage_code,
        coalesce(
            lag(rule_stage_code, 2) over (partition by customer_id order by month_start_date),
            lag({{ stored.previous_rule_stage_code }}) over (partition by customer_id order by month_start_date)
        ) as second_previous_rule_stage_code,
        lag(purchase_days_to_date) over (partition by customer_id order by month_start_date)
            as previous_purchase_days_to_date,
        {{ whole_number_sum('calls', over=running_total) }} as calls_to_date,
        {{ whole_number_sum('inbound_calls', over=running_total) }} as inbound_calls_to_date,
        {{ whole_number_sum('answered_calls', over=running_total) }} as answered_calls_to_date,
        case rule_stage_code
            when 'prospect' then 0
            when 'new' then 1
            when 'growing' then 2
            when 'mature' then 3
            -- declining in the first purchase period is not a decline (nothing to decline from)
            when 'declining' then 1
        end as rule_level
    from engine_inputs

),

fixed_states as (

    select
        *,
        case
            when is_stored_state then {{ stored.fixed_stage_code }}
            when rule_stage_code = 'churned' then 'churned'
            when previous_rule_stage_code = 'churned' then 'won_back'
            -- "the next period continues as growing" (unless churned again)
            when second_previous_rule_stage_code = 'churned' then 'growing'
            when rule_stage_code = 'declining' and coalesce(previous_purchase_days_to_date, 0) > 0
                then 'declining'
        end as fixed_stage_code
    from ruled

),

segmented as (

    select
        *,
        count(case when fixed_stage_code in ('churned', 'won_back', 'declining') then 1 end) over (
            partition by customer_id order by month_start_date rows between unbounded preceding and current row
        ) as segment_number,
        lag(fixed_stage_code) over (partition by customer_id order by month_start_date)
            as previous_fixed_stage_code
    from fixed_states

),

offsets as (

    select
        *,
        case
            -- the segment's lowest offset so far: the stored level is period number + that minimum
            when is_stored_state then {{ stored.stage_level }} - period_number
            when fixed_stage_code in ('churned', 'won_back', 'declining') then null
            -- recovery from declining, and the period after won_back, restart at growing
            when fixed_stage_code = 'growing' or previous_fixed_stage_code in ('declining', 'won_back')
                then 2 - period_number
            -- the first period: a prospect can at most become new
            when period_number = 1
                then (case when rule_level > 1 then 1 else rule_level end) - period_number
            else rule_level - period_number
        end as level_offset
    from segmented

),

leveled as (

    select
        *,
        period_number + min(level_offset) over (
            partition by customer_id, segment_number
            order by month_start_date rows between unbounded preceding and current row
        ) as stage_level
    from offsets

),

held as (

    select
        *,
        -- step 3: the highest level reached in the segment so far; mature (3) is the top, so "reached
        -- mature" holds the stage there
        max(coalesce({{ stored.highest_level }}, stage_level)) over (
            partition by customer_id, segment_number
            order by month_start_date rows between unbounded preceding and current row
        ) as highest_level
    from leveled

),

staged as (

    select
        *,
        coalesce(
            fixed_stage_code,
            case
                when highest_level = 3 then 'mature'
                when stage_level = 2 then 'growing'
                when stage_level = 1 then 'new'
                when stage_level = 0 then 'prospect'
            end
        ) as stage_code
    from held

),

spell_starts as (

    select
        *,
        lag(stage_code) over (partition by customer_id order by month_start_date) as previous_stage_code
    from staged

),

spells as (

    -- a spell (consecutive periods in one stage) starts where the stage differs from the previous one;
    -- the latest start so far is the current spell's start (same window as the passes above)
    select
        customer_id,
        month_start_date,
        month_end_date,
        period_number,
        stage_code,
        previous_stage_code,
        period_number + 1 - max(
            case
                when is_stored_state then period_number + 1 - {{ stored.months_in_stage }}
                when previous_stage_code is null or previous_stage_code <> stage_code then period_number
            end
        ) over (
            partition by customer_id order by month_start_date rows between unbounded preceding and current row
        ) as months_in_stage,
        max(
            case
                when is_stored_state then {{ stored.stage_started_date }}
                when previous_stage_code is null or previous_stage_code <> stage_code then month_start_date
            end
        ) over (
            partition by customer_id order by month_start_date rows between unbounded preceding and current row
        ) as stage_started_date,
        case
            when stage_code <> 'prospect' then null
            -- DOMAIN.md §4: engaged = an inbound call, or enough answered calls; contacted = any call
            when
                inbound_calls_to_date > 0
                or answered_calls_to_date >= {{ var('engaged_min_answered_calls') }}
                then 'engaged'
            when calls_to_date > 0 then 'contacted'
            else 'not_contacted'
        end as prospect_status,
        is_stored_state,
        rule_stage_code,
        previous_rule_stage_code,
        purchase_days_to_date,
        calls_to_date,
        inbound_calls_to_date,
        answered_calls_to_date,
        fixed_stage_code,
        stage_level,
        highest_level
    from spell_starts

),

final as (

    select
        customer_id,
        month_start_date,
        month_end_date,
        period_number,
        stage_code,
        previous_stage_code,
        months_in_stage,
        stage_started_date,
        prospect_status,
        -- the state an incremental run continues from (stored_states above)
        rule_stage_code,
        previous_rule_stage_code,
        purchase_days_to_date,
        calls_to_date,
        inbound_calls_to_date,
        answered_calls_to_date,
        fixed_stage_code,
        stage_level,
        highest_level
    from spells
    where not is_stored_state

)

select * from final
