{#- The sum of whole numbers (scores, counts, running totals) as a BIGINT on every engine: DuckDB sums
    integers into HUGEINT, which its storage reads back many times slower (docs/DECISIONS.md, "Counts are
    BIGINT", has the measurements). Counting rows that match a condition is `count(case when ... then 1
    end)`, BIGINT everywhere already. `over` is a window clause for running totals ("partition by ...
    order by ... rows between ..."), or none. -#}
{% macro whole_number_sum(expression, over=none) -%}
    cast(sum({{ expression }}){% if over %} over ({{ over }}){% endif %} as {{ dbt.type_bigint() }})
{%- endmacro %}
