"""The project's dbt resource skips two per-run costs of dagster-dbt's (orchestration/resources.py): it
must still report the version the `dbt` executable reports, and the dagster-dbt methods it replaces must
still exist under those names (an upgrade that renames them would silently bring the costs back)."""

from __future__ import annotations

from dagster_dbt import DbtCliResource

from orchestration.resources import DbtCli, dbt_resource
from orchestration.settings import PROJECT_DIR


def test_the_version_is_the_one_the_dbt_executable_reports() -> None:
    ours = dbt_resource()
    asked = DbtCliResource(
        project_dir=str(PROJECT_DIR), profiles_dir=str(PROJECT_DIR), dbt_executable=ours.dbt_executable
    )
    assert ours._cli_version == asked._cli_version  # the second runs `dbt --version`
    assert ours._cli_version.major == 1


def test_the_replaced_methods_still_exist_in_dagster_dbt() -> None:
    for name in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert name in vars(DbtCliResource), f"dagster-dbt no longer has {name}: review DbtCli"
        assert name in vars(DbtCli)
    assert dbt_resource()._initialize_dbt_core_adapter(["build"]) is None
