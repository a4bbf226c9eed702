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

{#- The keys an order, call or complaint model re-decides: new keys and keys with a stale customer. -#}
{% macro staging_keys_to_decide(source_relation, key_column) -%}
    {{ staging_new_keys(source_relation, key_column) }}
    union
    {{ staging_keys_with_stale_customer(key_column) }}
{%- endmacro %}

{#- The source rows to decide: every row of the keys in CTE `keys_cte` and every row without a key. -#}
{% macro staging_rows_of_keys(key_column, keys_cte) -%}
    {{ staging_text(key_column) }} in (select decided.{{ key_column }} from {{ keys_cte }} as decided)
    or {{ staging_text(key_column) }} is null
{%- endmacro %}

{#- An incremental run must not mix hashes of two PII salts (a salt rotation needs a full refresh,
    docs/runbook.md): one stored row's phone is hashed again from its raw row with today's salt, and the
    run stops with the command to run when the two hashes differ. -#}
{% macro staging_guard_pii_salt(source_relation) -%}
    {%- if execute and is_incremental() -%}
        {%- set probe -%}
            with probe as (
                select stored._raw_row_id, stored.phone_hash
                from {{ this }} as stored
                where stored.phone_hash is not null
                limit 1
            )
            select count(*)
            from probe
            inner join {{ source_relation }} as raw_rows
                on probe._raw_row_id = raw_rows._raw_row_id
            where probe.phone_hash <> {{ pii_hmac(normalize_phone('raw_rows.phone')) }}
        {%- endset -%}
        {%- if run_query(probe).columns[0].values()[0] > 0 -%}
            {{ exceptions.raise_compiler_error(
                this ~ " holds PII hashes made with another CLM_PII_SALT: an incremental run would mix two "
                ~ "salts. Rebuild with a full refresh (make run FULL_REFRESH=1, or Launchpad: resource "
                ~ "warehouse, full_refresh: true).") }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
