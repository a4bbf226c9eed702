{#-
    PII (DOMAIN.md §3): staging keeps only a keyed hash and a masked form of names, phones and e-mails.

    The hash is HMAC-SHA256 (RFC 2104) with the salt of pii_salt() as key:
        hmac(key, m) = sha256((key xor opad) || sha256((key xor ipad) || m))
    No engine has a portable hmac() function, so the two 64-byte padded keys are computed here, in Jinja,
    and inlined as hex literals; only sha256, hex decoding and binary concatenation are dispatched.
    The key never appears in a view definition: models calling pii_hmac are materialized as tables.
-#}

{#- XOR of two bytes with integer arithmetic (Jinja has no bitwise operators). -#}
{% macro _staging_xor_byte(left, right) %}
    {%- set result = namespace(value=0) -%}
    {%- for bit in range(8) -%}
        {%- set weight = 2 ** bit -%}
        {%- if ((left // weight) % 2) != ((right // weight) % 2) -%}
            {%- set result.value = result.value + weight -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(result.value) }}
{% endmacro %}

{#- The salt, zero-padded to the SHA-256 block size (64 bytes), each byte xor `pad`, as hex. -#}
{% macro staging_hmac_key_pad_hex(pad) %}
    {%- set key = pii_salt().encode('utf-8') | list -%}
    {%- if key | length > 64 -%}
        {{ exceptions.raise_compiler_error("CLM_PII_SALT must be at most 64 bytes (UTF-8) for HMAC-SHA256") }}
    {%- endif -%}
    {%- set padded = key + [0] * (64 - key | length) -%}
    {%- set hex_bytes = [] -%}
    {%- for byte in padded -%}
        {%- do hex_bytes.append('%02x' | format(_staging_xor_byte(byte, pad))) -%}
    {%- endfor -%}
    {{ return(hex_bytes | join('')) }}
{% endmacro %}

{#- HMAC-SHA256 of a text value (already normalised by the caller), lower-case hex; null stays null. -#}
{% macro pii_hmac(expression) -%}
    {{ return(adapter.dispatch('pii_hmac', 'customer_lifecycle')(
        expression, staging_hmac_key_pad_hex(54), staging_hmac_key_pad_hex(92))) }}
{%- endmacro %}

{#- 54 = 0x36 (ipad), 92 = 0x5c (opad). -#}
{% macro default__pii_hmac(expression, inner_key_hex, outer_key_hex) -%}
    encode(sha256(decode('{{ outer_key_hex }}', 'hex')
        || sha256(decode('{{ inner_key_hex }}', 'hex') || convert_to({{ expression }}, 'UTF8'))), 'hex')
{%- endmacro %}

{% macro duckdb__pii_hmac(expression, inner_key_hex, outer_key_hex) -%}
    sha256(unhex('{{ outer_key_hex }}')
        || unhex(sha256(unhex('{{ inner_key_hex }}') || encode({{ expression }}))))
{%- endmacro %}

{% macro spark__pii_hmac(expression, inner_key_hex, outer_key_hex) -%}
    sha2(concat(unhex('{{ outer_key_hex }}'),
        unhex(sha2(concat(unhex('{{ inner_key_hex }}'), encode({{ expression }}, 'UTF-8')), 256))), 256)
{%- endmacro %}

{#- Normalisation before hashing, so the same person hashes the same way in every file. -#}
{% macro normalize_email(expression) -%}
    lower(nullif(trim({{ expression }}), ''))
{%- endmacro %}

{% macro normalize_phone(expression) -%}
    {{ staging_digits_only(expression) }}
{%- endmacro %}

{% macro normalize_name(expression) -%}
    nullif(trim({{ expression }}), '')
{%- endmacro %}

{#- Masked forms: enough to recognise a record on the phone, not enough to identify a person. -#}
{% macro mask_name(normalized_name) -%}
    case when {{ normalized_name }} is not null
        then {{ dbt.concat(['substring(' ~ normalized_name ~ ', 1, 1)', "'**'"]) }} end
{%- endmacro %}

{#- The last four digits only when there are more than four, so a short number is never shown whole. -#}
{% macro mask_phone(normalized_phone) -%}
    case
        when {{ dbt.length(normalized_phone) }} > 4
            then {{ dbt.concat(["'*******'", dbt.right(normalized_phone, '4')]) }}
        when {{ normalized_phone }} is not null then '*******'
    end
{%- endmacro %}

{#- First character, then the domain ('j***@example.com'); a value without '@' keeps no domain. -#}
{% macro mask_email(normalized_email) -%}
    case when {{ normalized_email }} is not null
        then {{ dbt.concat(['substring(' ~ normalized_email ~ ', 1, 1)', "'***@'",
            dbt.split_part(normalized_email, "'@'", 2)]) }} end
{%- endmacro %}
