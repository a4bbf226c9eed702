"""The dbt project as Dagster assets: seeds, models and snapshots, with dbt tests as asset checks.

Three @dbt_assets over one manifest, so that only what reads the predictions waits for the Python CLV
asset, and no asset reads the partitioned lifecycle fact in the step that builds it:

    dbt_before_clv        everything that reads neither the predictions nor the lifecycle fact, and the
                          fact itself (fct_customer_lifecycle_monthly, partitioned by month: the backfill
                          job runs this step for the fact alone)
    dbt_lifecycle_marts   what reads the lifecycle fact but not the predictions (KPIs, cohorts, churn)
    dbt_after_clv         everything downstream of the `python_models` source

Each set is the complement of a downstream-closed set within the next, so no model has a parent in a
later step. dbt runs each step's tests with indirect selection `buildable`: a test runs in the step where
the last of its parents is built (a test reading the fact and a KPI mart runs with the KPI mart).
"""

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.checks.dbt_test_descriptions import dbt_test_description
from orchestration.lifecycle_months import (
    LIFECYCLE_MODEL,
    backfill_vars,
    lifecycle_months,
    months_in_history,
    months_rewritten_daily,
    months_written,
    record_months,
)
from orchestration.resources import WAREHOUSE_WRITER_POOL, WarehouseResource

AFTER_CLV_SELECT = "source:python_models+"
# a test runs only once all its parents are built by this step or an earlier one (dagster-dbt reads
# this variable as the project's default; a subset run that excludes checks still sets `empty`)
INDIRECT_SELECTION = "buildable"
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
    """Groups by layer; owners from `meta.owner` when a model sets one, else the layer's team; every dbt
    test's check has a description."""

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=dbt_test_description(manifest["nodes"][unique_id]))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_layer(dbt_resource_props)

    def get_partitions_def(self, dbt_resource_props: Mapping[str, Any]) -> dg.PartitionsDefinition | None:
        """The lifecycle history is partitioned by month (the backfill job); everything else is not."""
        return lifecycle_months() if dbt_resource_props["name"] == LIFECYCLE_MODEL else None

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str] | None:
        meta = dbt_resource_props.get("config", {}).get("meta") or dbt_resource_props.get("meta") or {}
        owner = meta.get("owner")
        if owner:
            return [owner if ":" in owner or "@" in owner else f"team:{owner}"]
        return [LAYER_OWNERS.get(dbt_layer(dbt_resource_props), "team:analytics-engineering")]


def translator() -> ClmDbtTranslator:
    # source tests too: the test of the predictions source is a check on the Python CLV asset
    settings = DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_source_tests_as_checks=True)
    return ClmDbtTranslator(settings=settings)


def _build(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource, manifest: dict[str, Any]
) -> Iterator[Any]:
    """`dbt build` of the selected models; a partitioned run (the backfill job) rebuilds only its months
    of the lifecycle history; an unpartitioned run reports the lifecycle months it wrote."""
    lifecycle_key = dbt_asset_key(manifest, LIFECYCLE_MODEL)
    builds_lifecycle = lifecycle_key in context.selected_asset_keys
    partitioned = context.has_partition_key or context.has_partition_key_range  # one month, or a range
    # unit tests have static inputs: they run in `make test` on every engine, not in each production
    # build (dbt's advice; docs/DECISIONS.md)
    args = ["build", "--exclude-resource-type", "unit_test"]
    run_vars = warehouse.var_overrides()  # the run's overrides, the same the Python assets read
    if builds_lifecycle and partitioned:
        months = context.partition_key_range
        run_vars = {**run_vars, **backfill_vars(months.start, months.end)}
        # only the tests of the rebuilt model: a test that also reads the KPI marts (not rebuilt by a
        # backfill) waits for the next full build
        args += ["--indirect-selection", "cautious"]
    if run_vars:
        args += ["--vars", json.dumps(run_vars)]
    if warehouse.full_refresh:
        args.append("--full-refresh")
    engine = warehouse.engine()
    engine.release_session()  # dbt starts its own (on Spark it needs the cluster's cores)
    # no load commits while dbt stages and stamps changes (docs/incremental.md, the customer-month chain)
    with engine.loads_held():
        with _environment(DBT_INDIRECT_SELECTION=INDIRECT_SELECTION):
            invocation = dbt.cli(args, context=context)  # the selection is resolved here
        yield from invocation.stream()
    if builds_lifecycle and not partitioned:
        yield from _lifecycle_months_materialized(context, warehouse, lifecycle_key)


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _lifecycle_months_materialized(
    context: AssetExecutionContext, warehouse: WarehouseResource, lifecycle_key: dg.AssetKey
) -> Iterator[dg.AssetMaterialization]:
    settings = warehouse.settings()
    with warehouse.reader() as reader:
        present = months_in_history(reader)
    record_months(settings, present)
    partitions_def = next(spec.partitions_def for spec in context.assets_def.specs if spec.key == lifecycle_key)
    partitions = set(partitions_def.get_partition_keys()) if partitions_def else set()
    written = months_written(
        [m for m in present if m in partitions],
        context.instance.get_materialized_partitions(lifecycle_key),
        months_rewritten_daily(settings.target, warehouse.vars()),
    )
    for month in written:
        yield dg.AssetMaterialization(
            asset_key=lifecycle_key, partition=month, description="written by a build of the whole history"
        )


