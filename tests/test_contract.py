"""The raw data contract (orchestration/contract.py) is the one source of the table list and the enums:
the dbt macro file is generated from it, and the dbt sources, the staging models that cover every table
and the accepted_values tests of the staged columns agree with it."""

from __future__ import annotations

from pathlib import Path

import yaml

from orchestration.contract import DBT_CONTRACT_MACRO, ENUMS, RAW_TABLES, dbt_contract_macro
from orchestration.manifest import build_manifest, load_manifest

PROJECT_DIR = Path(__file__).resolve().parent.parent


def test_the_dbt_contract_macro_is_generated_from_the_contract() -> None:
    assert DBT_CONTRACT_MACRO.read_text(encoding="utf-8") == dbt_contract_macro(), (
        "macros/staging/crm_contract.sql is stale: run `python -m orchestration.contract`"
    )


def test_the_dbt_sources_are_the_contract_tables_with_their_columns() -> None:
    sources = yaml.safe_load((PROJECT_DIR / "models/staging/crm/_crm__sources.yml").read_text(encoding="utf-8"))
    crm = next(source for source in sources["sources"] if source["name"] == "crm")
    assert [table["name"] for table in crm["tables"]] == list(RAW_TABLES)


def test_every_raw_table_is_reconciled_and_its_rejections_kept() -> None:
    build_manifest()
    nodes = load_manifest()["nodes"]
    for model in ("stg_crm__rejected_rows", "stg_crm__row_reconciliation"):
        node = nodes[f"model.customer_lifecycle.{model}"]
        parents = {parent.rsplit(".", 1)[-1] for parent in node["depends_on"]["nodes"]}
        assert {f"base_crm__{table}" for table in RAW_TABLES} <= parents, model


def test_the_staged_enum_columns_accept_exactly_the_contract_values() -> None:
    nodes = load_manifest()["nodes"]
    accepted = {}
    for node in nodes.values():
        metadata = node.get("test_metadata") or {}
        if node["resource_type"] == "test" and metadata.get("name") == "accepted_values":
            model = node["attached_node"].rsplit(".", 1)[-1]
            accepted[(model, node["column_name"])] = sorted(metadata["kwargs"]["values"])
    for table, columns in ENUMS.items():
        for column, values in columns.items():
            assert accepted.get((f"stg_crm__{table}", column)) == sorted(values), (table, column)


def test_the_python_models_tables_are_what_the_clv_asset_writes() -> None:
    """The source YAML declares the python_models tables once (dbt creates them from it); the asset's
    frames have exactly those columns, in that order."""
    from orchestration.assets.clv_assets import FIT_INPUT_COLUMNS, FIT_INPUTS_TABLE, HOLDOUT_TABLES, PARAMETER_COLUMNS
    from orchestration.clv.scoring import PREDICTION_COLUMNS

    path = PROJECT_DIR / "models/marts/value/_python_models__sources.yml"
    sources = yaml.safe_load(path.read_text(encoding="utf-8"))["sources"]
    source = next(s for s in sources if s["name"] == "python_models")
    declared = {table["name"]: tuple(c["name"] for c in table["columns"]) for table in source["tables"]}
    written = {
        "clv_model_parameters": PARAMETER_COLUMNS,
        "clv_customer_predictions": PREDICTION_COLUMNS,
        **HOLDOUT_TABLES,
        FIT_INPUTS_TABLE: FIT_INPUT_COLUMNS,
    }
    assert declared == written
    assert all(c.get("data_type") for table in source["tables"] for c in table["columns"])
