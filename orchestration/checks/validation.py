"""Validate a suite on a pandas frame with Great Expectations 1.x (ephemeral context, pandas datasource).

GX's SQL datasource over duckdb-engine does not work and dagster-ge does not support GX 1.x. A whole
relation in pandas does not scale, so the asset checks validate in the warehouse instead
(sql_validation.py: metrics computed in SQL, judged with GX's rules); this module is GX itself on a
frame: the reference the SQL judgement is tested against, and what runs on a bounded sample for an
expectation that has no SQL translation.
"""

from __future__ import annotations

import decimal
import math
import os
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from orchestration.checks.suites import ERROR, MAX_RELATIVE_CHANGE, WARN, Expectation, Suite


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """Decimal columns (DuckDB and psycopg2 return them as objects) as floats, so GX can compare them."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object and series.map(lambda v: isinstance(v, decimal.Decimal)).any():
            out[column] = pd.to_numeric(series, errors="coerce").astype("float64")
    return out


def run_time_expectations(suite: Suite, previous: dict[str, Any] | None) -> list[Expectation]:
    """Row counts and means against the previous run's result, and the minimum row count."""
    extra: list[Expectation] = []
    previous = previous or {}
    previous_rows = previous.get("row_count")
    if suite.min_rows:
        extra.append(
            Expectation("ExpectTableRowCountToBeBetween", {"min_value": suite.min_rows}, ERROR, "the mart is not empty")
        )
    if previous_rows is not None and suite.row_count_policy == "never_shrinks":
        extra.append(
            Expectation(
                "ExpectTableRowCountToBeBetween",
                {"min_value": int(previous_rows)},
                suite.row_count_severity,
                f"raw tables only grow (previous run: {previous_rows} rows)",
            )
        )
    elif previous_rows is not None and suite.row_count_policy == "max_drop":
        floor = math.floor(int(previous_rows) * (1 - MAX_RELATIVE_CHANGE))
        extra.append(
            Expectation(
                "ExpectTableRowCountToBeBetween",
                {"min_value": floor},
                suite.row_count_severity,
                f"at most {MAX_RELATIVE_CHANGE:.0%} fewer rows than the previous run ({previous_rows})",
            )
        )
    for column, mean in (previous.get("means") or {}).items():
        if column in suite.tracked_means and mean is not None and math.isfinite(mean) and mean != 0:
            low, high = sorted((mean * (1 - MAX_RELATIVE_CHANGE), mean * (1 + MAX_RELATIVE_CHANGE)))
            extra.append(
                Expectation(
                    "ExpectColumnMeanToBeBetween",
                    {"column": column, "min_value": low, "max_value": high},
                    WARN,
                    f"mean within {MAX_RELATIVE_CHANGE:.0%} of the previous run ({mean:.4g})",
                )
            )
    return extra


_CONTEXT: dict[str, Any] = {}


def _import_gx() -> Any:
    """Import GX. GX imports pyspark when it is installed (it is, for the Spark target), which costs
    seconds and warns about pandas; GX here only validates pandas frames, so unless the process already
    uses Spark, pyspark is hidden from it (GX then treats it as not installed). Where pyspark is
    imported, pyspark.sql.connect calls sys.exit(0) when `__main__` has neither a spec nor a file (it
    takes that for a doctest run), which is how Dagster's run worker and `python -c` start: give such
    a `__main__` a file name first."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no usage events leave the machine
    hide_pyspark = "pyspark" not in sys.modules
    if hide_pyspark:
        sys.modules["pyspark"] = None  # type: ignore[assignment]  # `import pyspark` raises ImportError
    main = sys.modules.get("__main__")
    if main is not None and getattr(main, "__spec__", None) is None and not hasattr(main, "__file__"):
        main.__file__ = "<dagster-run-worker>"
    try:
        import great_expectations as gx
    finally:
        if hide_pyspark:
            del sys.modules["pyspark"]  # Spark code in this process still imports it normally

    return gx


def _gx_context() -> Any:
    """One ephemeral GX context per process (nothing is written to disk by GX itself)."""
    gx = _import_gx()

    if "context" not in _CONTEXT:
        _CONTEXT["context"] = gx.get_context(mode="ephemeral")
    return _CONTEXT["context"]


def _gx_batch(frame: pd.DataFrame) -> Any:
    name = f"frame_{uuid.uuid4().hex[:12]}"
    asset = _gx_context().data_sources.add_or_update_pandas("clm").add_dataframe_asset(name)
    return asset.add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame})


def summary_observed(result: dict[str, Any]) -> Any:
    if "observed_value" in result:
        return result["observed_value"]
    keys = ("element_count", "unexpected_count", "unexpected_percent", "partial_unexpected_list")
    return {k: result[k] for k in keys if k in result}


def gx_outcomes(
    suite: Suite, frame: pd.DataFrame, expectations: list[Expectation]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(one outcome per expectation, the full GX result) of GX on an already prepared frame."""
    gx = _import_gx()
    gx_suite = _gx_context().suites.add(gx.ExpectationSuite(name=f"{suite.name}_{uuid.uuid4().hex[:12]}"))
    for expectation in expectations:
        cls = getattr(gx.expectations, expectation.type)
        meta = {"severity": expectation.severity, "why": expectation.why}
        gx_suite.add_expectation(cls(**expectation.kwargs, meta=meta))
    result = _gx_batch(frame).validate(gx_suite, result_format="SUMMARY")
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        outcomes.append(
            {
                "type": config.type,
                "kwargs": {k: v for k, v in config.kwargs.items() if k != "batch_id"},
                "severity": config.meta.get("severity", ERROR),
                "why": config.meta.get("why", ""),
                "success": bool(item.success),
                "observed": summary_observed(item.result or {}),
            }
        )
    return outcomes, result.to_json_dict()


def summarise(
    suite: Suite,
    outcomes: list[dict[str, Any]],
    row_count: int,
    means: dict[str, float | None],
    run_id: str | None,
    sample_rows: int | None = None,
) -> dict[str, Any]:
    """The summary kept in latest.json: whether an error-severity expectation failed (`error_failed`),
    the row count and means for the next run, and the size of the sample when one was used."""
    failed = [o for o in outcomes if not o["success"]]
    return {
        "suite": suite.name,
        "relation": suite.relation,
        "blocking": suite.blocking,
        "run_id": run_id,
        "checked_at": datetime.now(UTC).isoformat(),
        "row_count": row_count,
        "sample_rows": sample_rows,
        "means": means,
        "expectations": len(outcomes),
        "failed": len(failed),
        "error_failed": any(o["severity"] == ERROR for o in failed),
        "warn_failed": any(o["severity"] == WARN for o in failed),
        "failures": failed,
    }


def prepared_frame(suite: Suite, frame: pd.DataFrame) -> pd.DataFrame:
    return _numeric(suite.prepare(frame) if suite.prepare else frame)


def validate(
    suite: Suite, frame: pd.DataFrame, previous: dict[str, Any] | None = None, run_id: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(summary, full GX result) of the suite on the frame. The summary says whether an error-severity
    expectation failed (`error_failed`) and carries the row count and means for the next run."""
    prepared = prepared_frame(suite, frame)
    expectations = [*suite.expectations, *run_time_expectations(suite, previous)]
    outcomes, full = gx_outcomes(suite, prepared, expectations)
    means = {}
    for column in suite.tracked_means:
        if column in prepared.columns:
            value = pd.to_numeric(prepared[column], errors="coerce").mean()
            means[column] = None if pd.isna(value) else float(value)
    return summarise(suite, outcomes, len(prepared), means, run_id), full
