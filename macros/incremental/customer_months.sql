{#-
    Incremental customer-month models (docs/incremental.md). A row of customer c and month m depends on
    c's own staged rows and on the as-of date, and only the as-of month is evaluated on the as-of date
    (closed months on their month end). So after a run, a row can change only if
      - c's inputs changed (int_customer_change_stamps: stamped after the model's last run), or
      - the as-of date moved on and m is on or after the month of the previous run's as-of date (that
        month is now closed, or is still the as-of month evaluated on a later day; newer months appear
        for everyone), or
      - the as-of date moved back (var as_of_date): then every row.
    A run on the same as-of date as the model's last run (a file that lands later the same day: the as-of
    date is the last day with an order) recomputes the changed customers only.
    An incremental run deletes exactly those rows (pre-hook) and inserts them recomputed by the model's
    own SQL, filtered by the same predicate, so the table equals a full build row for row. After every
    run (full or incremental) a post-hook records what the model has taken in, the newest change stamp
    and the as-of date, in the table intermediate.customer_month_watermarks. A model without a
    recorded watermark (its first incremental run) is recomputed whole.
    Spark rebuilds these models as tables: there is no delete there, and the macros render nothing.
-#}

{#- One table for every incremental customer-month model, marts included (macros/incremental/bookkeeping.sql). -#}
{% macro customer_months_watermarks() -%}
    {{ return(incremental_bookkeeping_table('customer_month_watermarks')) }}
{%- endmacro %}

{#- The config of an incremental customer-month model: delete (pre-hook) and append the rows in
    scope, record the watermark (post-hook); a table on Spark. A model calls {{ config(**customer_month_model_config()) }}
    and names its dependency on the change stamps (-- depends_on), which the hooks read. -#}
{% macro customer_month_model_config(
    pre_hook='{{ delete_customer_months_in_scope() }}', also_post_hook=none
) -%}
    {%- set post_hook = ['{{ record_customer_months_watermark() }}'] -%}
    {%- if also_post_hook is not none -%}
        {%- do post_hook.append(also_post_hook) -%}
    {%- endif -%}
    {{ return({
        'materialized': 'table' if target.type == 'spark' else 'incremental',
        'incremental_strategy': 'append',
        'pre_hook': pre_hook,
        'post_hook': post_hook,
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{#- 'full' (a full build: every row), 'all' (incremental without a watermark: every row is deleted and
    recomputed) or 'changed' (incremental: the rows of changed customers and of the recent months). -#}
{% macro customer_months_rebuild() -%}
    {%- if not is_incremental() -%}
        {{ return('full') }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return('changed') }}
    {%- endif -%}
    {%- set expected = customer_months_watermarks() -%}
    {%- set watermarks = adapter.get_relation(expected.database, expected.schema, expected.identifier) -%}
    {%- if watermarks is none -%}
        {{ return('all') }}
    {%- endif -%}
    {%- set recorded -%}
        select count(*) from {{ watermarks }} where model_name = '{{ this.identifier }}'
    {%- endset -%}
    {{ return('changed' if run_query(recorded).columns[0].values()[0] > 0 else 'all') }}
{%- endmacro %}

{#- The customers stamped (int_customer_change_stamps) after the model's recorded stamp: a select. -#}
{% macro changed_customers() -%}
    select stamps.customer_id
    from (select customer_id, changed_at from {{ ref('int_customer_change_stamps') }}) as stamps
    inner join {{ customer_months_watermarks() }} as watermarks
        on watermarks.changed_through is null or stamps.changed_at > watermarks.changed_through
    where watermarks.model_name = '{{ this.identifier }}'
{%- endmacro %}

{#- The first month every customer recomputes (a date literal, read when the model runs): the month of the
    previous run's as-of date, months_before earlier; every month when there was no as-of date last time
    or the as-of date moved back (var as_of_date); no month (9999-12-01) when the as-of date has not moved
    since the previous run, whatever months_before. A literal, not a subquery, so that the warehouse
    pushes the month filter into its scans (a scalar subquery is planned as a join above them). The
    pre-hook and the model's filter read the same recorded watermark: the post-hook records the next. -#}
{% macro customer_months_recent_from(months_before=0) -%}
    {%- if not execute -%}
        {{ return("cast('0001-01-01' as date)") }}
    {%- endif -%}
    {%- set watermarks = customer_months_watermarks() -%}
    {%- set recent_from -%}
        select
            cast(case
                when watermarks.as_of_date is null or as_of_dates.as_of_date < watermarks.as_of_date
                    then cast('0001-01-01' as date)
                when as_of_dates.as_of_date = watermarks.as_of_date
                    then cast('9999-12-01' as date)
                else cast({{ dbt.dateadd(
                    'month', -months_before, dbt.date_trunc('month', 'watermarks.as_of_date')
                ) }} as date)
            end as {{ dbt.type_string() }})
        from {{ watermarks }} as watermarks
        cross join (select as_of_date from {{ ref('int_as_of_dates') }}) as as_of_dates
        where watermarks.model_name = '{{ this.identifier }}'
    {%- endset -%}
    {#- agate may read the text back as a date: the string form of either is YYYY-MM-DD -#}
    {%- set first_month = run_query(recent_from).columns[0].values()[0] | string -%}
    {{ return("cast('" ~ first_month[:10] ~ "' as date)") }}
{%- endmacro %}

{#- The customers whose every month is recomputed (all of them unless the run is incremental): a predicate
    on the customer column; the others recompute only the recent months (customer_month_in_scope). -#}
{% macro customer_whole_in_scope(customer_column='customer_id', also_customers=none) -%}
    {%- if customer_months_rebuild() != 'changed' -%}
        1 = 1
    {%- else -%}
        {{ customer_column }} in (
            {{ customers_in_scope(also_customers) }}
        )
    {%- endif -%}
{%- endmacro %}

{#- A select of the customers an incremental run recomputes whole: the changed ones and also_customers. -#}
{% macro customers_in_scope(also_customers=none) -%}
    {{ changed_customers() }}
    {%- if also_customers is not none %}
    union
    {{ also_customers }}
    {%- endif %}
{%- endmacro %}

{#- Pre-hook statements after the delete: record the run's scope for the model's uniqueness test
    (macros/incremental/run_scopes.sql); nothing when the run recomputes every row. -#}
{% macro record_customer_months_scope(months_before=0, also_customers=none, also_months_from=none, by_month=true) -%}
    {%- if customer_months_rebuild() == 'changed' -%}
        {{ record_run_scope(
            customers=customers_in_scope(also_customers),
            months_from=([customer_months_recent_from(months_before), also_months_from] if by_month else []),
        ) }}
    {%- else -%}
        {{ record_run_scope(recorded=false) }}
    {%- endif -%}
{%- endmacro %}

{#- The rows to recompute: a predicate on the customer and month columns (of the row being filtered);
    months_before widens the recent months (the lifecycle fact rewrites its lookback months);
    also_customers (a select of customer ids) adds customers whose rows depend on other customers';
    also_months_from (a date literal, or none) adds every customer's months from then on, for a model
    that reads an input ranked across customers (macros/incremental/changed_months.sql finds the month). -#}
{% macro customer_month_in_scope(
    customer_column='customer_id', month_column='month_start_date', months_before=0, also_customers=none,
    also_months_from=none
) -%}
    {%- set rebuild = customer_months_rebuild() -%}
    {%- if rebuild != 'changed' -%}
        1 = 1
    {%- else -%}
        (
            {{ customer_whole_in_scope(customer_column, also_customers) }}
            or {{ month_column }} >= {{ customer_months_recent_from(months_before) }}
            {%- if also_months_from is not none %}
            or {{ month_column }} >= {{ also_months_from }}
            {%- endif %}
        )
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook: delete the rows the run recomputes, and record them (the scope). -#}
{% macro delete_customer_months_in_scope(
    months_before=0, also_customers=none, also_months_from=none, month_column='month_start_date'
) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ customer_month_in_scope(
            month_column=month_column, months_before=months_before, also_customers=also_customers,
            also_months_from=also_months_from
        ) }};
        {{ record_customer_months_scope(months_before, also_customers, also_months_from) }}
    {%- endif -%}
{%- endmacro %}

{#- The watermarks table, created if missing (macros/incremental/bookkeeping.sql), typed like the stamps. -#}
{% macro create_customer_months_watermarks(stamps=none) -%}
    {%- if target.type != 'spark' -%}
        {%- set stamps = ref('int_customer_change_stamps') if stamps is none else stamps -%}
        create table if not exists {{ customer_months_watermarks() }} as
        select
            cast('{{ this.identifier }}' as {{ dbt.type_string() }}) as model_name,
            changed_at as changed_through,
            cast(null as date) as as_of_date
        from {{ stamps }}
        where 1 = 0
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of a model without a month whose rows depend on their customer's staged rows (the purchase
    days), or also on the as-of date for the customers also_customers selects (the acquisitions): delete the
    rows of the changed customers and of also_customers. -#}
{% macro delete_customers_in_scope(also_customers=none) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ customer_whole_in_scope(also_customers=also_customers) }};
        {{ record_customer_months_scope(also_customers=also_customers, by_month=false) }}
    {%- endif -%}
{%- endmacro %}

{#- The customers whose first completed order as of the as-of date can differ from the previous run's: those
    whose first completed order is on or after the month of the previous run's as-of date (when the as-of
    date moved on; every customer with a completed order when it moved back, none when it stayed). A
    select for also_customers, in the model that refs stg_crm__orders and is `this`.
    It reads the first orders the model stored instead of grouping every completed order: the customers with
    a completed order on or after that month, less those stored as acquired before it. For a customer whose
    orders did not change, the stored acquisition is before the month exactly when a completed order is;
    a changed customer is in scope anyway. Read after the pre-hook's delete, the select can only add
    customers the delete removed (changed ones or its own), so the hook and the model keep one scope. -#}
{% macro customers_first_ordering_since_recent_months() -%}
    {#- the recorded as-of date is read only by an incremental run that has one (customer_whole_in_scope
        ignores this select otherwise) -#}
    {%- if customer_months_rebuild() == 'changed' -%}
        {%- set recent_from = customer_months_recent_from() -%}
        select customer_id
        from {{ ref('stg_crm__orders') }}
        where
            is_completed
            and ordered_date >= {{ recent_from }}
            and customer_id not in (
                select customer_id from {{ this }}
                where acquisition_date < {{ recent_from }}
            )
    {%- endif -%}
{%- endmacro %}

{#- Whole months that cover var conversion_window_days (a month has at least 28 days), plus the month of
    the previous as-of date itself: an outbound sales call's row can change on a later as-of date only while
    its window is open, so the calls from that many months before the recorded as-of month on are recomputed. -#}
{% macro conversion_window_months() -%}
    {{ return((var('conversion_window_days') | int) // 28 + 1) }}
{%- endmacro %}

{#- Post-hook: record the newest change stamp and the as-of date the model now reflects. -#}
{% macro record_customer_months_watermark() -%}
    {%- if target.type != 'spark' -%}
        {%- set watermarks = customer_months_watermarks() -%}
        {{ create_customer_months_watermarks() }};
        delete from {{ watermarks }} where model_name = '{{ this.identifier }}';
        insert into {{ watermarks }} (model_name, changed_through, as_of_date)
        select
            '{{ this.identifier }}',
            (select max(changed_at) from {{ ref('int_customer_change_stamps') }}),
            (select max(as_of_date) from {{ ref('int_as_of_dates') }})
    {%- endif -%}
{%- endmacro %}
