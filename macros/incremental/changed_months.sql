{#-
    Incremental monthly marts that accumulate and rank across customers (docs/incremental.md). A month m
    of such a mart depends on its input's months up to m (running totals per customer, ranks among all
    customers of m), so after a run it can change only if an input month on or before m changed. The
    model keeps, per input month, a fingerprint of the rows it took in (row count and the sum of a hash of
    each row's columns that it reads) in intermediate.input_month_fingerprints; an incremental run
    compares them with the input's current fingerprints, deletes its own months from the first changed
    input month on (pre-hook) and recomputes them, continuing each customer from the row stored for the
    month before. No change stamps and no scope rules are needed: whatever changed the input, the months
    it touched are found, and on an ordinary next day that is the as-of month (and the months of a late
    acquisition). A model without recorded fingerprints is recomputed whole. Spark rebuilds these models
    as tables (no delete there): the macros render nothing.
-#}

{#- The table of recorded input fingerprints (macros/incremental/bookkeeping.sql). -#}
{% macro input_month_fingerprints() -%}
    {{ return(incremental_bookkeeping_table('input_month_fingerprints')) }}
{%- endmacro %}

{#- A 64-bit hash of a row's columns; only compared with itself on the same engine. -#}
{% macro row_hash(columns) -%}
    {{ return(adapter.dispatch('row_hash', 'customer_lifecycle')(columns)) }}
{%- endmacro %}

{% macro default__row_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro postgres__row_hash(columns) -%}
    hashtextextended(concat_ws('|'
        {%- for column in columns %}, coalesce(cast({{ column }} as text), '<null>'){% endfor -%}
    ), 0)
{%- endmacro %}

{#- Per month of the input: its rows and the sum of their hashes (a select). -#}
{% macro input_month_fingerprints_select(input, columns) -%}
    select
        month_start_date,
        count(*) as row_count,
        cast(sum(row_hash) as {{ dbt.type_string() }}) as row_hash
    from (
        select month_start_date, {{ row_hash(columns) }} as row_hash
        from {{ ref(input) }}
    ) as hashed
    group by month_start_date
{%- endmacro %}

{#- SQL date literal: the first month an incremental run recomputes (read with a query when the model
    runs, so it is a literal the warehouse pushes into its scans): the first input month whose fingerprint
    differs from the recorded one (with none recorded, the first input month), 9999-12-31 when nothing
    changed; none on a full build. -#}
{% macro changed_months_from(input, columns) -%}
    {%- if not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return("cast('0001-01-01' as date)") }}
    {%- endif -%}
    {%- set expected = input_month_fingerprints() -%}
    {%- if adapter.get_relation(expected.database, expected.schema, expected.identifier) is none -%}
        {{ return("cast('0001-01-01' as date)") }}
    {%- endif -%}
    {%- set first_changed -%}
        with

        recorded as (
            select month_start_date, row_count, row_hash
            from {{ expected }}
            where model_name = '{{ this.identifier }}'
        ),

        current_input as (
            {{ input_month_fingerprints_select(input, columns) }}
        )

        select coalesce(
            cast(min(coalesce(current_input.month_start_date, recorded.month_start_date)) as {{ dbt.type_string() }}),
            '9999-12-31'
        )
        from current_input
        full outer join recorded
            on current_input.month_start_date = recorded.month_start_date
        where
            current_input.row_count is null
            or recorded.row_count is null
            or current_input.row_count != recorded.row_count
            or current_input.row_hash != recorded.row_hash
    {%- endset -%}
    {#- agate may read the text back as a date: the string form of either is YYYY-MM-DD -#}
    {%- set first_month = run_query(first_changed).columns[0].values()[0] | string -%}
    {{ return("cast('" ~ first_month[:10] ~ "' as date)") }}
{%- endmacro %}

{#- Pre-hook: delete the months the run recomputes, and record them for the model's uniqueness test
    (macros/incremental/run_scopes.sql). -#}
{% macro delete_changed_months(input, columns) -%}
    {%- if is_incremental() -%}
        {%- set months_from = changed_months_from(input, columns) -%}
        delete from {{ this }} where month_start_date >= {{ months_from }};
        {{ record_run_scope(months_from=[months_from]) }}
    {%- endif -%}
{%- endmacro %}

{#- The fingerprints table, created if missing: by the change stamps' post-hook (before models run in
    parallel) and by each recording. -#}
{% macro create_input_month_fingerprints() -%}
    {%- if target.type != 'spark' -%}
        create table if not exists {{ input_month_fingerprints() }} (
            model_name {{ dbt.type_string() }},
            month_start_date date,
            row_count {{ dbt.type_bigint() }},
            row_hash {{ dbt.type_string() }}
        )
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of every build: record the input's fingerprints the model now reflects. -#}
{% macro record_input_month_fingerprints(input, columns) -%}
    {%- if target.type != 'spark' -%}
        {%- set fingerprints = input_month_fingerprints() -%}
        {{ create_input_month_fingerprints() }};
        delete from {{ fingerprints }} where model_name = '{{ this.identifier }}';
        insert into {{ fingerprints }} (model_name, month_start_date, row_count, row_hash)
        select '{{ this.identifier }}', month_start_date, row_count, row_hash
        from ({{ input_month_fingerprints_select(input, columns) }}) as current_input
    {%- endif -%}
{%- endmacro %}

{#- The config of such a model (a dict for `config(**...)`): incremental append with the delete pre-hook
    and the fingerprint post-hook, a table on Spark. `columns` are the input columns the model reads. -#}
{% macro changed_months_model_config(input, columns) -%}
    {%- set arguments = "'" ~ input ~ "', " ~ (columns | tojson) -%}
    {{ return({
        'materialized': 'table' if target.type == 'spark' else 'incremental',
        'incremental_strategy': 'append',
        'pre_hook': '{{ delete_changed_months(' ~ arguments ~ ') }}',
        'post_hook': '{{ record_input_month_fingerprints(' ~ arguments ~ ') }}',
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{#- Models that read the monthly tiers (they rank all customers) besides per-customer inputs: the tier
    columns they fingerprint, the first month whose tiers changed, and their config (a customer-month
    model whose scope also takes every customer's months from that month on). -#}
{% macro tier_fingerprint_columns() -%}
    {{ return(['customer_id', 'month_start_date', 'value_tier', 'cumulative_clv']) }}
{%- endmacro %}

{% macro changed_tier_months_from() -%}
    {{ return(changed_months_from('fct_value_tiers_monthly', tier_fingerprint_columns())) }}
{%- endmacro %}

{% macro tier_months_model_config(month_column='month_start_date') -%}
    {{ return(customer_month_model_config(
        pre_hook="{{ delete_customer_months_in_scope(month_column='" ~ month_column
            ~ "', also_months_from=changed_tier_months_from()) }}",
        also_post_hook="{{ record_input_month_fingerprints('fct_value_tiers_monthly', tier_fingerprint_columns()) }}",
    )) }}
{%- endmacro %}
