{#- Objects some engines need before models run (e.g. functions PostgreSQL lacks). Dispatched per engine. -#}
{% macro create_engine_helpers() %}
    {{ return(adapter.dispatch('create_engine_helpers', 'customer_lifecycle')()) }}
{% endmacro %}

{% macro default__create_engine_helpers() %}
    {{ return('select 1 as no_engine_helpers_needed') }}
{% endmacro %}
