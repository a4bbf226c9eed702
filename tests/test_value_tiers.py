"""Value tiers (DOMAIN.md §7): a bad cut-point var fails the build naming the var.

The hand-worked cases of the tier rule are dbt unit tests (tests/test_dbt_unit_tests.py runs them on every
engine); they live beside the models (the tier rule on historical CLV in
models/intermediate/value/_value__unit_tests.yml, the rest in
models/marts/value/_value__unit_tests.yml): exact 20/60/20 counts with ties across both boundaries, all
values equal, one to four customers, negative CLV, custom cut points (four tiers, and a half that must
round up in exact decimals), the predicted tiering on total CLV, monthly moves and the tier summary's
shares.
"""

from __future__ import annotations

from tests.support import DbtRunner


def test_invalid_cut_points_fail_the_build_naming_the_var(clm_env: dict[str, str]) -> None:
    dbt = DbtRunner(clm_env)
    result = dbt(
        "run", "--select", "int_customer_value_tiers_historical", check=False, vars={"value_tier_cutoffs": [0.8, 0.2]}
    )
    assert result.returncode != 0
    assert "value_tier_cutoffs" in result.stdout
