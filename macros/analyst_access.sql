{#-
    DOMAIN.md §9: BI users read the marts and nothing else. On PostgreSQL the project owns a login role
    `analyst` (password from CLM_PG_ANALYST_PASSWORD) with USAGE on schema marts only; each mart grants it
    SELECT through dbt's `grants` config (dbt_project.yml, models: marts: +grants), which dbt re-applies on every rebuild. Raw,
    staging, intermediate, python_models and snapshots are never granted, and the role owns nothing, so it
    can neither write nor create. Other engines have no server-side roles here: DuckDB readers get the
    published read-only copy instead (orchestration/assets/publish.py).
-#}
{% macro analyst_role() %}{{ return(env_var('CLM_ANALYST_ROLE', 'analyst')) }}{% endmacro %}

{% macro ensure_analyst_role() %}
    {{ return(adapter.dispatch('ensure_analyst_role', 'customer_lifecycle')()) }}
{% endmacro %}

{% macro default__ensure_analyst_role() %}
    {{ return('select 1 as no_analyst_role_on_this_engine') }}
{% endmacro %}

{% macro postgres__ensure_analyst_role() %}
    {% set role = analyst_role() %}
    {% if not modules.re.fullmatch('[a-z_][a-z0-9_]{0,62}', role) %}
        {{ exceptions.raise_compiler_error("CLM_ANALYST_ROLE must be a plain lower-case identifier") }}
    {% endif %}
    {% set password = env_var('CLM_PG_ANALYST_PASSWORD', 'analyst') | replace("'", "''") %}
    {% set sql %}
        do $do$
        begin
            if not exists (select from pg_roles where rolname = '{{ role }}') then
                create role {{ role }} login password '{{ password }}'
                    nosuperuser nocreatedb nocreaterole noinherit;
            end if;
        end
        $do$;
        create schema if not exists marts;
        grant usage on schema marts to {{ role }};
        revoke create on schema marts from {{ role }};
        revoke all on database {{ target.dbname }} from public;
        grant connect on database {{ target.dbname }} to {{ target.user }}, {{ role }};
    {% endset %}
    {{ return(sql) }}
{% endmacro %}
