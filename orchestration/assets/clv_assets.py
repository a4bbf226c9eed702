"""Predictive CLV: fit BG/NBD and Gamma-Gamma on int_customer_purchase_summary (built by dbt) and write
the results to python_models.*, which dbt reads back as the source `python_models`. Every fit is also
evaluated on a holdout period (orchestration/clv/holdout.py): a second fit on the calibration period,
whose predictions are compared with what the customers did in the holdout.

A fit is a function of its inputs (the three relations, the fit's settings, the fitting code and the
numeric libraries), so the asset keeps the stored results when their fingerprint equals the stored one's
(python_models.clv_fit_inputs): a run later the same day with no new order fits nothing. A full refresh
always fits (docs/DECISIONS.md)."""

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
import scipy
from dagster import AssetExecutionContext

from orchestration import clv
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
# the fingerprint of the inputs the stored results were fitted on, and the run that fitted them
FIT_INPUTS_TABLE = "clv_fit_inputs"
FIT_INPUT_COLUMNS = ("input_fingerprint", "fitted_by")
FIT_CODE = (*sorted(Path(clv.__file__).parent.glob("*.py")), Path(__file__))


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


@dataclass(frozen=True)
class ClvInputs:
    summary: pd.DataFrame
    calibration: pd.DataFrame
    daily: pd.DataFrame
    fingerprint: str  # input_fingerprint() of the three and the fit's settings


def input_fingerprint(frames: Mapping[str, pd.DataFrame], settings: Mapping[str, Any]) -> str:
    """What a fit depends on: each relation's columns, types, row count and the sum of its rows' hashes
    (the order rows arrive in does not matter), the fit's settings, the fitting code and the numeric
    libraries' versions."""
    digest = hashlib.sha256()
    for name, frame in sorted(frames.items()):
        row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        described = [name, [[str(c), str(t)] for c, t in frame.dtypes.items()], len(frame), int(row_hashes.sum())]
        digest.update(json.dumps(described).encode())
    digest.update(json.dumps(dict(settings), sort_keys=True).encode())
    for path in FIT_CODE:
        digest.update(path.read_bytes())
    digest.update(f"numpy {np.__version__} scipy {scipy.__version__} pandas {pd.__version__}".encode())
    return digest.hexdigest()


def fit_settings(vars_: dict[str, Any]) -> dict[str, Any]:
    """Every setting a fit reads: fit_and_score's arguments and the holdout's length."""
    return {**clv_settings(vars_), "holdout_days": holdout_days(vars_)}


def read_inputs(settings: Settings, vars_: dict[str, Any]) -> ClvInputs:
    with engine_for(settings).reader() as reader:
        frames = {
            "summary": reader.query("select * from intermediate.int_customer_purchase_summary"),
            "calibration": reader.query("select * from intermediate.int_clv_holdout_customers"),
            "daily": reader.query("select * from intermediate.int_clv_holdout_daily"),
        }
    return ClvInputs(**frames, fingerprint=input_fingerprint(frames, fit_settings(vars_)))


def stored_fit(settings: Settings) -> tuple[str, str] | None:
    """The stored results' input fingerprint and the run that fitted them (none before the first fit)."""
    with engine_for(settings).reader() as reader:
        _, rows = reader.rows(f"select {', '.join(FIT_INPUT_COLUMNS)} from {SCHEMA}.{FIT_INPUTS_TABLE}")
    return (str(rows[0][0]), str(rows[0][1])) if len(rows) == 1 else None


def _record_fit(settings: Settings, fingerprint: str, fitted_by: str) -> None:
    frame = pd.DataFrame([{"input_fingerprint": fingerprint, "fitted_by": fitted_by}])
    replace_table(settings, FIT_INPUTS_TABLE, frame, FIT_INPUT_COLUMNS)


