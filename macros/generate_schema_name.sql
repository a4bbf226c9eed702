{#- Folders map to plain schemas (staging, intermediate, marts, reference, snapshots), the same on every
    engine, so BI users and grants see stable names instead of dbt's '<target>_<custom>' default. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
