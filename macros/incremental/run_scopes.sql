{#-
    The scope of an incremental run, kept for the model's own uniqueness test (docs/incremental.md).
    An incremental model deletes the rows of its scope (pre-hook) and appends them recomputed, filtered by
    the same predicate. The predicate reads only the key's customer and month, so a stored row outside the
    scope shares no key with an appended one: a duplicate key after the run lies inside the scope, and the
    rows outside it were tested by earlier runs. The pre-hook records the scope (after its delete, so it
    reads what the model's own filter reads: a select of customers may read `this`), under the dbt
    invocation; a test in the same invocation reads it back and tests the scope only. A test of another
    invocation (a full build, a `dbt test` on its own, Spark) finds none recorded and tests the whole table.
-#}

{#- The table of recorded scopes (macros/incremental/bookkeeping.sql). -#}
{% macro incremental_run_scopes() -%}
    {{ return(incremental_bookkeeping_table('incremental_run_scopes')) }}
{%- endmacro %}

{#- Created if missing (macros/incremental/bookkeeping.sql). -#}
{% macro create_incremental_run_scopes() -%}
    {%- if target.type != 'spark' -%}
        create table if not exists {{ incremental_run_scopes() }} (
            model_name {{ dbt.type_string() }},
            invocation_id {{ dbt.type_string() }},
            customer_id {{ dbt.type_string() }},
            months_from date
        )
    {%- endif -%}
{%- endmacro %}

{#- Whether a test of the running model reads its run's scope (value_unique_combination with in_run_scope):
    only then is it recorded, since the customers' select costs a query. -#}
{% macro run_scope_is_tested() -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'test' and node.attached_node == model.unique_id
            and ((node.test_metadata or {}).kwargs or {}).get('in_run_scope') -%}
            {{ return(true) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}

{#- Pre-hook statements, after the delete, for a model whose test reads its scope: replace the model's
    recorded scope by this run's, one row per customer recomputed whole (a select of customer ids, or none)
    and one per first month every customer recomputes (date literals; none is skipped). Nothing is recorded
    when `recorded` is false (a run that recomputes every row: its test reads the whole table). -#}
{% macro record_run_scope(customers=none, months_from=[], recorded=true) -%}
    {%- if not run_scope_is_tested() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set scopes = incremental_run_scopes() -%}
    {%- set months = months_from | reject('none') | list -%}
    {{ create_incremental_run_scopes() }};
    delete from {{ scopes }} where model_name = '{{ this.identifier }}'
    {%- if recorded %};
    insert into {{ scopes }} (model_name, invocation_id, customer_id, months_from)
    {%- for month in months %}
    select '{{ this.identifier }}', '{{ invocation_id }}', cast(null as {{ dbt.type_string() }}), {{ month }}
    union all
    {%- endfor %}
    select '{{ this.identifier }}', '{{ invocation_id }}', cast(null as {{ dbt.type_string() }}), cast(null as date)
    union all
    select '{{ this.identifier }}', '{{ invocation_id }}', cast(customer_id as {{ dbt.type_string() }}), cast(null as date)
    from ({{ customers if customers is not none else 'select customer_id from ' ~ scopes ~ ' where 1 = 0' }}) as scope_customers
    {%- endif -%}
{%- endmacro %}

{#- For a test of `model`: a predicate on its rows, true inside the scope its run recorded in this
    invocation (customers recomputed whole, or months every customer recomputed; false when the scope was
    empty), or none when none was recorded, or months were and the model has no month column (test every
    row). -#}
{% macro run_scope_predicate(model, customer_column='customer_id', month_column='month_start_date') -%}
    {%- if not execute or target.type == 'spark' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set expected = incremental_run_scopes() -%}
    {%- if adapter.get_relation(expected.database, expected.schema, expected.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set recorded_query -%}
        select
            count(*) as recorded_rows,
            count(customer_id) as customers,
            cast(min(months_from) as {{ dbt.type_string() }}) as months_from
        from {{ expected }}
        where model_name = '{{ model.identifier }}' and invocation_id = '{{ invocation_id }}'
    {%- endset -%}
    {%- set recorded = run_query(recorded_query).rows[0] -%}
    {%- if recorded[0] == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set branches = [] -%}
    {%- if recorded[1] > 0 -%}
        {%- do branches.append(customer_column ~ " in (select scoped.customer_id from " ~ expected
            ~ " as scoped where scoped.model_name = '" ~ model.identifier ~ "' and scoped.invocation_id = '"
            ~ invocation_id ~ "' and scoped.customer_id is not null)") -%}
    {%- endif -%}
    {%- if recorded[2] is not none and month_column is none -%}
        {{ return(none) }}
    {%- elif recorded[2] is not none -%}
        {%- do branches.append(month_column ~ " >= cast('" ~ (recorded[2] | string)[:10] ~ "' as date)") -%}
    {%- endif -%}
    {{ return('(' ~ (branches | join(' or ') if branches else '1 = 0') ~ ')') }}
{%- endmacro %}
