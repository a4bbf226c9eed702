"""Value tiers (DOMAIN.md §7): the dbt unit tests of the tier rule, run on DuckDB and PostgreSQL.

The hand-worked cases live beside the models (the tier rule on historical CLV in
models/intermediate/value/_value__unit_tests.yml, the rest in
models/marts/value/_value__unit_tests.yml): exact 20/60/20 counts with ties across both boundaries, all
values equal, one to four customers, negative CLV, custom cut points (four tiers, and a half that must
round up in exact decimals), the predicted tiering on total CLV, monthly moves and the tier summary's
shares. Unit tests need the upstream relations to exist (for column types), so the models are first
built empty.
"""

from __future__ import annotations

import re

import pytest

from orchestration.ingest import ensure_raw_schema
from orchestration.settings import load_settings
from tests.support import DbtRunner

UNIT_TESTS = 11  # 8 beside int_customer_value_tiers_historical, 3 in models/marts/value/_value__unit_tests.yml
TIER_MODELS = (
    "int_customer_value_tiers_historical",
    "fct_customer_value_tiers",
    "fct_value_tiers_monthly",
    "fct_value_tier_summary",
)


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_tier_unit_tests_pass(engine: str, request: pytest.FixtureRequest) -> None:
    env = request.getfixturevalue("clm_env" if engine == "duckdb" else "pg_env")
    dbt = DbtRunner(env)
    ensure_raw_schema(load_settings(env))
    dbt("seed", "--select", "value_tier_labels")
    dbt("run", "--empty", "--select", *(f"+{model}" for model in TIER_MODELS))
    result = dbt("test", "--select", *(f"test_type:unit,{model}" for model in TIER_MODELS))
    # every case ran and passed (a selector typo would otherwise pass with nothing tested)
    passed = re.findall(r"\d+ of \d+ PASS (\w+::\w+)", result.stdout)
    assert len(passed) == UNIT_TESTS, result.stdout[-3000:]


def test_invalid_cut_points_fail_the_build_naming_the_var(clm_env: dict[str, str]) -> None:
    dbt = DbtRunner(clm_env)
    result = dbt(
        "run", "--select", "int_customer_value_tiers_historical", check=False, vars={"value_tier_cutoffs": [0.8, 0.2]}
    )
    assert result.returncode != 0
    assert "value_tier_cutoffs" in result.stdout
