"""Every dbt unit test of the project (the hand-worked cases in the `_*__unit_tests.yml` files beside the
models) passes on DuckDB and PostgreSQL; tests/test_spark.py runs them on the Spark cluster.

They are not part of the production job (docs/DECISIONS.md: their inputs are static, so they run here, once
per engine). Unit tests need the relations upstream of the tested models to exist (for column types), so
those are first built empty.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from orchestration.ingest import ensure_raw_schema
from orchestration.manifest import load_manifest
from orchestration.settings import load_settings
from tests.support import DbtRunner

# areas whose cases are counted, so that a lost YAML block fails here and not only in review
LIFECYCLE_MODELS = (
    "int_customer_months_spined",
    "int_customer_months_measured",
    "int_customer_stages_sequenced",
    "fct_stage_durations",
    "fct_early_warning",
    "fct_call_list",
)
TIER_CASES = 11  # 8 beside int_customer_value_tiers_historical, 3 in models/marts/value/_value__unit_tests.yml
TIER_MODELS = (
    "int_customer_value_tiers_historical",
    "fct_customer_value_tiers",
    "fct_value_tiers_monthly",
    "fct_value_tier_summary",
)


def written_unit_tests(manifest: dict) -> list[str]:
    """Every unit test in the manifest as dbt prints it when it passes: `model::name`."""
    return sorted(f"{test['model']}::{test['name']}" for test in manifest["unit_tests"].values())


def passed_unit_tests(dbt_output: str) -> list[str]:
    return sorted(re.findall(r"\d+ of \d+ PASS (\w+::\w+)", dbt_output))


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_every_unit_test_passes(engine: str, request: pytest.FixtureRequest) -> None:
    env = request.getfixturevalue("clm_env" if engine == "duckdb" else "pg_env")
    dbt = DbtRunner(env)
    ensure_raw_schema(load_settings(env))
    dbt("seed")
    written = written_unit_tests(load_manifest(env))
    tested_models = sorted({name.split("::")[0] for name in written})
    dbt("run", "--empty", "--select", *(f"+{model}" for model in tested_models))

    result = dbt("test", "--select", "test_type:unit")

    assert passed_unit_tests(result.stdout) == written, result.stdout[-3000:]
    per_model = Counter(name.split("::")[0] for name in written)
    assert all(per_model[model] >= 1 for model in LIFECYCLE_MODELS), per_model
    assert sum(per_model[model] for model in TIER_MODELS) == TIER_CASES, per_model
