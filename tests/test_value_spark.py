"""The value models on Spark SQL: the hand-worked case of test_value_clv, compiled for the spark target
and run in a local Spark session on the staged rows of the DuckDB build, must give the oracle's numbers.

Only the value models run on Spark here (staging and the lifecycle marts are inputs, copied from DuckDB),
so this proves the value SQL is portable, not the whole project.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import duckdb
import pytest

from orchestration.settings import load_settings
from tests.support import DBT, PROJECT_DIR, DbtRunner
from tests.support.value_case import AS_OF_DATE, COMPONENTS, build_value_models, expected_clv, isolated_env

pytestmark = [pytest.mark.spark, pytest.mark.slow]

INPUTS = {
    "staging": ("stg_crm__customers", "stg_crm__orders", "stg_crm__calls", "stg_crm__complaints",
                "stg_crm__marketing_spend"),
    "intermediate": (
        "int_as_of_dates", "int_calendar_months", "int_customer_activity_monthly", "int_customer_change_stamps",
    ),
    "marts": ("dim_customers",),
    "reference": ("value_tier_labels",),
}
VALUE_MODELS = (
    ("intermediate", "int_customer_acquisitions"), ("intermediate", "int_calls_costed"),
    ("intermediate", "int_marketing_spend_allocated"), ("intermediate", "int_customer_cash_flows_monthly"),
    ("marts", "fct_value_tiers_monthly"), ("intermediate", "int_customer_clv_historical"),
    ("intermediate", "int_customer_value_tiers_historical"), ("marts", "fct_customer_clv"),
    ("marts", "fct_acquisition_costs"), ("marts", "fct_customer_value_tiers"),
    ("marts", "fct_value_tier_summary"), ("marts", "fct_value_pareto"),
    ("marts", "fct_stage_tier_counts"),
)


@pytest.fixture(scope="module")
def spark_tables(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    pyspark_sql = pytest.importorskip("pyspark.sql")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed")
    root = tmp_path_factory.mktemp("value_spark")
    env = isolated_env(root)
    build_value_models(env)
    DbtRunner(env)("build", "--select", "+dim_customers", "--exclude", "resource_type:test",
                   vars={"as_of_date": AS_OF_DATE})
    # compile for Spark in a scratch folder (the spark adapter leaves a metastore in its working directory)
    spark_env = dict(env, CLM_TARGET="spark", DBT_TARGET_PATH=str(root / "spark_target"))
    compiled = subprocess.run(
        [DBT, "compile", "--select", *(name for _, name in VALUE_MODELS), "--vars", f'{{"as_of_date": "{AS_OF_DATE}"}}',
         "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)],
        env=spark_env, cwd=root, capture_output=True, text=True,
    )
    assert compiled.returncode == 0, compiled.stdout[-4000:]

    spark = (
        pyspark_sql.SparkSession.builder.master("local[2]").appName("value-spark-test")
        .config("spark.sql.warehouse.dir", str(root / "spark_warehouse"))
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    duck = duckdb.connect(str(load_settings(env).duckdb_path), read_only=True)
    try:
        for schema in ("staging", "intermediate", "marts", "reference", "python_models"):
            spark.sql(f"create database if not exists {schema}")
        for schema, tables in INPUTS.items():
            for table in tables:
                frame = duck.execute(f"select * from {schema}.{table}").fetch_df()
                spark.createDataFrame(frame).write.mode("overwrite").saveAsTable(f"{schema}.{table}")
        spark.sql(
            "create table if not exists python_models.clv_customer_predictions (customer_id string, p_alive double, "
            "expected_purchases double, expected_spend_per_purchase double, expected_margin_per_purchase double, "
            "predicted_future_clv double)"
        )
        models_dir = root / "spark_target" / "compiled" / "customer_lifecycle" / "models"
        for schema, name in VALUE_MODELS:
            sql = (models_dir / schema / "value" / f"{name}.sql").read_text()
            spark.sql(f"drop table if exists {schema}.{name}")
            spark.sql(f"create table {schema}.{name} as {sql}")
        yield spark
    finally:
        duck.close()
        spark.stop()


def test_value_models_on_spark_match_the_oracle(spark_tables: object) -> None:
    spark = spark_tables
    expected = expected_clv()
    columns = (*COMPONENTS, "lifetime_profit", "historical_clv")
    rows = spark.sql(f"select customer_id, {', '.join(columns)} from marts.fct_customer_clv").collect()  # type: ignore[attr-defined]
    actual = {row[0]: dict(zip(columns, (float(v) for v in row[1:]), strict=True)) for row in rows}
    assert sorted(actual) == sorted(expected)
    for customer, values in expected.items():
        for column, value in values.items():
            assert actual[customer][column] == pytest.approx(value, abs=1e-3), (customer, column)

    tiers = spark.sql(  # type: ignore[attr-defined]
        "select customer_id, value_tier from marts.fct_customer_value_tiers order by value_rank"
    ).collect()
    ranking = sorted(expected, key=lambda c: (-expected[c]["historical_clv"], c))
    assert [(r[0], r[1]) for r in tiers] == list(zip(ranking, ["A", "B", "B", "C"], strict=True))
    stage_tiers = spark.sql(  # type: ignore[attr-defined]
        "select value_tier, sum(customers) from marts.fct_stage_tier_counts group by value_tier"
    ).collect()
    assert {r[0]: r[1] for r in stage_tiers} == {"A": 1, "B": 2, "C": 1, "unranked": 1}
    moves = spark.sql(  # type: ignore[attr-defined]
        "select count(*) from marts.fct_value_tiers_monthly where tier_move = 'new'"
    ).collect()
    assert moves[0][0] == 4
