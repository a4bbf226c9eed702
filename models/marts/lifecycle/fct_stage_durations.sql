{#-
    Time spent per stage (DOMAIN.md §4): one row per customer and stage spell (consecutive months
    in one stage). A spell that reaches the as-of month is still open: its length is a lower bound
    (right-censored), flagged so averages can leave it out.
-#}

with

stages as (

    select * from {{ ref('int_customer_stages_sequenced') }}

),

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

framework_labels as (

    select * from {{ ref('lifecycle_framework_labels') }}
    where framework = '{{ var("lifecycle_framework") }}'

),

spells as (

    select
        customer_id,
        stage_code,
        stage_started_date,
        min(month_start_date) as started_month_start_date,
        min(month_end_date) as started_month_end_date,
        max(month_start_date) as last_month_start_date,
        max(month_end_date) as last_month_end_date,
        count(*) as months_in_spell
    from stages
    group by 1, 2, 3

),

numbered as (

    select
        *,
        row_number() over (partition by customer_id order by started_month_start_date) as stage_spell_number,
        lag(stage_code) over (partition by customer_id order by started_month_start_date) as previous_stage_code,
        lead(stage_code) over (partition by customer_id order by started_month_start_date) as next_stage_code
    from spells

),

final as (

    select
        {{ dbt.concat([
            'numbered.customer_id',
            "'|'",
            dbt.safe_cast('numbered.stage_spell_number', dbt.type_string()),
        ]) }} as stage_spell_key,
        numbered.customer_id,
        numbered.stage_spell_number,
        numbered.stage_code,
        framework_labels.label_en as stage_label_en,
        framework_labels.label_zh as stage_label_zh,
        numbered.previous_stage_code,
        numbered.next_stage_code,
        numbered.started_month_end_date,
        numbered.last_month_end_date,
        numbered.months_in_spell,
        numbered.last_month_start_date >= as_of_dates.as_of_month_start_date as is_open
    from numbered
    cross join as_of_dates
    left join framework_labels
        on numbered.stage_code = framework_labels.stage_code

)

select * from final
