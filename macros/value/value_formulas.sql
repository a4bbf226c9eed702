{#-
    Formulas of customer value (DOMAIN.md §6, seed 003 二), each in one place. Every model that needs
    one of these numbers calls the macro, so a change of rule is a change of one line.
-#}

{#- The type of every value amount the intermediate models compute (cash-flow components, call costs,
    allocated spend): six decimals (referral shares and call minutes have more than two), twelve integer
    digits (a trillion in one customer-month). Narrow enough to be a 64-bit integer on DuckDB and Spark:
    the 28-digit numeric of dbt.type_numeric() is a 128-bit integer there, and the sums, running windows and
    arithmetic over 13 M customer-months took about twice as long with it. Sums widen as every engine
    widens them (a sum is numeric(38,6) either way); an amount a mart publishes as it is, the mart casts
    to dbt.type_numeric(), so the marts' types did not change with this one. -#}
{% macro value_amount_type() -%}
    decimal(18, 6)
{%- endmacro %}

{#- The first day of the month of a date or timestamp, as a date (cash flows are dated by month). -#}
{% macro value_month_start(expression) -%}
    cast({{ dbt.date_trunc('month', expression) }} as date)
{%- endmacro %}

{#- Months from one month start to another (both dates on the first of a month). -#}
{% macro value_months_between(from_month_start, to_month_start) -%}
    cast({{ dbt.datediff(from_month_start, to_month_start, 'month') }} as integer)
{%- endmacro %}

{#- Cost of agent time on a call: minutes x var call_cost_per_minute; a call without a duration costs 0. -#}
{% macro value_call_cost(minutes_column) -%}
    cast(coalesce({{ minutes_column }}, 0) * {{ var('call_cost_per_minute') }} as {{ value_amount_type() }})
{%- endmacro %}

{#- Negative-referral cost (推荐破坏成本) of complaints counted by severity, from the var map: the sum over
    severities of count x cost. `count_column_pattern` names the count column with '{severity}' in it. -#}
{% macro value_negative_referral_cost(count_column_pattern) -%}
    {%- set costs = var('negative_referral_cost') -%}
    cast(
        {%- for severity in crm_enum_values('complaints', 'severity') %}
        coalesce({{ count_column_pattern | replace('{severity}', severity) }}, 0) * {{ costs[severity] }}
        {%- if not loop.last %} +{% endif %}
        {%- endfor %}
    as {{ value_amount_type() }})
{%- endmacro %}

{#- A referrer's share of the net margin (gross - discount - cost) of a referred customer's order. -#}
{% macro value_referral_gain(gross_column, discount_column, cost_column) -%}
    cast({{ var('referral_credit_share') }}
        * ({{ gross_column }} - coalesce({{ discount_column }}, 0) - {{ cost_column }}) as {{ value_amount_type() }})
{%- endmacro %}

{#- Present value at acquisition of a cash flow m months after it: CF_m / (1 + r)^(m / 12). -#}
{% macro value_discounted(cash_flow_column, months_column) -%}
    cast({{ cash_flow_column }}
        / power(cast(1 + {{ var('clv_discount_rate') }} as {{ value_type_double() }}),
                cast({{ months_column }} as {{ value_type_double() }}) / 12)
        as {{ value_amount_type() }})
{%- endmacro %}

{#- A double-precision type. value_type_double() is `float`, which is 4-byte single precision on DuckDB and
    Spark (8-byte only on PostgreSQL): not enough for discount factors, shares or predicted money. -#}
{% macro value_type_double() %}
    {{ return(adapter.dispatch('value_type_double', 'customer_lifecycle')()) }}
{% endmacro %}

{% macro default__value_type_double() %}{{ return('double') }}{% endmacro %}

{% macro postgres__value_type_double() %}{{ return('double precision') }}{% endmacro %}
