"""Every asset check has a description: dbt tests get one from what they assert."""

from __future__ import annotations

from orchestration.checks.dbt_test_descriptions import dbt_test_description
from orchestration.definitions import build_definitions


def _generic(name: str, column: str | None, **kwargs: object) -> dict:
    return {"name": f"{name}_x", "column_name": column, "test_metadata": {"name": name, "kwargs": kwargs}}


def test_generic_tests_are_described_by_what_they_assert() -> None:
    assert dbt_test_description(_generic("not_null", "customer_id")) == "customer_id is never null"
    assert dbt_test_description(_generic("unique", "order_id")).startswith("order_id is unique")
    assert (
        dbt_test_description(_generic("accepted_values", "status", values=["completed", "returned"]))
        == "status is one of: completed, returned"
    )
    many = dbt_test_description(_generic("accepted_values", "city", values=[str(i) for i in range(10)]))
    assert many == "city is one of: 0, 1, 2, 3, 4, 5, 6, 7 (+2 more)"
    assert (
        dbt_test_description(_generic("relationships", "customer_id", to="ref('dim_customers')", field="customer_id"))
        == "every customer_id exists as customer_id in dim_customers"
    )
    assert "(tiering, value_tier)" in dbt_test_description(
        _generic("value_unique_combination", None, columns=["tiering", "value_tier"])
    )
    scoped = dbt_test_description(_generic("value_unique_combination", None, columns=["a", "b"], in_run_scope=True))
    assert scoped.startswith("no two rows share (a, b)") and "scope" in scoped
    assert "scope" not in dbt_test_description(_generic("value_unique_combination", None, columns=["a"]))
    assert dbt_test_description(_generic("some_custom", "x", threshold=3)) == "x: dbt test some_custom (threshold=3)"


def test_own_descriptions_win_and_singular_tests_use_their_leading_comment() -> None:
    own = {**_generic("not_null", "a"), "description": "a is set by the loader"}
    assert dbt_test_description(own) == "a is set by the loader"
    singular = {
        "name": "assert_x",
        "original_file_path": "tests/dbt/assert_x.sql",
        "raw_code": "{{ config(meta={'dagster': {}}) }}\n-- Every churn is counted once:\n-- no duplicates.\nselect 1",
    }
    assert dbt_test_description(singular) == "Every churn is counted once: no duplicates."
    bare = {"name": "assert_y", "original_file_path": "tests/dbt/assert_y.sql", "raw_code": "select 1 where false"}
    assert dbt_test_description(bare) == "assert_y (tests/dbt/assert_y.sql) returns no rows"


def test_every_asset_check_of_the_code_location_has_a_description(clm_env: dict[str, str]) -> None:
    from orchestration.manifest import build_manifest, load_manifest

    build_manifest(clm_env)
    definitions = build_definitions(load_manifest(clm_env))
    specs = [spec for ad in definitions.resolve_asset_graph().assets_defs for spec in ad.check_specs]
    assert len(specs) > 200
    assert [spec.key for spec in specs if not (spec.description or "").strip()] == []
