"""Assets by layer: ingest (raw tables), dbt (seeds, models, snapshots), predictive CLV, publish, report."""
