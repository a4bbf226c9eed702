"""The suites as Dagster asset checks: one `gx_suite` check per raw table, on the rejected rows, and per
mart. Mart checks are blocking: an error-severity failure skips everything downstream (publish).
Each suite is validated in the warehouse (sql_validation.py): one aggregate query per relation, no
table pulled into Python."""

from collections.abc import Callable
from typing import Any

import dagster as dg
from dagster import AssetCheckExecutionContext

from orchestration.checks import results, suites
from orchestration.checks.sql_validation import validate_in_warehouse
from orchestration.resources import WarehouseResource

CHECK_NAME = "gx_suite"
SEVERITY = {suites.ERROR: dg.AssetCheckSeverity.ERROR, suites.WARN: dg.AssetCheckSeverity.WARN}


def seed_codes(reader: Any) -> dict[str, list[str]]:
    """Stage and tier codes from the seeds, so the suites never repeat a label list."""
    stages = reader.query("select distinct stage_code from reference.lifecycle_framework_labels")
    tiers = reader.query("select distinct value_tier from reference.value_tier_labels")
    return {suites.STAGE_CODES: sorted(stages["stage_code"]), suites.TIER_CODES: sorted(tiers["value_tier"])}


def run_suite(
    context: AssetCheckExecutionContext,
    warehouse: WarehouseResource,
    build: Callable[[Any, dict[str, Any]], suites.Suite],
) -> dg.AssetCheckResult:
    settings = warehouse.settings()
    previous_results = results.read_latest(settings)
    with warehouse.reader() as reader:
        suite = build(reader, warehouse.vars())
        schema, table = suite.relation.split(".")
        if not reader.relation_exists(schema, table):
            return dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"error": f"{suite.relation} does not exist"},
            )
        previous = previous_results.get(suite.name)
        summary, full = validate_in_warehouse(suite, reader, previous, run_id=context.run.run_id)
    path = results.save_result(settings, summary, full)
    failed_list = "\n".join(
        f"- **{f['severity']}** `{f['type']}` {f['kwargs']}: observed {f['observed']}" for f in summary["failures"]
    )
    severity = suites.ERROR if summary["error_failed"] else suites.WARN
    return dg.AssetCheckResult(
        passed=summary["failed"] == 0,
        severity=SEVERITY[severity],
        metadata={
            "suite": suite.name,
            "rows": summary["row_count"],
            **({"sample_rows": summary["sample_rows"]} if summary["sample_rows"] is not None else {}),
            "expectations": summary["expectations"],
            "failed": summary["failed"],
            "failures": dg.MetadataValue.md(failed_list or "none"),
            "result_file": dg.MetadataValue.path(str(path)),
        },
    )


def _check(
    asset_key: dg.AssetKey, build: Callable[[Any, dict[str, Any]], suites.Suite], blocking: bool, description: str
) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset_key, name=CHECK_NAME, blocking=blocking, description=description)
    def _run(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        return run_suite(context, warehouse, build)

    return _run


def raw_checks(raw_key: Callable[[str], dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    checks = []
    for suite in suites.raw_suites():
        table = suite.relation.split(".")[1]
        checks.append(
            _check(
                raw_key(table),
                lambda _reader, _vars, s=suite: s,
                blocking=True,
                description=f"Great Expectations suite {suite.name}: row count never shrinks (error); "
                "enums, amounts, freshness (warn).",
            )
        )
    return checks


def rejected_rows_check(asset_key: dg.AssetKey) -> dg.AssetChecksDefinition:
    return _check(
        asset_key,
        lambda _reader, _vars: suites.rejected_rows_suite(),
        blocking=False,
        description="Rejected rows per table and reason: known reason codes (error), share per reason (warn).",
    )


def mart_checks(mart_keys: dict[str, dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    return [
        _check(
            key,
            lambda reader, vars_, m=model: suites.mart_suite(m, seed_codes(reader), vars_),
            blocking=True,
            description=f"Great Expectations suite mart_{model}: keys, seed codes, ranges (error, blocks publishing); "
            "row count and amount means against the previous run, limits set by vars (warn).",
        )
        for model, key in mart_keys.items()
    ]
