-- DOMAIN.md §3: for every raw table, raw = staged + rejected + superseded. Returns the tables that
-- do not add up; five tables must be present.
with

reconciliation as (

    select * from {{ ref('stg_crm__row_reconciliation') }}

),

mismatches as (

    select
        table_name,
        raw_rows,
        staged_rows + rejected_rows + superseded_rows as accounted_rows
    from reconciliation
    where raw_rows <> staged_rows + rejected_rows + superseded_rows

),

missing_tables as (

    select
        'missing tables' as table_name,
        count(*) as raw_rows,
        5 as accounted_rows
    from reconciliation
    having count(*) <> 5

),

final as (

    select * from mismatches
    union all
    select * from missing_tables

)

select * from final
