{#- Generated from orchestration/contract.py by `python -m orchestration.contract`: do not edit.
    The raw tables (base_crm__<table> per table) and the enumerations staging accepts. -#}

{% macro crm_raw_tables() %}
    {{ return(['customers', 'orders', 'calls', 'complaints', 'marketing_spend']) }}
{% endmacro %}

{% macro crm_enum_values(table, column) %}
    {%- set enums = {
        'customers': {'customer_type': ['individual', 'enterprise']},
        'orders': {'status': ['completed', 'cancelled', 'returned']},
        'calls': {'direction': ['inbound', 'outbound'], 'purpose': ['sales', 'follow_up', 'service', 'survey', 'retention', 'win_back']},
        'complaints': {'severity': ['low', 'medium', 'high', 'critical']},
    } -%}
    {{ return(enums[table][column]) }}
{% endmacro %}
