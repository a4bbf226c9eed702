{#-
    Stage flows per month for flow (Sankey) charts: how many customers went from one stage at the
    previous month-end to another at this one. Stays (from = to) are included, so each month's
    rows add up to all customers; a customer's first month is an entry (from_stage_code null).
-#}

with

stages as (

    select * from {{ ref('int_customer_stages_sequenced') }}

),

framework_labels as (

    select * from {{ ref('lifecycle_framework_labels') }}
    where framework = '{{ var("lifecycle_framework") }}'

),

flows as (

    select
        month_start_date,
        month_end_date,
        previous_stage_code as from_stage_code,
        stage_code as to_stage_code,
        count(*) as customers
    from stages
    group by 1, 2, 3, 4

),

final as (

    select
        {{ dbt.concat([
            dbt.safe_cast('flows.month_start_date', dbt.type_string()),
            "'|'",
            "coalesce(flows.from_stage_code, '(entry)')",
            "'|'",
            'flows.to_stage_code',
        ]) }} as transition_key,
        flows.month_start_date,
        flows.month_end_date,
        flows.from_stage_code,
        from_labels.label_en as from_stage_label_en,
        from_labels.label_zh as from_stage_label_zh,
        flows.to_stage_code,
        to_labels.label_en as to_stage_label_en,
        to_labels.label_zh as to_stage_label_zh,
        flows.from_stage_code is null as is_entry,
        coalesce(flows.from_stage_code <> flows.to_stage_code, true) as is_stage_change,
        flows.customers
    from flows
    left join framework_labels as from_labels
        on flows.from_stage_code = from_labels.stage_code
    left join framework_labels as to_labels
        on flows.to_stage_code = to_labels.stage_code

)

select * from final
