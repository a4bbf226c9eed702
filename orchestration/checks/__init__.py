"""Data quality: Great Expectations 1.x suites as code (suites.py), validated on pandas frames pulled
from the warehouse (validation.py), kept under $CLM_WAREHOUSE_DIR/dq/ (results.py), and run as Dagster
asset checks (asset_checks.py). Error-severity failures on marts block publishing."""
