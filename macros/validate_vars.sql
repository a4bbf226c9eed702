{#-
    Every var of dbt_project.yml is checked here, before any model runs (on-run-start), so a bad value
    fails the build with a message naming the var instead of producing silently wrong numbers.
    Add a var: one line in var_specs(). Kinds:
      int / number : numeric, with optional min / max (inclusive) and gt (exclusive lower bound)
      choice       : one of `choices`
      date_or_null : null or an ISO date 'YYYY-MM-DD'
      month_start_or_null : null or 'YYYY-MM-01'; with `paired_with`, set together and not before the other
      time_zone    : an IANA time zone name
      code         : a three-letter upper-case currency code
      increasing_fractions : a list of numbers strictly increasing inside (0, 1)
      amount_map   : a mapping of the `keys` to non-negative numbers
-#}
{% macro var_specs() %}
    {{ return({
        'business_time_zone': {'kind': 'time_zone'},
        'currency': {'kind': 'code'},
        'as_of_date': {'kind': 'date_or_null'},
        'default_margin_rate': {'kind': 'number', 'min': 0, 'max': 1},
        'new_window_days': {'kind': 'int', 'min': 1},
        'mature_min_tenure_days': {'kind': 'int', 'min': 1},
        'mature_min_orders_12m': {'kind': 'int', 'min': 1},
        'decline_gap_factor': {'kind': 'number', 'min': 1},
        'decline_min_days': {'kind': 'int', 'min': 1},
        'decline_spend_ratio': {'kind': 'number', 'gt': 0, 'max': 1},
        'churn_min_days': {'kind': 'int', 'min': 1},
        'churn_gap_factor': {'kind': 'number', 'min': 1},
        'engaged_min_answered_calls': {'kind': 'int', 'min': 1},
        'lifecycle_framework': {'kind': 'choice', 'choices': ['relationship_4', 'telecom_5', 'callcenter_5', 'funnel_5']},
        'lifecycle_lookback_months': {'kind': 'int', 'min': 1, 'max': 36},
        'decline_spend_window_days': {'kind': 'int', 'min': 1},
        'decline_baseline_months': {'kind': 'int', 'min': 1},
        'lifecycle_backfill_start_month': {'kind': 'month_start_or_null'},
        'lifecycle_backfill_end_month': {'kind': 'month_start_or_null', 'paired_with': 'lifecycle_backfill_start_month'},
        'contact_gap_days': {'kind': 'int', 'min': 1},
        'onboarding_call_days': {'kind': 'int', 'min': 0},
        'birthday_window_days': {'kind': 'int', 'min': 0, 'max': 366},
        'low_satisfaction_threshold': {'kind': 'number', 'min': 1, 'max': 5},
        'low_p_alive_threshold': {'kind': 'number', 'min': 0, 'max': 1},
        'early_warning_window_days': {'kind': 'int', 'min': 1},
        'early_warning_weights': {'kind': 'amount_map', 'keys': ['overdue_cadence', 'spend_drop', 'unresolved_complaint', 'severe_complaint', 'low_satisfaction', 'low_p_alive']},
        'call_list_min_risk_score': {'kind': 'number', 'min': 0, 'max': 100},
        'referral_credit_share': {'kind': 'number', 'min': 0, 'max': 1},
        'referral_credit_months': {'kind': 'int', 'min': 0},
        'call_cost_per_minute': {'kind': 'number', 'min': 0},
        'complaint_handling_cost': {'kind': 'number', 'min': 0},
        'negative_referral_cost': {'kind': 'amount_map', 'keys': crm_enum_values('complaints', 'severity')},
        'severe_complaint_severities': {'kind': 'subset', 'choices': crm_enum_values('complaints', 'severity')},
        'clv_discount_rate': {'kind': 'number', 'min': 0, 'max': 1},
        'clv_observation_end': {'kind': 'date_or_null'},
        'clv_time_unit': {'kind': 'choice', 'choices': ['day', 'week']},
        'clv_horizon_months': {'kind': 'int', 'min': 1, 'max': 120},
        'clv_holdout_days': {'kind': 'int', 'min': 0, 'max': 3650},
        'clv_holdout_max_error': {'kind': 'number', 'min': 0, 'max': 10},
        'value_tier_cutoffs': {'kind': 'increasing_fractions'},
        'conversion_window_days': {'kind': 'int', 'min': 1},
        'churn_signal_lookback_months': {'kind': 'int', 'min': 1, 'max': 24},
    }) }}
{% endmacro %}

{% macro _var_error(name, value, expectation) %}
    {{ exceptions.raise_compiler_error(
        "Invalid var '" ~ name ~ "' = " ~ (value | string)[:80] ~ ": " ~ expectation
        ~ " (set it in dbt_project.yml or with --vars)") }}
{% endmacro %}

{% macro _is_number(value) %}
    {{ return(value is number and value is not boolean) }}
{% endmacro %}

{% macro validate_var(name, spec) %}
    {% set value = var(name, none) %}
    {% set kind = spec['kind'] %}
    {% if kind in ['int', 'number'] %}
        {% if not _is_number(value) or (kind == 'int' and value is not integer) %}
            {{ _var_error(name, value, 'must be ' ~ ('an integer' if kind == 'int' else 'a number')) }}
        {% endif %}
        {% if 'min' in spec and value < spec['min'] %}
            {{ _var_error(name, value, 'must be at least ' ~ spec['min']) }}
        {% endif %}
        {% if 'gt' in spec and value <= spec['gt'] %}
            {{ _var_error(name, value, 'must be greater than ' ~ spec['gt']) }}
        {% endif %}
        {% if 'max' in spec and value > spec['max'] %}
            {{ _var_error(name, value, 'must be at most ' ~ spec['max']) }}
        {% endif %}
    {% elif kind == 'choice' %}
        {% if value not in spec['choices'] %}
            {{ _var_error(name, value, 'must be one of ' ~ spec['choices'] | join(', ')) }}
        {% endif %}
    {% elif kind == 'subset' %}
        {% if value is string or value is not iterable or value | length == 0
            or (value | reject('in', spec['choices']) | list | length) > 0 %}
            {{ _var_error(name, value, 'must be a non-empty list of ' ~ spec['choices'] | join(', ')) }}
        {% endif %}
    {% elif kind == 'date_or_null' %}
        {% if value is not none and not modules.re.fullmatch('\\d{4}-\\d{2}-\\d{2}', value | string) %}
            {{ _var_error(name, value, "must be null or a date 'YYYY-MM-DD'") }}
        {% endif %}
        {% if value is not none %}
            {% set parsed = modules.datetime.datetime.strptime(value | string, '%Y-%m-%d') %}
        {% endif %}
    {% elif kind == 'month_start_or_null' %}
        {% if value is not none and not modules.re.fullmatch('\\d{4}-\\d{2}-01', value | string) %}
            {{ _var_error(name, value, "must be null or a month start 'YYYY-MM-01'") }}
        {% endif %}
        {% if value is not none %}
            {% set parsed = modules.datetime.datetime.strptime(value | string, '%Y-%m-%d') %}
        {% endif %}
        {% if 'paired_with' in spec %}
            {% set other = var(spec['paired_with'], none) %}
            {% if (value is none) != (other is none) %}
                {{ _var_error(name, value, 'must be set together with ' ~ spec['paired_with'] ~ ' (both null or both month starts)') }}
            {% endif %}
            {% if value is not none and other is not none and (value | string) < (other | string) %}
                {{ _var_error(name, value, 'must not be before ' ~ spec['paired_with'] ~ ' = ' ~ other) }}
            {% endif %}
        {% endif %}
    {% elif kind == 'time_zone' %}
        {% if value not in modules.pytz.all_timezones %}
            {{ _var_error(name, value, 'must be an IANA time zone such as Asia/Shanghai') }}
        {% endif %}
    {% elif kind == 'code' %}
        {% if value is not string or not modules.re.fullmatch('[A-Z]{3}', value) %}
            {{ _var_error(name, value, 'must be a three-letter currency code') }}
        {% endif %}
    {% elif kind == 'increasing_fractions' %}
        {% if value is string or value is mapping or value is not iterable or value | length == 0 %}
            {{ _var_error(name, value, 'must be a non-empty list of numbers') }}
        {% endif %}
        {% set previous = namespace(value=0) %}
        {% for item in value %}
            {% if not _is_number(item) or item <= previous.value or item >= 1 %}
                {{ _var_error(name, value, 'cut points must be numbers strictly increasing inside (0, 1)') }}
            {% endif %}
            {% set previous.value = item %}
        {% endfor %}
    {% elif kind == 'amount_map' %}
        {% if value is not mapping or (value.keys() | list | sort) != (spec['keys'] | sort) %}
            {{ _var_error(name, value, 'must map exactly ' ~ spec['keys'] | join(', ') ~ ' to amounts') }}
        {% endif %}
        {% for key in spec['keys'] %}
            {% if not _is_number(value[key]) or value[key] < 0 %}
                {{ _var_error(name, value, "amount for '" ~ key ~ "' must be a non-negative number") }}
            {% endif %}
        {% endfor %}
    {% endif %}
{% endmacro %}

{% macro validate_vars() %}
    {% if execute %}
        {% for name, spec in var_specs().items() %}
            {{ validate_var(name, spec) }}
        {% endfor %}
    {% endif %}
    {{ return('select 1 as vars_are_valid') }}
{% endmacro %}
