{#- The one definition of a severe complaint (var severe_complaint_severities, seed 002's 严重投诉):
    a boolean SQL expression over a complaint's severity column. -#}
{% macro is_severe_complaint(severity_column) -%}
    {{ severity_column }} in ('{{ var('severe_complaint_severities') | join("', '") }}')
{%- endmacro %}
