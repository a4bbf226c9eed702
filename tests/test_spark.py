"""The same project on Spark (issue: same models on PostgreSQL and Spark): the engine-test data is ingested
and `dbt build` (seeds, models, data and unit tests) passes on local Spark in the `spark_warehouse` fixture;
then the key figures agree with DuckDB's build of the same data: counts exactly, money within a cent."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml

from orchestration.ingest.spark_loader import read_ledger_readonly, spark_ddl
from orchestration.settings import load_settings
from orchestration.spark_session import metastore_uri, spark_conf, spark_master
from tests.engines import BuiltWarehouse, query
from tests.support import PROJECT_DIR
from tests.support.agreement import COUNT_QUERIES, MONEY_QUERIES, assert_money_rows_agree, normalise_numbers
from tests.support.pii import assert_no_pii

pytestmark = pytest.mark.spark


def test_profile_uses_the_session_settings_of_spark_session() -> None:
    """profiles.yml repeats orchestration/spark_session.py's settings in Jinja; the two must not drift."""
    profile = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8"))
    rendered = {
        key: re.sub(r"\{\{ env_var\('CLM_WAREHOUSE_DIR', 'warehouse'\) \}\}", "/w", value).replace(
            "{{ env_var('CLM_SPARK_MASTER', '') or 'local[*]' }}", spark_master()
        ).replace("{{ env_var('CLM_SPARK_METASTORE_URI', '') }}", metastore_uri())
        for key, value in profile["customer_lifecycle"]["outputs"]["spark"]["server_side_parameters"].items()
    }
    expected = spark_conf(Path("/w"))
    expected.pop("spark.sql.ansi.enabled")  # dbt-spark sets it itself
    assert rendered == expected


def test_spark_ddl_spells_text_as_string_and_stores_parquet() -> None:
    assert spark_ddl("create table if not exists raw.t (a varchar, b bigint, c_varchar varchar)") == (
        "create table if not exists raw.t (a string, b bigint, c_varchar string) using parquet"
    )
    assert spark_ddl("alter table raw.t add columns (a varchar)") == "alter table raw.t add columns (a string)"


def test_ingest_wrote_every_landed_file_to_the_ledger(spark_warehouse: BuiltWarehouse) -> None:
    """The ledger read without a JVM (straight from its parquet files) is the ledger Spark sees."""
    settings = load_settings(spark_warehouse.env)
    from_files = sorted((e.file_name, e.file_sha256, e.row_count, e.status) for e in read_ledger_readonly(settings))
    through_spark = sorted(
        (name, sha, int(rows), status)
        for name, sha, rows, status in query(
            spark_warehouse, "select file_name, file_sha256, row_count, status from raw._load_ledger"
        )
    )
    landed = [p for p in Path(spark_warehouse.env["CLM_LANDING_DIR"]).rglob("*") if p.is_file()]
    assert from_files == through_spark
    assert len(from_files) == len(landed)


def test_raw_rows_match_the_ledger(spark_warehouse: BuiltWarehouse) -> None:
    ledger = dict(
        query(
            spark_warehouse,
            "select table_name, sum(row_count) from raw._load_ledger where status = 'loaded' group by table_name",
        )
    )
    for table, rows in ledger.items():
        assert query(spark_warehouse, f"select count(*) from raw.{table}") == [(rows,)], table


def _sorted(rows: list[tuple]) -> list[tuple]:
    """Rows in one order on both engines: Spark sorts nulls first, DuckDB and PostgreSQL last."""
    return sorted(rows, key=lambda row: tuple((value is not None, value) for value in row))


@pytest.mark.parametrize("name", sorted(COUNT_QUERIES))
def test_counts_agree_duckdb_spark(
    duckdb_warehouse: BuiltWarehouse, spark_warehouse: BuiltWarehouse, name: str
) -> None:
    on_duckdb = _sorted(normalise_numbers(query(duckdb_warehouse, COUNT_QUERIES[name])))
    on_spark = _sorted(normalise_numbers(query(spark_warehouse, COUNT_QUERIES[name])))
    assert on_duckdb, f"{name}: no rows on DuckDB"
    assert on_duckdb == on_spark


@pytest.mark.parametrize("name", sorted(MONEY_QUERIES))
def test_money_agrees_within_a_cent_duckdb_spark(
    duckdb_warehouse: BuiltWarehouse, spark_warehouse: BuiltWarehouse, name: str
) -> None:
    on_duckdb = _sorted(query(duckdb_warehouse, MONEY_QUERIES[name]))
    assert_money_rows_agree(name, on_duckdb, _sorted(query(spark_warehouse, MONEY_QUERIES[name])))


def test_seed_text_with_apostrophes_round_trips(spark_warehouse: BuiltWarehouse) -> None:
    """dbt-spark's session cursor does not escape seed values; macros/spark/spark_seed_rows.sql does."""
    with (PROJECT_DIR / "seeds" / "stage_strategies.csv").open(encoding="utf-8", newline="") as handle:
        expected = sorted((row["stage_code"], row["recommended_action_en"]) for row in csv.DictReader(handle))
    assert any("'" in action for _, action in expected), "the seed no longer has an apostrophe to test"
    loaded = query(spark_warehouse, "select stage_code, recommended_action_en from reference.stage_strategies")
    assert sorted(loaded) == expected


def test_no_pii_outside_raw_spark(spark_warehouse: BuiltWarehouse) -> None:
    """The PII audit of tests/test_pii_audit.py on the Spark build (kept in this file so that test
    workers distributed by file build Spark once)."""
    assert_no_pii(spark_warehouse)
