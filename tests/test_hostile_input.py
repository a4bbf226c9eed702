"""Hostile values — quotes, semicolons, SQL fragments, very long strings, Unicode — in ids, enum fields, free
text, file names, vars and settings are rejected or stored as data, never executed (issue: grants, PII and
hostile input). Each path has its own test, on DuckDB and PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from orchestration.contract import RAW_TABLES
from orchestration.ingest import ingest_all
from orchestration.settings import load_settings
from tests.engines import BuiltWarehouse, query
from tests.support import DbtRunner

DROP = "'; drop table raw.orders; --"
HOSTILE_ID = f"C9{DROP}"
LONG_TEXT = "长" * 5000 + "x" * 5000
FREE_TEXT = 'Robert"); delete from staging.stg_crm__orders where ("1"="1 ; 😀 ünïcödé \\ \' "'
BAD_STATUS = f"completed{DROP}"


def _write(landing: Path, table: str, name: str, rows: list[dict[str, str]]) -> None:
    folder = landing / table
    folder.mkdir(parents=True, exist_ok=True)
    columns = RAW_TABLES[table].columns
    with (folder / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})


def _hostile_landing(landing: Path) -> None:
    _write(landing, "customers", "customers_1.csv", [
        {"customer_id": HOSTILE_ID, "created_at": "2024-01-02 10:00:00", "full_name": FREE_TEXT,
         "phone": "13800000000", "email": "x@example.com", "city": LONG_TEXT, "customer_type": "individual",
         "acquisition_channel": FREE_TEXT},
        {"customer_id": "C0000002", "created_at": "2024-01-02 10:00:00", "customer_type": f"individual{DROP}"},
    ])
    # a file name that is itself an SQL fragment
    _write(landing, "orders", "orders_'; drop table raw.customers; --.csv", [
        {"order_id": f"O1{DROP}", "customer_id": HOSTILE_ID, "ordered_at": "2024-01-03 10:00:00",
         "status": "completed", "gross_amount": "100.00", "discount_amount": "5.00", "cost_amount": "50.00",
         "product_category": LONG_TEXT, "sales_channel": FREE_TEXT},
        {"order_id": "O2", "customer_id": HOSTILE_ID, "ordered_at": "2024-01-04 10:00:00",
         "status": BAD_STATUS, "gross_amount": "100.00"},
        {"order_id": "O3", "customer_id": HOSTILE_ID, "ordered_at": "2024-01-05 10:00:00",
         "status": "completed", "gross_amount": f"1{DROP}"},
    ])
    _write(landing, "complaints", "complaints_1.csv", [
        {"complaint_id": "P1", "customer_id": HOSTILE_ID, "opened_at": "2024-01-06 10:00:00",
         "severity": "HIGH ", "category": FREE_TEXT, "status": LONG_TEXT},
    ])


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def hostile_build(request: pytest.FixtureRequest, clm_env: dict[str, str]) -> BuiltWarehouse:
    env = clm_env if request.param == "duckdb" else request.getfixturevalue("pg_env")
    _hostile_landing(Path(env["CLM_LANDING_DIR"]))
    ingest_all(load_settings(env))
    dbt = DbtRunner(env)
    dbt("run", "--select", "staging")
    return BuiltWarehouse(env=env, dbt=dbt)


def test_hostile_ids_and_free_text_are_stored_verbatim(hostile_build: BuiltWarehouse) -> None:
    # category-like columns are normalised (trim + lower case) by staging; the rest is kept as written
    customers = query(hostile_build, "select customer_id, city, acquisition_channel from staging.stg_crm__customers")
    assert customers == [(HOSTILE_ID, LONG_TEXT, FREE_TEXT.strip().lower())]
    orders = query(hostile_build, "select order_id, customer_id, product_category from staging.stg_crm__orders")
    assert orders == [(f"O1{DROP}", HOSTILE_ID, LONG_TEXT)]
    complaints = query(hostile_build, "select complaint_id, severity, category from staging.stg_crm__complaints")
    assert complaints == [("P1", "high", FREE_TEXT.strip().lower())]


def test_hostile_enums_and_numbers_are_rejected_with_a_reason(hostile_build: BuiltWarehouse) -> None:
    rejected = dict(
        query(hostile_build, "select record_id, rejection_reason from staging.stg_crm__rejected_rows")
    )
    assert rejected == {
        "C0000002": "invalid_enum_value",
        "O2": "invalid_enum_value",
        "O3": "unparseable_number",
    }


def test_nothing_was_executed(hostile_build: BuiltWarehouse) -> None:
    counts = dict(query(hostile_build, """
        select 'customers', count(*) from raw.customers union all select 'orders', count(*) from raw.orders
        union all select 'ledger', count(*) from raw._load_ledger"""))
    assert counts == {"customers": 2, "orders": 3, "ledger": 3}
    files = {r[0] for r in query(hostile_build, "select file_name from raw._load_ledger")}
    assert "orders/orders_'; drop table raw.customers; --.csv" in files


HOSTILE_VARS = [
    ("lifecycle_framework", "relationship_4'; drop table raw.orders; --"),
    ("as_of_date", "2024-01-01'; drop table raw.orders; --"),
    ("clv_observation_end", "2024-01-01 or 1=1"),
    ("clv_time_unit", "day; select 1"),
    ("new_window_days", "90; drop table raw.orders"),
    ("decline_gap_factor", "1.5) or (1=1"),
    ("value_tier_cutoffs", ["0.2; drop table raw.orders", 0.8]),
    ("negative_referral_cost", {"low": "0); drop table raw.orders; --", "medium": 20, "high": 100, "critical": 300}),
    ("business_time_zone", "Asia/Shanghai'; drop table raw.orders; --"),
]


@pytest.mark.parametrize(("name", "value"), HOSTILE_VARS, ids=[n for n, _ in HOSTILE_VARS])
def test_hostile_vars_fail_naming_the_var(clm_env: dict[str, str], name: str, value: object) -> None:
    """The same validation runs as the first on-run-start hook of every build (dbt_project.yml)."""
    proc = DbtRunner(clm_env)("run-operation", "validate_vars", vars={name: value}, check=False)
    assert proc.returncode != 0
    assert f"Invalid var '{name}'" in proc.stdout


def test_a_hostile_var_stops_the_build_before_any_sql(clm_env: dict[str, str]) -> None:
    _hostile_landing(Path(clm_env["CLM_LANDING_DIR"]))
    ingest_all(load_settings(clm_env))
    dbt = DbtRunner(clm_env)
    name, value = HOSTILE_VARS[0]
    proc = dbt("run", "--select", "staging", vars={name: value}, check=False)
    assert proc.returncode != 0 and f"Invalid var '{name}'" in proc.stdout
    warehouse = BuiltWarehouse(env=clm_env, dbt=dbt)
    assert query(warehouse, "select count(*) from raw.orders") == [(3,)]
    relations = query(warehouse, "select table_name from information_schema.tables where table_schema = 'staging'")
    assert relations == []


def test_hostile_analyst_role_name_is_refused(pg_env: dict[str, str]) -> None:
    _hostile_landing(Path(pg_env["CLM_LANDING_DIR"]))
    dbt = DbtRunner(dict(pg_env, CLM_ANALYST_ROLE="analyst; drop schema raw cascade; --"))
    proc = dbt("run", "--select", "stg_crm__customers", check=False)
    assert proc.returncode != 0
    assert "CLM_ANALYST_ROLE must be a plain lower-case identifier" in proc.stdout


def test_hostile_pii_salt_is_only_ever_data(clm_env: dict[str, str]) -> None:
    """A salt full of quotes is used as key bytes (computed in Jinja into hex literals), not spliced into SQL."""
    import hashlib
    import hmac

    salt = "s'; drop table raw.orders; --\"😀"
    env = dict(clm_env, CLM_PII_SALT=salt)
    _hostile_landing(Path(env["CLM_LANDING_DIR"]))
    ingest_all(load_settings(env))
    DbtRunner(env)("run", "--select", "staging")
    warehouse = BuiltWarehouse(env=env, dbt=DbtRunner(env))
    quoted_id = HOSTILE_ID.replace("'", "''")
    sql = f"select phone_hash from staging.stg_crm__customers where customer_id = '{quoted_id}'"
    phone_hash = query(warehouse, sql)
    assert phone_hash == [(hmac.new(salt.encode(), b"13800000000", hashlib.sha256).hexdigest(),)]
    assert query(warehouse, "select count(*) from raw.orders") == [(3,)]
