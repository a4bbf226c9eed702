{#-
    The as-of month's rows of int_customer_lifecycle_months (one per customer with a month row): what the
    customer dimension and early warning read. A view that filters the measures and the stages to the
    as-of month before joining them (macros/lifecycle/lifecycle_months.sql).
-#}

{{ config(materialized='view') }}

{{ lifecycle_months(as_of_month_only=true) }}
