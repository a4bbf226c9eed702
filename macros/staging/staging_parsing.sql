{#-
    Safe parsing of raw text (DOMAIN.md §2-3). Every raw business column is text; these macros turn it
    into typed values WITHOUT ever raising an error on bad input: a value that does not parse becomes
    null, and the base models compare "text present" with "parsed value null" to reject the row with a
    reason code. Accepted shapes are fixed by regular expressions here, identical on every engine, so
    DuckDB, PostgreSQL and Spark accept exactly the same strings; only the final cast is dispatched.
    Patterns use [0-9] and [.] instead of backslash classes: Spark string literals eat backslashes.
-#}

{#- Text with surrounding whitespace removed; blank becomes null. -#}
{% macro staging_text(expression) -%}
    nullif(trim({{ expression }}), '')
{%- endmacro %}

{#- Enumerations and categories: lower case, trimmed, blank becomes null. -#}
{% macro staging_enum(expression) -%}
    lower(nullif(trim({{ expression }}), ''))
{%- endmacro %}

{#- True when the already-trimmed text is present but its parsed value is null. -#}
{% macro staging_unparseable(text_column, parsed_column) -%}
    ({{ text_column }} is not null and {{ parsed_column }} is null)
{%- endmacro %}

{% macro staging_number_pattern() -%}
    {{ return('^[+-]?([0-9]{1,15}([.][0-9]*)?|[.][0-9]+)$') }}
{%- endmacro %}

{% macro staging_date_pattern() -%}
    {{ return('^[0-9]{4}-[0-9]{2}-[0-9]{2}$') }}
{%- endmacro %}

{% macro staging_month_pattern() -%}
    {{ return('^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$') }}
{%- endmacro %}

{#- ISO-8601 without an offset: business-local time (a date alone means midnight). -#}
{% macro staging_naive_timestamp_pattern() -%}
    {{ return('^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?)?$') }}
{%- endmacro %}

{#- ISO-8601 with 'Z' or an offset (+08:00, +0800, +08); seconds required, as every engine parses that. -#}
{% macro staging_offset_timestamp_pattern() -%}
    {{ return('^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$') }}
{%- endmacro %}

{#- Regular-expression full match (patterns are anchored with ^...$). -#}
{% macro staging_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('staging_matches', 'customer_lifecycle')(expression, pattern)) }}
{%- endmacro %}

{% macro default__staging_matches(expression, pattern) -%}
    ({{ expression }} ~ '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__staging_matches(expression, pattern) -%}
    regexp_full_match({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__staging_matches(expression, pattern) -%}
    ({{ expression }} rlike '{{ pattern }}')
{%- endmacro %}

{#- Keeps the digits of a string (phone normalisation before hashing and masking). -#}
{% macro staging_digits_only(expression) -%}
    {{ return(adapter.dispatch('staging_digits_only', 'customer_lifecycle')(expression)) }}
{%- endmacro %}

{% macro default__staging_digits_only(expression) -%}
    nullif(regexp_replace({{ expression }}, '[^0-9]', '', 'g'), '')
{%- endmacro %}

{% macro spark__staging_digits_only(expression) -%}
    nullif(regexp_replace({{ expression }}, '[^0-9]', ''), '')
{%- endmacro %}

{#- Cast that cannot fail once the regular expression has vouched for the text. DuckDB and Spark
    still get try_cast, because they may evaluate a cast before the case guard filters the row. -#}
{% macro staging_guarded_cast(expression, pattern, data_type) -%}
    {{ return(adapter.dispatch('staging_guarded_cast', 'customer_lifecycle')(expression, pattern, data_type)) }}
{%- endmacro %}

{% macro default__staging_guarded_cast(expression, pattern, data_type) -%}
    case when {{ staging_matches(expression, pattern) }} then cast({{ expression }} as {{ data_type }}) end
{%- endmacro %}

{% macro duckdb__staging_guarded_cast(expression, pattern, data_type) -%}
    case when {{ staging_matches(expression, pattern) }} then try_cast({{ expression }} as {{ data_type }}) end
{%- endmacro %}

{% macro spark__staging_guarded_cast(expression, pattern, data_type) -%}
    case when {{ staging_matches(expression, pattern) }} then try_cast({{ expression }} as {{ data_type }}) end
{%- endmacro %}

{#- Money: one type everywhere (DOMAIN.md §2, one currency). -#}
{% macro money_type() -%}
    {{ return('decimal(18,2)') }}
{%- endmacro %}

{% macro staging_try_money(text_column) -%}
    {{ staging_guarded_cast(text_column, staging_number_pattern(), money_type()) }}
{%- endmacro %}

{#- Counts and scores: parsed as a plain number (decimal), so '4.5' is a number, not garbage. -#}
{% macro staging_try_number(text_column) -%}
    {{ staging_guarded_cast(text_column, staging_number_pattern(), 'decimal(18,4)') }}
{%- endmacro %}

{#- A calendar date 'YYYY-MM-DD' (impossible dates such as 2024-02-30 become null). -#}
{% macro staging_try_date(text_column) -%}
    {{ return(adapter.dispatch('staging_try_date', 'customer_lifecycle')(text_column)) }}
{%- endmacro %}

{% macro default__staging_try_date(text_column) -%}
    case when {{ staging_matches(text_column, staging_date_pattern()) }}
        then {{ target.schema }}.staging_try_cast_date({{ text_column }}) end
{%- endmacro %}

{% macro duckdb__staging_try_date(text_column) -%}
    case when {{ staging_matches(text_column, staging_date_pattern()) }} then try_cast({{ text_column }} as date) end
{%- endmacro %}

{% macro spark__staging_try_date(text_column) -%}
    case when {{ staging_matches(text_column, staging_date_pattern()) }} then try_cast({{ text_column }} as date) end
{%- endmacro %}

{#- A month 'YYYY-MM' or a date 'YYYY-MM-DD', as the first day of its month. -#}
{% macro staging_try_month_start(text_column) -%}
    {%- set as_date -%}
        case when {{ staging_matches(text_column, staging_month_pattern()) }}
            then {{ dbt.concat([text_column, "case when length(" ~ text_column ~ ") = 7 then '-01' else '' end"]) }}
        end
    {%- endset -%}
    cast({{ dbt.date_trunc("month", staging_try_date(as_date)) }} as date)
{%- endmacro %}

{#- ISO-8601 text to a naive business-local timestamp (DOMAIN.md §2): without an offset the text
    already is business-local; with 'Z' or an offset it is converted to var('business_time_zone').
    Upper-cased first so 't' and 'z' are accepted as well. -#}
{% macro staging_try_timestamp(text_column) -%}
    {%- set normalized = 'upper(' ~ text_column ~ ')' -%}
    case
        when {{ staging_matches(normalized, staging_naive_timestamp_pattern()) }}
            then {{ staging_cast_naive_timestamp(normalized) }}
        when {{ staging_matches(normalized, staging_offset_timestamp_pattern()) }}
            then {{ staging_cast_offset_timestamp(normalized) }}
    end
{%- endmacro %}

{% macro staging_cast_naive_timestamp(expression) -%}
    {{ return(adapter.dispatch('staging_cast_naive_timestamp', 'customer_lifecycle')(expression)) }}
{%- endmacro %}

{% macro default__staging_cast_naive_timestamp(expression) -%}
    {{ target.schema }}.staging_try_cast_timestamp({{ expression }})
{%- endmacro %}

{% macro duckdb__staging_cast_naive_timestamp(expression) -%}
    try_cast({{ expression }} as timestamp)
{%- endmacro %}

{% macro spark__staging_cast_naive_timestamp(expression) -%}
    try_cast({{ expression }} as timestamp_ntz)
{%- endmacro %}

{% macro staging_cast_offset_timestamp(expression) -%}
    {{ return(adapter.dispatch('staging_cast_offset_timestamp', 'customer_lifecycle')(expression)) }}
{%- endmacro %}

{% macro default__staging_cast_offset_timestamp(expression) -%}
    ({{ target.schema }}.staging_try_cast_timestamptz({{ expression }}) at time zone '{{ var("business_time_zone") }}')
{%- endmacro %}

{% macro duckdb__staging_cast_offset_timestamp(expression) -%}
    timezone('{{ var("business_time_zone") }}', try_cast({{ expression }} as timestamptz))
{%- endmacro %}

{#- Spark: the instant, seen as wall-clock time of the session zone, moved to the business zone. -#}
{% macro spark__staging_cast_offset_timestamp(expression) -%}
    convert_timezone(current_timezone(), '{{ var("business_time_zone") }}',
        cast(try_cast({{ expression }} as timestamp) as timestamp_ntz))
{%- endmacro %}

{#- _loaded_at is a naive UTC timestamp; business rules compare in business-local time. -#}
{% macro staging_utc_to_business(expression) -%}
    {{ return(adapter.dispatch('staging_utc_to_business', 'customer_lifecycle')(expression)) }}
{%- endmacro %}

{% macro default__staging_utc_to_business(expression) -%}
    (({{ expression }} at time zone 'UTC') at time zone '{{ var("business_time_zone") }}')
{%- endmacro %}

{#- Spark: the raw column is a TIMESTAMP (an instant), seen in the session zone. -#}
{% macro spark__staging_utc_to_business(expression) -%}
    convert_timezone(current_timezone(), '{{ var("business_time_zone") }}', cast({{ expression }} as timestamp_ntz))
{%- endmacro %}
