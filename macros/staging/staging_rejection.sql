{#-
    Disposition of every raw row (DOMAIN.md §3: staged, rejected with a reason code, or superseded).
    The reason codes and their precedence mirror orchestration/contract.py REJECTION_REASONS
    (tests/test_staging.py checks that both lists are equal).
-#}

{% macro staging_rejection_reasons() %}
    {{ return([
        'missing_required_value',
        'unparseable_timestamp',
        'unparseable_number',
        'duplicate_id_same_updated_at',
        'invalid_enum_value',
        'negative_amount',
        'discount_above_gross',
        'cost_above_gross',
        'satisfaction_out_of_range',
        'timestamp_in_future',
        'resolved_before_opened',
        'unknown_customer',
        'before_customer_created',
    ]) }}
{% endmacro %}

{#- The first failing check names the reason. `checks` is a list of [reason, condition] pairs that
    must follow the contract's precedence; a condition may be a list of conditions (any of them). -#}
{% macro staging_first_rejection_reason(checks) -%}
    {%- set reasons = staging_rejection_reasons() -%}
    {%- set previous = namespace(position=-1) -%}
    case
    {%- for check in checks %}
        {%- set reason = check[0] -%}
        {%- if reason not in reasons -%}
            {{ exceptions.raise_compiler_error("unknown rejection reason '" ~ reason ~ "'") }}
        {%- endif -%}
        {%- if reasons.index(reason) < previous.position -%}
            {{ exceptions.raise_compiler_error("rejection reason '" ~ reason ~ "' is out of precedence order") }}
        {%- endif -%}
        {%- set previous.position = reasons.index(reason) -%}
        {%- set conditions = check[1] if check[1] is not string else [check[1]] %}
        when {{ conditions | join('\n            or ') }} then '{{ reason }}'
    {%- endfor %}
    end
{%- endmacro %}

{#- Version order within one id: latest updated_at first (no updated_at = oldest), then the later file,
    then the later row of the file. Deterministic because (_file_name, _file_row_number) is unique. -#}
{% macro staging_version_order() -%}
    updated_at desc nulls last, _file_name desc, _file_row_number desc
{%- endmacro %}

{#- A value outside an accepted list (values are already lower-cased and trimmed). -#}
{% macro staging_not_in(column, accepted) -%}
    ({{ column }} is not null and {{ column }} not in ('{{ accepted | join("', '") }}'))
{%- endmacro %}

{#- Reason for a row: its pre-versioning reason; else, for an older version, a tie with the current
    version's updated_at; else, for the current version, the first of its checks that fails. -#}
{% macro staging_rejection_reason(checks) -%}
    case
        when pre_version_reason is not null then pre_version_reason
        when version_rank > 1 and {{ staging_is_same_updated_at('updated_at', 'current_updated_at') }} then 'duplicate_id_same_updated_at'
        when version_rank > 1 then null
        else {{ staging_first_rejection_reason(checks) }}
    end
{%- endmacro %}

{% macro staging_row_disposition() -%}
    case
        when rejection_reason is not null then 'rejected'
        when version_rank > 1 then 'superseded'
        else 'staged'
    end
{%- endmacro %}

{#- Rank of a row among the versions of its id, and whether it ties the current version's updated_at.
    Rows already rejected before versioning (no id, unparseable updated_at) rank among themselves only. -#}
{% macro staging_version_columns(key_columns) -%}
    {%- set window -%}
        partition by pre_version_reason, {{ key_columns | join(', ') }} order by {{ staging_version_order() }}
    {%- endset -%}
    row_number() over ({{ window }}) as version_rank,
    {#- the rank-1 version has the latest updated_at (or none, when no version has one): max() over the
        whole partition is that value, and much cheaper than first_value over a full frame -#}
    max(updated_at) over (partition by pre_version_reason, {{ key_columns | join(', ') }}) as current_updated_at
{%- endmacro %}

{#- Two versions "have the same updated_at" when both are equal, or both have none (a file without
    updated_at cannot say which copy is newer, so a second copy is a duplicate, not a newer version). -#}
{% macro staging_is_same_updated_at(left, right) -%}
    ({{ left }} = {{ right }} or ({{ left }} is null and {{ right }} is null))
{%- endmacro %}

{#- A short, PII-free text of a raw row for people reading the rejected rows: 'label=value; ...'. -#}
{% macro staging_record_preview(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- if not loop.first -%}{%- do parts.append("'; '") -%}{%- endif -%}
        {%- do parts.append("'" ~ column ~ "='") -%}
        {%- do parts.append("coalesce(" ~ dbt.safe_cast(column, dbt.type_string()) ~ ", '')") -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}

{#- Call outcomes that mean nobody talked, whatever the duration says (stg_crm__calls.is_answered). -#}
{% macro unanswered_call_outcomes() %}
    {{ return(['no_answer', 'voicemail', 'busy', 'failed']) }}
{% endmacro %}
