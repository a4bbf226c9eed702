{#-
    The predictive CLV tables (DOMAIN.md §6, second half) are written by a Dagster asset in Python
    after dbt has built int_customer_purchase_summary, and read back by dbt (source `python_models`,
    models/marts/value/_python_models__sources.yml). On a fresh warehouse the asset has not run yet, so
    this hook creates the schema and both tables empty if they are missing: downstream models then see
    no predictions (null predictive columns) instead of failing. Called from on-run-start.
    Existing tables are never touched, so a run never erases the asset's output.
-#}
{% macro python_model_tables() %}
    {{ return({
        'clv_model_parameters': [
            ('model', dbt.type_string()),
            ('parameter', dbt.type_string()),
            ('value', value_type_double()),
        ],
        'clv_customer_predictions': [
            ('customer_id', dbt.type_string()),
            ('p_alive', value_type_double()),
            ('expected_purchases', value_type_double()),
            ('expected_spend_per_purchase', value_type_double()),
            ('expected_margin_per_purchase', value_type_double()),
            ('predicted_future_clv', value_type_double()),
        ],
    }) }}
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
