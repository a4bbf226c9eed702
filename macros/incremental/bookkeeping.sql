{#-
    The incremental models keep three bookkeeping tables in the intermediate schema, beside the change
    stamps: customer_month_watermarks (what each model has taken in), input_month_fingerprints (the input
    months each changed-months model last read) and incremental_run_scopes (what each run recomputed, for
    its key tests). One locator for all three, by name rather than by ref: a generic test must not ref a
    model it does not depend on, and a model's hook finds them the same way. (Spark has no database: none.)
-#}
{% macro incremental_bookkeeping_table(identifier) -%}
    {{ return(api.Relation.create(
        database=target.get('database'),
        schema=generate_schema_name('intermediate', none) | trim,
        identifier=identifier,
    )) }}
{%- endmacro %}

{#- Post-hook of the change stamps: the three tables, created if missing before any incremental model runs
    (two models running at once on PostgreSQL would race to create one). Each recording creates its own too
    (a run that selects a model without the stamps). `stamps` is the change stamps' relation (its `this`). -#}
{% macro create_incremental_bookkeeping(stamps) -%}
    {%- if target.type != 'spark' -%}
        {{ create_customer_months_watermarks(stamps) }};
        {{ create_input_month_fingerprints() }};
        {{ create_incremental_run_scopes() }}
    {%- endif -%}
{%- endmacro %}
