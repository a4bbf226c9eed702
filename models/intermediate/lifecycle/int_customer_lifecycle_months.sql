{#-
    Each customer-month's measures (int_customer_months_measured) with its stage after the dynamics
    (int_customer_stages_sequenced): the rows the lifecycle fact reads. A view, so the wide measures are
    written once (by the measured model). Readers of the as-of month alone read
    int_customer_lifecycle_as_of_month, which filters before the join (macros/lifecycle/lifecycle_months.sql).
-#}

{{ config(materialized='view') }}

{{ lifecycle_months() }}
