{#- Every rejected raw row of every table, with its reason code (DOMAIN.md §3: nothing is lost). The
    preview carries hashed/masked PII only, so this model is as safe to query as the staged ones. -#}
{%- set tables = crm_raw_tables() -%}

with

{% for table in tables %}
base_{{ table }} as (

    select * from {{ ref('base_crm__' ~ table) }}

),

{% endfor %}
unioned as (

    {% for table in tables %}
    select
        '{{ table }}' as table_name,
        _raw_row_id as raw_row_id,
        record_id,
        rejection_reason,
        _file_name as file_name,
        _file_row_number as file_row_number,
        _loaded_at as loaded_at,
        record_preview
    from base_{{ table }}
    where row_disposition = 'rejected'
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select * from unioned

)

select * from final