def _dbt_step(manifest: dict[str, Any], name: str, select: str, exclude: str | None) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=manifest,
        select=select,
        exclude=exclude,
        name=name,
        dagster_dbt_translator=translator(),
        pool=WAREHOUSE_WRITER_POOL,
    )
    def step(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource) -> Iterator[Any]:
        yield from _build(context, dbt, warehouse, manifest)

    return step


def lifecycle_readers_select(manifest: dict[str, Any]) -> str:
    """The dbt selection of everything downstream of the lifecycle fact, the fact itself excluded: each
    model that reads it, with its descendants (dbt's `model+` includes the model, so not the fact's)."""
    (fact_id,) = (key for key, node in manifest["nodes"].items() if node["name"] == LIFECYCLE_MODEL)
    readers = sorted(
        manifest["nodes"][child]["name"]
        for child in manifest["child_map"][fact_id]
        if manifest["nodes"].get(child, {}).get("resource_type") == "model"
    )
    return " ".join(f"{name}+" for name in readers)


def dbt_assets_from(manifest: dict[str, Any]) -> list[dg.AssetsDefinition]:
    """The three dbt asset definitions, in build order (see the module doc)."""
    readers = lifecycle_readers_select(manifest)
    return [
        _dbt_step(manifest, "dbt_before_clv", "fqn:*", f"{AFTER_CLV_SELECT} {readers}"),
        _dbt_step(manifest, "dbt_lifecycle_marts", readers, AFTER_CLV_SELECT),
        _dbt_step(manifest, "dbt_after_clv", AFTER_CLV_SELECT, None),
    ]


def dbt_asset_keys(manifest: dict[str, Any]) -> dict[str, dg.AssetKey]:
    """The asset key of every dbt model, seed and snapshot by name (as the translator names them), resolved
    in one pass. (dagster-dbt's get_asset_key_for_model wants a single dbt AssetsDefinition; the project
    has four.)"""
    names = translator()
    return {
        node["name"]: names.get_asset_key(node)
        for node in manifest["nodes"].values()
        if node["resource_type"] in {"model", "seed", "snapshot"}
    }


def dbt_asset_key(manifest: dict[str, Any], name: str) -> dg.AssetKey:
    """The asset key of one dbt model, seed or snapshot by name."""
    keys = dbt_asset_keys(manifest)
    if name not in keys:
        raise KeyError(f"no dbt model, seed or snapshot named {name!r} in the manifest")
    return keys[name]


def mart_models(manifest: dict[str, Any]) -> list[str]:
    """Names of the models in models/marts/ (the public interface), sorted."""
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and "marts" in node["fqn"] and node["config"].get("enabled", True)
    )


SERVING_EXPOSURE = "bi_serving_copy"  # models/marts/_marts__exposures.yml


def published_marts(manifest: dict[str, Any]) -> list[str]:
    """The marts the serving copy publishes: what the exposure bi_serving_copy depends on, sorted."""
    for exposure in manifest.get("exposures", {}).values():
        if exposure["name"] == SERVING_EXPOSURE:
            nodes = exposure["depends_on"]["nodes"]
            return sorted(manifest["nodes"][unique_id]["name"] for unique_id in nodes)
    raise KeyError(f"no exposure {SERVING_EXPOSURE!r} in the manifest: it lists the marts to publish")


def relation_docs(manifest: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
    """A model's dbt description and its columns' descriptions."""
    for node in manifest["nodes"].values():
        if node["name"] == name and node["resource_type"] == "model":
            columns = {column: props.get("description", "") for column, props in node.get("columns", {}).items()}
            return node.get("description", ""), columns
    raise KeyError(f"no dbt model named {name!r} in the manifest")
