{#-
    Incremental staging (docs/incremental.md). A base model is a table of every raw row with its
    disposition; an incremental run re-decides only the rows whose disposition can have changed and
    replaces them by `_raw_row_id` (delete+insert), so the table equals a full build's, row for row:

    - every raw row of a key that a newly loaded file touches: all versions of the key are ranked
      again, so a later version supersedes an earlier one and an identical copy is a duplicate,
      whatever the order in which the files arrived;
    - the keys a model adds because their stored facts about other rows went stale (the customer of
      an order arrived or changed; a referred customer appeared);
    - rows without a key, always: they rank among themselves (they are few, and all rejected).

    A file is new when no stored row comes from it (`_file_sha256`): the ledger loads each content
    once, so this is exact, whatever the clocks or the order of runs.
-#}

{#- The keys in newly loaded files of the model's source. -#}
{% macro staging_new_keys(source_relation, key_column) -%}
    select {{ staging_text(key_column) }} as {{ key_column }}
    from {{ source_relation }}
    where _file_sha256 not in (select distinct stored._file_sha256 from {{ this }} as stored)
{%- endmacro %}

{#- The keys whose stored customer facts no longer match the staged customers (CTE `staged_customers`
    with known_customer_id and customer_created_at): the customer arrived, changed or went away. -#}
{% macro staging_keys_with_stale_customer(key_column) -%}
    select stored.{{ key_column }}
    from {{ this }} as stored
    left join staged_customers
        on stored.customer_id = staged_customers.known_customer_id
    where
        stored.known_customer_id is distinct from staged_customers.known_customer_id
        or stored.customer_created_at is distinct from staged_customers.customer_created_at
{%- endmacro %}

{#- The source rows to decide: every row of the keys in CTE `keys_cte` and every row without a key. -#}
{% macro staging_rows_of_keys(key_column, keys_cte) -%}
    {{ staging_text(key_column) }} in (select decided.{{ key_column }} from {{ keys_cte }} as decided)
    or {{ staging_text(key_column) }} is null
{%- endmacro %}
