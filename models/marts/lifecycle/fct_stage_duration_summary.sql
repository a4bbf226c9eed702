{#- Time spent per stage, summarised: how long do customers stay new, growing, mature, declining? -#}

with

durations as (

    select * from {{ ref('fct_stage_durations') }}

),

framework_labels as (

    select * from {{ ref('lifecycle_framework_labels') }}
    where framework = '{{ var("lifecycle_framework") }}'

),

summarised as (

    select
        stage_code,
        count(*) as spells,
        count(case when not is_open then 1 end) as completed_spells,
        count(case when is_open then 1 end) as open_spells,
        -- completed spells only: open spells are cut off by the as-of date (right-censored)
        avg(case when not is_open then cast(months_in_spell as {{ dbt.type_numeric() }}) end)
            as average_months_completed,
        percentile_cont(0.5) within group (order by case when not is_open then months_in_spell end)
            as median_months_completed,
        avg(cast(months_in_spell as {{ dbt.type_numeric() }})) as average_months_all,
        max(months_in_spell) as max_months
    from durations
    group by 1

),

final as (

    select
        summarised.stage_code,
        framework_labels.label_en as stage_label_en,
        framework_labels.label_zh as stage_label_zh,
        framework_labels.sort_order as stage_sort_order,
        summarised.spells,
        summarised.completed_spells,
        summarised.open_spells,
        summarised.average_months_completed,
        summarised.median_months_completed,
        summarised.average_months_all,
        summarised.max_months
    from summarised
    left join framework_labels
        on summarised.stage_code = framework_labels.stage_code

)

select * from final
