{#-
    The predictive CLV tables (DOMAIN.md §6, second half) are written by a Dagster asset in Python
    after dbt has built its input models, and read back by dbt (source `python_models`,
    models/marts/value/_python_models__sources.yml). On a fresh warehouse the asset has not run yet, so
    this hook creates the schema and the tables empty if they are missing: downstream models then see
    no predictions (null predictive columns) instead of failing. Called from on-run-start.
    Existing tables are never touched, so a run never erases the asset's output.
    The tables and their columns are the source's: each column's `data_type` there is a logical type
    (string, double, bigint, boolean, date) spelled here for the engine.
-#}
{% macro python_model_column_type(logical_type) %}
    {%- set types = {
        'string': dbt.type_string(),
        'double': value_type_double(),
        'bigint': dbt.type_bigint(),
        'boolean': dbt.type_boolean(),
        'date': 'date',
    } -%}
    {%- if logical_type not in types -%}
        {{ exceptions.raise_compiler_error(
            "python_models column data_type must be one of " ~ (types.keys() | list | sort) ~ ", not " ~ logical_type) }}
    {%- endif -%}
    {{ return(types[logical_type]) }}
{% endmacro %}

{% macro python_model_tables() %}
    {%- set tables = {} -%}
    {%- for source in graph.sources.values() if source.source_name == 'python_models' -%}
        {%- set columns = [] -%}
        {%- for column in source.columns.values() -%}
            {%- do columns.append((column.name, python_model_column_type(column.data_type))) -%}
        {%- endfor -%}
        {%- do tables.update({source.name: columns}) -%}
    {%- endfor -%}
    {{ return(tables) }}
{% endmacro %}

{% macro ensure_python_model_tables() %}
    {% if execute %}
        {% set schema_name = 'python_models' %}
        {% do run_query('create schema if not exists ' ~ schema_name) %}
        {% for table_name, columns in python_model_tables().items() %}
            {% set column_list = [] %}
            {% for column_name, data_type in columns %}
                {% do column_list.append(column_name ~ ' ' ~ data_type) %}
            {% endfor %}
            {% do run_query(
                'create table if not exists ' ~ schema_name ~ '.' ~ table_name
                ~ ' (' ~ column_list | join(', ') ~ ')') %}
        {% endfor %}
    {% endif %}
    {{ return('select 1 as python_model_tables_exist') }}
{% endmacro %}
