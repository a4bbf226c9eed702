{#-
    Audit history of the current stage (DOMAIN.md §4): what was reported when, as SCD type 2. The
    monthly fact rebuilds history from raw data; this snapshot keeps what each run said, so a later
    correction of raw data does not rewrite what the call centre saw.
    Disabled on Spark: dbt-spark snapshots need a Delta/Hudi/Iceberg table (MERGE), and the session
    target writes Parquet; run the snapshot on DuckDB or PostgreSQL, or switch file_format to delta.
-#}
{% snapshot snap_customer_current_stage %}

{{ config(
    enabled=(target.type != 'spark'),
    unique_key='customer_id',
    strategy='check',
    check_cols=['stage_code', 'prospect_status'],
    hard_deletes='invalidate',
) }}

select
    customer_id,
    as_of_date,
    stage_code,
    stage_label_en,
    stage_label_zh,
    previous_stage_code,
    stage_started_date,
    prospect_status,
    value_tier
from {{ ref('dim_customers') }}

{% endsnapshot %}
