"""The dbt project as Dagster assets: seeds, models and snapshots, with dbt tests as asset checks.

Two @dbt_assets over one manifest, split at the Python CLV asset: everything downstream of the
`python_models` source (fct_customer_clv, early warning, ...) waits for the predictions; everything else
runs before them. The split is exact: the complement of a downstream-closed set has no parent in it.
"""

import json
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.resources import WAREHOUSE_WRITER_POOL

AFTER_CLV_SELECT = "source:python_models+"
LAYER_OWNERS = {
    "staging": "team:data-platform",
    "intermediate": "team:analytics-engineering",
    "marts": "team:analytics-engineering",
    "reference": "team:analytics-engineering",
}


def dbt_layer(props: Mapping[str, Any]) -> str:
    """The asset group of a dbt resource: its folder layer, seeds are `reference`, snapshots `marts`."""
    resource_type = props["resource_type"]
    if resource_type == "seed":
        return "reference"
    if resource_type == "snapshot":
        return "marts"
    if resource_type == "source":
        return "python_models" if props["source_name"] == "python_models" else "ingest"
    fqn = props.get("fqn", [])
    for layer in ("staging", "intermediate", "marts"):
        if layer in fqn:
            return layer
    return "marts"


class ClmDbtTranslator(DagsterDbtTranslator):
    """Groups by layer; owners from `meta.owner` when a model sets one, else the layer's team."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_layer(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str] | None:
        meta = dbt_resource_props.get("config", {}).get("meta") or dbt_resource_props.get("meta") or {}
        owner = meta.get("owner")
        if owner:
            return [owner if ":" in owner or "@" in owner else f"team:{owner}"]
        return [LAYER_OWNERS.get(dbt_layer(dbt_resource_props), "team:analytics-engineering")]


def translator() -> ClmDbtTranslator:
    return ClmDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def _build(
    context: AssetExecutionContext, dbt: DbtCliResource, extra_vars: dict[str, Any] | None = None
) -> Iterator[Any]:
    args = ["build"]
    if extra_vars:
        args += ["--vars", json.dumps(extra_vars)]
    yield from dbt.cli(args, context=context).stream()


def dbt_assets_from(manifest: dict[str, Any]) -> list[dg.AssetsDefinition]:
    """The two dbt asset definitions (before and after the predictive CLV asset)."""

    @dbt_assets(
        manifest=manifest,
        exclude=AFTER_CLV_SELECT,
        name="dbt_before_clv",
        dagster_dbt_translator=translator(),
        pool=WAREHOUSE_WRITER_POOL,
    )
    def dbt_before_clv(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        yield from _build(context, dbt)

    @dbt_assets(
        manifest=manifest,
        select=AFTER_CLV_SELECT,
        name="dbt_after_clv",
        dagster_dbt_translator=translator(),
        pool=WAREHOUSE_WRITER_POOL,
    )
    def dbt_after_clv(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        yield from _build(context, dbt)

    return [dbt_before_clv, dbt_after_clv]


def dbt_asset_key(manifest: dict[str, Any], name: str) -> dg.AssetKey:
    """The asset key of a dbt model, seed or snapshot by name (as the translator names it)."""
    for node in manifest["nodes"].values():
        if node["name"] == name and node["resource_type"] in {"model", "seed", "snapshot"}:
            return translator().get_asset_key(node)
    raise KeyError(f"no dbt model, seed or snapshot named {name!r} in the manifest")


def mart_models(manifest: dict[str, Any]) -> list[str]:
    """Names of the models in models/marts/ (the public interface), sorted."""
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and "marts" in node["fqn"] and node["config"].get("enabled", True)
    )
