"""Predictive CLV: fit BG/NBD and Gamma-Gamma on int_customer_purchase_summary (built by dbt) and write
the results to python_models.*, which dbt reads back as the source `python_models`. Every fit is also
evaluated on a holdout period (orchestration/clv/holdout.py): a second fit on the calibration period,
whose predictions are compared with what the customers did in the holdout."""

from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
from dagster import AssetExecutionContext

from orchestration.clv import holdout
from orchestration.clv.scoring import PREDICTION_COLUMNS, ClvFitResult, fit_and_score
from orchestration.engines import engine_for
from orchestration.resources import WAREHOUSE_WRITER_POOL, WarehouseResource, dbt_project_vars
from orchestration.settings import Settings

SCHEMA = "python_models"
PARAMETERS_KEY = dg.AssetKey([SCHEMA, "clv_model_parameters"])
PREDICTIONS_KEY = dg.AssetKey([SCHEMA, "clv_customer_predictions"])
SUMMARY_MODEL = "int_customer_purchase_summary"  # dbt model (pclv); its asset key comes from the manifest
HOLDOUT_MODELS = ("int_clv_holdout_customers", "int_clv_holdout_daily")  # the holdout evaluation's inputs
INPUT_MODELS = (SUMMARY_MODEL, *HOLDOUT_MODELS)
HOLDOUT_TABLES = {
    "clv_holdout_customers": holdout.CUSTOMER_COLUMNS,
    "clv_holdout_tracking": holdout.TRACKING_COLUMNS,
    "clv_holdout_summary": holdout.SUMMARY_COLUMNS,
}
HOLDOUT_DESCRIPTIONS = {
    "clv_holdout_customers": "Per calibration customer: predicted vs actual holdout purchases and mean spend.",
    "clv_holdout_tracking": "Weekly cumulative repeat purchases, predicted vs actual, calibration and holdout.",
    "clv_holdout_summary": "One row: holdout totals, errors (relative, MAE, RMSE) and the calibration fit.",
}
PARAMETER_COLUMNS = ("model", "parameter", "value")


def clv_settings(vars_: dict[str, Any] | None = None) -> dict[str, Any]:
    """fit_and_score's arguments from the run's resolved dbt vars (default: dbt_project.yml's)."""
    vars_ = dbt_project_vars() if vars_ is None else vars_
    return {
        "horizon_months": int(vars_["clv_horizon_months"]),
        "annual_discount_rate": float(vars_["clv_discount_rate"]),
        "time_unit": str(vars_["clv_time_unit"]),
    }


def holdout_days(vars_: dict[str, Any] | None = None) -> int:
    vars_ = dbt_project_vars() if vars_ is None else vars_
    return int(vars_["clv_holdout_days"])


def replace_table(settings: Settings, table: str, frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    """Replace the table's contents in one step (readers see the old or the new rows, never none)."""
    engine_for(settings).replace_table(SCHEMA, table, frame, columns)


def fit_evaluate_and_write(
    settings: Settings, vars_: dict[str, Any] | None = None
) -> tuple[ClvFitResult, holdout.HoldoutEvaluation, dict[str, pd.DataFrame]]:
    """The asset's work: read the summaries, fit and score, evaluate on the holdout, replace the tables.
    `vars_`: the run's resolved dbt vars (default: dbt_project.yml's)."""
    vars_ = dbt_project_vars() if vars_ is None else vars_
    with engine_for(settings).reader() as reader:
        summary = reader.query("select * from intermediate.int_customer_purchase_summary")
        calibration = reader.query("select * from intermediate.int_clv_holdout_customers")
        daily = reader.query("select * from intermediate.int_clv_holdout_daily")
    arguments = clv_settings(vars_)
    result = fit_and_score(summary, **arguments)
    evaluation = holdout.evaluate_holdout(
        calibration, daily, holdout_days=holdout_days(vars_), time_unit=arguments["time_unit"]
    )
    replace_table(settings, "clv_model_parameters", result.parameters, PARAMETER_COLUMNS)
    replace_table(settings, "clv_customer_predictions", result.predictions, PREDICTION_COLUMNS)
    frames = {
        "clv_holdout_customers": evaluation.customers,
        "clv_holdout_tracking": evaluation.tracking,
        "clv_holdout_summary": evaluation.summary,
    }
    for table, columns in HOLDOUT_TABLES.items():
        replace_table(settings, table, frames[table], columns)
    return result, evaluation, frames


def _json_safe(value: object) -> dg.MetadataValue:
    if isinstance(value, np.generic):  # numpy scalars from pandas rows
        value = value.item()
    if isinstance(value, bool):
        return dg.MetadataValue.bool(value)
    if isinstance(value, int):
        return dg.MetadataValue.int(value)
    if isinstance(value, float):
        return dg.MetadataValue.float(value)
    return dg.MetadataValue.text(str(value))


def predictive_clv_asset(input_keys: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """The CLV multi-asset, downstream of the dbt models it reads (INPUT_MODELS' asset keys)."""

    def spec(key: dg.AssetKey, description: str) -> dg.AssetSpec:
        return dg.AssetSpec(
            key,
            deps=input_keys,
            group_name="python_models",
            description=description,
            owners=["team:data-science"],
            kinds={"python", "scipy"},
        )

    @dg.multi_asset(
        specs=[
            spec(
                PARAMETERS_KEY,
                "Fitted BG/NBD and Gamma-Gamma parameters (orchestration/clv), one row per parameter.",
            ),
            spec(
                PREDICTIONS_KEY,
                "Per-customer p_alive, expected purchases, spend and margin per purchase, future CLV.",
            ),
            *(spec(dg.AssetKey([SCHEMA, table]), HOLDOUT_DESCRIPTIONS[table]) for table in HOLDOUT_TABLES),
        ],
        pool=WAREHOUSE_WRITER_POOL,
        retry_policy=dg.RetryPolicy(max_retries=1, delay=5),
    )
    def predictive_clv(context: AssetExecutionContext, warehouse: WarehouseResource):  # noqa: ANN201
        result, evaluation, frames = fit_evaluate_and_write(warehouse.settings(), warehouse.vars())
        context.log.info(f"fitted on {len(result.predictions)} customers: {result.diagnostics}")
        context.log.info(f"holdout evaluation: {evaluation.summary.iloc[0].to_dict()}")
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
        summary_row = {k: _json_safe(v) for k, v in evaluation.summary.iloc[0].items() if pd.notna(v)}
        for table in HOLDOUT_TABLES:
            metadata = {"dagster/row_count": len(frames[table])}
            yield dg.MaterializeResult(
                asset_key=dg.AssetKey([SCHEMA, table]),
                metadata={**metadata, **(summary_row if table == "clv_holdout_summary" else {})},
            )

    return predictive_clv
