{#- The sum of whole numbers (counts, scores, running totals) as a BIGINT on every engine. DuckDB sums
    integers into HUGEINT, and a HUGEINT column of 15 M rows takes about 1.5 s to read back where a BIGINT
    one takes a twentieth of that (docs/DECISIONS.md, "Counts are BIGINT"). Counting rows that match a
    condition is `count(case when ... then 1 end)`, BIGINT everywhere already. `over` is a window clause
    for running totals ("partition by ... order by ... rows between ..."), or none. -#}
{% macro whole_number_sum(expression, over=none) -%}
    cast(sum({{ expression }}){% if over %} over ({{ over }}){% endif %} as {{ dbt.type_bigint() }})
{%- endmacro %}
