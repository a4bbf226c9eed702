{#- DOMAIN.md §3: every raw row ends up in exactly one place. raw_rows is counted on the source itself,
    so a row lost between raw and the base model would show as a mismatch
    (tests/dbt/assert_staging_rows_reconcile.sql). -#}
{%- set tables = crm_raw_tables() -%}

with

{% for table in tables %}
raw_{{ table }} as (

    select count(*) as raw_rows from {{ source('crm', table) }}

),

base_{{ table }} as (

    select
        count(case when row_disposition = 'staged' then 1 end) as staged_rows,
        count(case when row_disposition = 'rejected' then 1 end) as rejected_rows,
        count(case when row_disposition = 'superseded' then 1 end) as superseded_rows
    from {{ ref('base_crm__' ~ table) }}

),

{% endfor %}
unioned as (

    {% for table in tables %}
    select
        '{{ table }}' as table_name,
        raw_{{ table }}.raw_rows,
        coalesce(base_{{ table }}.staged_rows, 0) as staged_rows,
        coalesce(base_{{ table }}.rejected_rows, 0) as rejected_rows,
        coalesce(base_{{ table }}.superseded_rows, 0) as superseded_rows
    from raw_{{ table }}
    cross join base_{{ table }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        table_name,
        cast(raw_rows as bigint) as raw_rows,
        cast(staged_rows as bigint) as staged_rows,
        cast(rejected_rows as bigint) as rejected_rows,
        cast(superseded_rows as bigint) as superseded_rows
    from unioned

)

select * from final
