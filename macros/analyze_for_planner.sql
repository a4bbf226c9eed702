{#-
    PostgreSQL plans each query from table statistics, and a table dbt has just written has none until
    autovacuum's next pass (up to a minute later, long after the next model has run). Without them the
    planner guesses, and one wrong guess was 80 s of the lifecycle chain's 85 s on ~1,000 customers
    (int_customer_months_measured; the same select takes 0.1 s once the tables are analyzed). So every
    table and incremental model on PostgreSQL ends with ANALYZE (a post-hook of every model in
    dbt_project.yml; a sample of at most 30,000 rows). DuckDB and Spark plan without these statistics:
    the hook renders empty there, and dbt skips an empty hook.
-#}
{% macro analyze_for_planner() -%}
    {{ return(adapter.dispatch('analyze_for_planner', 'customer_lifecycle')()) }}
{%- endmacro %}

{% macro default__analyze_for_planner() -%}
{%- endmacro %}

{% macro postgres__analyze_for_planner() -%}
    {%- if model.config.materialized in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
