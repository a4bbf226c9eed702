{#- DOMAIN.md §3: PII is replaced by a keyed hash. The development salt is public (it is in the README), so
    any environment other than development must bring its own secret in CLM_PII_SALT. -#}
{% macro dev_pii_salt() %}{{ return('clm-development-salt-not-for-production') }}{% endmacro %}

{% macro pii_salt() %}{{ return(env_var('CLM_PII_SALT', dev_pii_salt())) }}{% endmacro %}

{% macro guard_pii_salt() %}
    {% if execute %}
        {% set environment = env_var('CLM_ENVIRONMENT', 'development') %}
        {% if environment != 'development' and pii_salt() == dev_pii_salt() %}
            {{ exceptions.raise_compiler_error(
                "CLM_PII_SALT is the public development salt, refused in CLM_ENVIRONMENT='" ~ environment
                ~ "': set CLM_PII_SALT to a secret (see docs/runbook.md, 'Rotate the salt').") }}
        {% endif %}
        {% if pii_salt() | length < 16 or pii_salt() | length > 64 %}
            {{ exceptions.raise_compiler_error("CLM_PII_SALT must be 16 to 64 characters long") }}
        {% endif %}
    {% endif %}
    {{ return('select 1 as pii_salt_is_acceptable') }}
{% endmacro %}
