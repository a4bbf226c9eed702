{#-
    When each customer's inputs last changed: one row per customer id seen in any base row (every
    disposition, every version), with the newest load time (_loaded_at) of any raw row that can change
    what is staged about the customer:
      - their own customer rows (a new version, a rejected newest version, a closed account);
      - every version of every order, call and complaint that names them in any version: a new version
        that moves an order to another customer touches both, and the stamp of a key is the newest load
        of any of its versions.
    An order re-decided because its customer arrived or changed keeps its own load time, but the
    customer row that changed it stamps the customer. The stamp depends only on the base tables, so a
    full build and a chain of incremental runs compute the same table. The customer-month models
    recompute the customers stamped since their own last run (macros/incremental/customer_months.sql).
    Incremental: the keys with a row loaded after the newest stored stamp are stamped again, and
    a customer keeps the greater of the stored and the new stamp (stamps only grow).
-#}

{{ config(
    materialized=('table' if target.type == 'spark' else 'incremental'),
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='fail',
    post_hook='{{ create_incremental_bookkeeping(this) }}',
) }}

{%- set keyed_tables = [
    ('base_crm__orders', 'order_id'),
    ('base_crm__calls', 'call_id'),
    ('base_crm__complaints', 'complaint_id'),
] %}

with

customer_rows as (

    select
        customer_id,
        _loaded_at as changed_at
    from {{ ref('base_crm__customers') }}
    where customer_id is not null
    {% if is_incremental() -%}
        and _loaded_at > (select max(stored.changed_at) from {{ this }} as stored)
    {%- endif %}

),

{%- for table_name, key_column in keyed_tables %}

{{ table_name }}_versions as (

    select
        {{ key_column }},
        customer_id,
        _loaded_at
    from {{ ref(table_name) }}

),

{{ table_name }}_key_stamps as (

    -- the newest load of any version of each key (of the keys loaded since the last run, when incremental)
    select
        {{ key_column }},
        max(_loaded_at) as changed_at
    from {{ table_name }}_versions
    where {{ key_column }} is not null
    {% if is_incremental() -%}
        and {{ key_column }} in (
            select loaded.{{ key_column }}
            from {{ table_name }}_versions as loaded
            where loaded._loaded_at > (select max(stored.changed_at) from {{ this }} as stored)
        )
    {%- endif %}
    group by 1

),

{{ table_name }}_customer_stamps as (

    -- every customer any version of the key names
    select
        versions.customer_id,
        max(key_stamps.changed_at) as changed_at
    from {{ table_name }}_versions as versions
    inner join {{ table_name }}_key_stamps as key_stamps
        on versions.{{ key_column }} = key_stamps.{{ key_column }}
    where versions.customer_id is not null
    group by 1

),

{%- endfor %}

stamped as (

    select * from customer_rows
    {%- for table_name, key_column in keyed_tables %}
    union all
    select * from {{ table_name }}_customer_stamps
    {%- endfor %}
    {%- if is_incremental() %}
    union all
    -- a customer keeps a stamp at least as new as the stored one
    select
        stored.customer_id,
        stored.changed_at
    from {{ this }} as stored
    where stored.customer_id in (
        select customer_rows.customer_id from customer_rows
        {%- for table_name, key_column in keyed_tables %}
        union all
        select {{ table_name }}_customer_stamps.customer_id from {{ table_name }}_customer_stamps
        {%- endfor %}
    )
    {%- endif %}

),

final as (

    select
        customer_id,
        max(changed_at) as changed_at
    from stamped
    group by 1

)

select * from final
