"""Predictive CLV: fit BG/NBD and Gamma-Gamma on int_customer_purchase_summary (built by dbt) and write
the results to python_models.*, which dbt reads back as the source `python_models`."""

from typing import Any

import dagster as dg
import pandas as pd
from dagster import AssetExecutionContext

from orchestration.clv.scoring import PREDICTION_COLUMNS, fit_and_score
from orchestration.resources import WAREHOUSE_WRITER_POOL, WarehouseResource, dbt_project_vars, open_writer
from orchestration.settings import Settings

SCHEMA = "python_models"
PARAMETERS_KEY = dg.AssetKey([SCHEMA, "clv_model_parameters"])
PREDICTIONS_KEY = dg.AssetKey([SCHEMA, "clv_customer_predictions"])
SUMMARY_MODEL = "int_customer_purchase_summary"  # dbt model (pclv); its asset key comes from the manifest
PARAMETER_COLUMNS = ("model", "parameter", "value")


def clv_settings(vars_: dict[str, Any] | None = None) -> dict[str, Any]:
    """fit_and_score's arguments from the dbt vars (dbt_project.yml is the one place for them)."""
    vars_ = dbt_project_vars() if vars_ is None else vars_
    return {
        "horizon_months": int(vars_["clv_horizon_months"]),
        "annual_discount_rate": float(vars_["clv_discount_rate"]),
        "time_unit": str(vars_["clv_time_unit"]),
    }


def replace_table(settings: Settings, table: str, frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    """Replace the table's contents in one transaction (readers see the old or the new rows, never none)."""
    frame = frame.loc[:, list(columns)]
    # missing predictions (a model that could not be fitted) are NaN in pandas and NULL in the warehouse
    rows = [tuple(row) for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)]
    column_list = ", ".join(columns)
    with open_writer(settings) as connection:
        if settings.target == "duckdb":
            connection.execute(f"delete from {SCHEMA}.{table}")
            if rows:
                connection.register("clv_frame", frame)
                connection.execute(f"insert into {SCHEMA}.{table} ({column_list}) select {column_list} from clv_frame")
                connection.unregister("clv_frame")
        else:
            from psycopg2.extras import execute_values

            with connection.cursor() as cursor:
                cursor.execute(f"delete from {SCHEMA}.{table}")
                if rows:
                    execute_values(
                        cursor, f"insert into {SCHEMA}.{table} ({column_list}) values %s", rows, page_size=5000
                    )


def _json_safe(value: object) -> dg.MetadataValue:
    if isinstance(value, bool):
        return dg.MetadataValue.bool(value)
    if isinstance(value, int):
        return dg.MetadataValue.int(value)
    if isinstance(value, float):
        return dg.MetadataValue.float(value)
    return dg.MetadataValue.text(str(value))


def predictive_clv_asset(summary_key: dg.AssetKey) -> dg.AssetsDefinition:
    """The CLV multi-asset, downstream of the dbt summary model's asset."""

    @dg.multi_asset(
        specs=[
            dg.AssetSpec(
                PARAMETERS_KEY,
                deps=[summary_key],
                group_name="python_models",
                description="Fitted BG/NBD and Gamma-Gamma parameters (orchestration/clv), one row per parameter.",
                owners=["team:data-science"],
                kinds={"python", "scipy"},
            ),
            dg.AssetSpec(
                PREDICTIONS_KEY,
                deps=[summary_key],
                group_name="python_models",
                description="Per-customer p_alive, expected purchases, spend and margin per purchase, future CLV.",
                owners=["team:data-science"],
                kinds={"python", "scipy"},
            ),
        ],
        pool=WAREHOUSE_WRITER_POOL,
        retry_policy=dg.RetryPolicy(max_retries=1, delay=5),
    )
    def predictive_clv(context: AssetExecutionContext, warehouse: WarehouseResource):  # noqa: ANN201
        settings = warehouse.settings()
        with warehouse.reader() as reader:
            summary = reader.query("select * from intermediate.int_customer_purchase_summary")
        arguments = clv_settings()
        result = fit_and_score(summary, **arguments)
        context.log.info(f"fitted on {len(summary)} customers: {result.diagnostics}")
        replace_table(settings, "clv_model_parameters", result.parameters, PARAMETER_COLUMNS)
        replace_table(settings, "clv_customer_predictions", result.predictions, PREDICTION_COLUMNS)
        diagnostics = {f"diagnostics/{k}": _json_safe(v) for k, v in result.diagnostics.items()}
        yield dg.MaterializeResult(
            asset_key=PARAMETERS_KEY,
            metadata={"dagster/row_count": len(result.parameters), **diagnostics},
        )
        yield dg.MaterializeResult(
            asset_key=PREDICTIONS_KEY,
            metadata={
                "dagster/row_count": len(result.predictions),
                "customers_scored": len(result.predictions),
                "total_predicted_future_clv": float(result.predictions["predicted_future_clv"].sum()),
            },
        )

    return predictive_clv
