{#- Objects some engines need before models run (e.g. functions PostgreSQL lacks). Dispatched per engine. -#}
{% macro create_engine_helpers() %}
    {{ return(adapter.dispatch('create_engine_helpers', 'customer_lifecycle')()) }}
{% endmacro %}

{% macro default__create_engine_helpers() %}
    {{ return('select 1 as no_engine_helpers_needed') }}
{% endmacro %}

{#- PostgreSQL has no try_cast, and a regular expression cannot tell '2024-02-30' from a real date, so
    staging (macros/staging/staging_parsing.sql) calls these casts that return null instead of failing.
    Created in the target schema with `create or replace`, so every run brings them up to date. The
    macros only pass text that already matched an ISO-8601 pattern, which keeps PostgreSQL's lenient
    input forms ('now', 'epoch', 'tomorrow') out. `parallel restricted`: an exception block starts a
    subtransaction, which parallel workers cannot do. -#}
{% macro postgres__create_engine_helpers() %}
    {% set helpers %}
        {% for name, data_type in [('timestamp', 'timestamp'), ('timestamptz', 'timestamptz'), ('date', 'date')] %}
        create or replace function {{ target.schema }}.staging_try_cast_{{ name }}(value text)
        returns {{ data_type }}
        language plpgsql stable parallel restricted
        as $body$
        begin
            return value::{{ data_type }};
        exception when others then
            return null;
        end;
        $body$;
        {% endfor %}
    {% endset %}
    {{ return(helpers) }}
{% endmacro %}