def fit_evaluate_and_write(
    settings: Settings, vars_: dict[str, Any] | None = None, inputs: ClvInputs | None = None, fitted_by: str = ""
) -> tuple[ClvFitResult, holdout.HoldoutEvaluation, dict[str, pd.DataFrame]]:
    """The asset's work: read the summaries (unless given), fit and score, evaluate on the holdout,
    replace the tables and record the inputs' fingerprint. `vars_`: the run's resolved dbt vars (default:
    dbt_project.yml's); `fitted_by`: the run that fits."""
    vars_ = dbt_project_vars() if vars_ is None else vars_
    inputs = read_inputs(settings, vars_) if inputs is None else inputs
    arguments = clv_settings(vars_)
    result = fit_and_score(inputs.summary, **arguments)
    evaluation = holdout.evaluate_holdout(
        inputs.calibration, inputs.daily, holdout_days=holdout_days(vars_), time_unit=arguments["time_unit"]
    )
    # no fingerprint while the results are replaced: a run stopped half way leaves none, so the next fits
    _record_fit(settings, "", fitted_by)
    replace_table(settings, "clv_model_parameters", result.parameters, PARAMETER_COLUMNS)
    replace_table(settings, "clv_customer_predictions", result.predictions, PREDICTION_COLUMNS)
    frames = {
        "clv_holdout_customers": evaluation.customers,
        "clv_holdout_tracking": evaluation.tracking,
        "clv_holdout_summary": evaluation.summary,
    }
    for table, columns in HOLDOUT_TABLES.items():
        replace_table(settings, table, frames[table], columns)
    _record_fit(settings, inputs.fingerprint, fitted_by)
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
        settings, vars_ = warehouse.settings(), warehouse.vars()
        inputs = read_inputs(settings, vars_)
        version = dg.DataVersion(inputs.fingerprint)
        stored = stored_fit(settings)
        if stored is not None and stored[0] == inputs.fingerprint and not warehouse.full_refresh:
            context.log.info(f"inputs unchanged since the fit of run {stored[1]}: its results are kept")
            yield from _kept_results(settings, context.assets_def.keys, version, stored[1])
            return
        result, evaluation, frames = fit_evaluate_and_write(settings, vars_, inputs, fitted_by=context.run.run_id)
        context.log.info(f"fitted on {len(result.predictions)} customers: {result.diagnostics}")
        context.log.info(f"holdout evaluation: {evaluation.summary.iloc[0].to_dict()}")
        diagnostics = {f"diagnostics/{k}": _json_safe(v) for k, v in result.diagnostics.items()}
        yield dg.MaterializeResult(
            asset_key=PARAMETERS_KEY,
            metadata={"dagster/row_count": len(result.parameters), **diagnostics},
            data_version=version,
        )
        yield dg.MaterializeResult(
            asset_key=PREDICTIONS_KEY,
            metadata={
                "dagster/row_count": len(result.predictions),
                "customers_scored": len(result.predictions),
                "total_predicted_future_clv": float(result.predictions["predicted_future_clv"].sum()),
            },
            data_version=version,
        )
        summary_row = {k: _json_safe(v) for k, v in evaluation.summary.iloc[0].items() if pd.notna(v)}
        for table in HOLDOUT_TABLES:
            metadata = {"dagster/row_count": len(frames[table])}
            yield dg.MaterializeResult(
                asset_key=dg.AssetKey([SCHEMA, table]),
                metadata={**metadata, **(summary_row if table == "clv_holdout_summary" else {})},
                data_version=version,
            )

    return predictive_clv


def _kept_results(
    settings: Settings, keys: Iterable[dg.AssetKey], version: dg.DataVersion, fitted_by: str
) -> Iterator[dg.MaterializeResult]:
    """The stored tables of the asset's keys, reported as this run's (same data version) with their row counts."""
    keys = sorted(keys, key=lambda key: key.to_user_string())
    with engine_for(settings).reader() as reader:
        counts = {key: int(reader.rows(f"select count(*) from {SCHEMA}.{key.path[-1]}")[1][0][0]) for key in keys}
    for key in keys:
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={"dagster/row_count": counts[key], "refit": False, "fitted_by_run": fitted_by},
            data_version=version,
        )
