{#-
    Value tier from a rank (DOMAIN.md §7, seed 000 三: 20 / 60 / 20). One macro for every tiering
    (historical CLV, predicted total CLV, monthly snapshots), so the rule cannot drift between them.

    Customers are ranked 1..n, best first, ties broken by customer_id. With cut points c_1 < ... < c_k
    (var value_tier_cutoffs, default [0.2, 0.8]) the boundary ranks are b_i = round(n x c_i), rounded
    half up in exact decimal arithmetic; a customer of rank r gets the first tier i with r <= b_i, and
    the last tier if none. So tier sizes are the nearest whole numbers to the shares (n = 10: 2/6/2,
    n = 7: 1/5/1 since 1.4 -> 1 and 5.6 -> 6, n = 1: the single customer is B). Tiers are letters:
    A for the first, then B, C, ... (k cut points make k + 1 tiers).
-#}
{% macro value_tier_letters() %}
    {%- set cutoffs = var('value_tier_cutoffs') -%}
    {{ return('ABCDEFGHIJKLMNOPQRSTUVWXYZ'[:cutoffs | length + 1] | list) }}
{% endmacro %}

{% macro value_tier(rank_column, customer_count_column) -%}
    {%- set cutoffs = var('value_tier_cutoffs') -%}
    {%- set letters = value_tier_letters() -%}
    case
        {%- for cutoff in cutoffs %}
        when {{ rank_column }} <= round({{ customer_count_column }} * {{ cutoff }}) then '{{ letters[loop.index0] }}'
        {%- endfor %}
        else '{{ letters[-1] }}'
    end
{%- endmacro %}

{#- Position of a tier letter (1 = A), to tell a move up from a move down. -#}
{% macro value_tier_order(tier_column) -%}
    case {{ tier_column }}
        {%- for letter in value_tier_letters() %}
        when '{{ letter }}' then {{ loop.index }}
        {%- endfor %}
    end
{%- endmacro %}
