"""Data quality: Great Expectations 1.x suites as code (suites.py), judged in the warehouse from one
aggregate SQL query per relation (sql_validation.py; GX itself on a frame or a bounded sample in
validation.py), kept under $CLM_WAREHOUSE_DIR/dq/ (results.py), and run as Dagster asset checks
(asset_checks.py). Error-severity failures on marts block publishing."""
