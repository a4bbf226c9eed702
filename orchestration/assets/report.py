"""The run report: rows per mart, rejected rows per reason, the data-quality result, the business picture
of the as-of month and where the warehouse and the published files are. Written to
$CLM_WAREHOUSE_DIR/report.json and printed once by `python -m orchestration.run`."""

import json
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.assets.publish import PUBLISHED_MARTS_KEY
from orchestration.business_picture import business_picture, clv_holdout, rejected_rows_by_reason
from orchestration.checks.results import read_latest
from orchestration.engines import engine_for
from orchestration.lifecycle_report import latest_report
from orchestration.resources import WarehouseResource
from orchestration.settings import Settings

REPORT_FILE = "report.json"


def build_report(settings: Settings, marts: list[str]) -> dict[str, Any]:
    rows: dict[str, int | None] = {}
    engine = engine_for(settings)
    with engine.reader() as reader:
        for mart in marts:
            rows[mart] = (
                int(reader.query(f"select count(*) as n from marts.{mart}")["n"].iloc[0])
                if reader.relation_exists("marts", mart)
                else None
            )
        rejected = rejected_rows_by_reason(reader)
        business = business_picture(reader)
        holdout = clv_holdout(reader)
    current = settings.published_dir / "CURRENT"
    latest = read_latest(settings)
    return {
        "target": settings.target,
        "warehouse": engine.describe(),
        "published_dir": str(settings.published_dir),
        "serving_file": str(settings.published_dir / "serving.duckdb"),
        "report_file": str(settings.warehouse_dir / REPORT_FILE),
        "lifecycle_report": str(latest_report(settings)) if latest_report(settings).exists() else None,
        "published_version": current.read_text(encoding="utf-8").strip() if current.exists() else None,
        "rows_per_mart": rows,
        "business": business,
        "clv_holdout": holdout,
        "rejected_rows": rejected,
        "dq": {
            "suites": len(latest),
            "failed_error": sorted(n for n, r in latest.items() if r.get("error_failed")),
            "failed_warn": sorted(n for n, r in latest.items() if r.get("warn_failed") and not r.get("error_failed")),
            "results": str(settings.warehouse_dir / "dq"),
        },
    }


def write_report(settings: Settings, report: dict[str, Any]) -> Path:
    path = settings.warehouse_dir / REPORT_FILE
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _columns(items: list[str], width: int, per_line: int = 2) -> list[str]:
    return [
        "  " + "".join(f"{item:<{width}}" for item in items[i : i + per_line]).rstrip()
        for i in range(0, len(items), per_line)
    ]


def format_business(business: dict[str, Any] | None) -> list[str]:
    if business is None:
        return ["business picture: not available (the marts are not built)"]
    stages = ", ".join(f"{stage} {n:,}" for stage, n in business["customers_per_stage"].items())
    quick = business["quick_ratio"]
    calls = business["call_list_by_priority"]
    by_priority = ", ".join(f"P{p} {n:,}" for p, n in calls.items())
    return [
        f"as-of month {business['as_of_month']}:",
        f"  customers per stage: {stages}",
        f"  active customers {business['active_customers'] or 0:,}, churn rate {_percent(business['churn_rate'])}, "
        f"quick ratio {'n/a' if quick is None else f'{quick:.2f}'}",
        f"  top 20% of customers earn {_percent(business['top_20_percent_profit_share'])} of lifetime profit",
        f"  call list: {sum(calls.values()):,} customers ({by_priority or 'none'})",
    ]


def _signed_percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1%}"


def format_clv_holdout(holdout: dict[str, Any] | None) -> list[str]:
    """One line: how the CLV models fitted without the last holdout_days did on those days."""
    if holdout is None:
        return []
    if holdout["status"] != "evaluated":
        return [f"CLV holdout evaluation: {holdout['status']} ({holdout['status_reason']})"]
    predicted, actual = holdout["predicted_holdout_purchases"], holdout["actual_holdout_purchases"]
    purchases = "n/a" if predicted is None else f"predicted {predicted:,.0f} vs actual {actual:,.0f} purchase days"
    return [
        f"CLV holdout (last {holdout['holdout_days']} days): {purchases} "
        f"({_signed_percent(holdout['purchases_relative_error'])}), "
        f"spend per purchase {_signed_percent(holdout['spend_relative_error'])}"
    ]


def format_report(report: dict[str, Any], log_file: Path | None = None) -> str:
    rows = report["rows_per_mart"]
    lines = [f"rows per mart ({len(rows)}):"]
    lines += _columns([f"{mart:<32}{'missing' if n is None else f'{n:,}':>10}" for mart, n in rows.items()], 48)
    by_reason: dict[str, int] = {}
    for item in report["rejected_rows"]:
        by_reason[item["reason"]] = by_reason.get(item["reason"], 0) + item["rows"]
    total = sum(by_reason.values())
    lines.append(f"rejected rows: {total:,} (per reason code; every one kept in staging.stg_crm__rejected_rows)")
    lines += _columns([f"{reason:<32}{n:>10,}" for reason, n in sorted(by_reason.items())], 48)
    dq = report["dq"]
    lines.append(
        f"data quality: {dq['suites']} suites, errors: {', '.join(dq['failed_error']) or 'none'}, "
        f"warnings: {', '.join(dq['failed_warn']) or 'none'}"
    )
    lines += format_business(report.get("business"))
    lines += format_clv_holdout(report.get("clv_holdout"))
    lines.append(f"warehouse ({report['target']}): {report['warehouse']}")
    lines.append(f"published:  {report['serving_file']} (version {report['published_version']})")
    lines.append(f"report:     {report['lifecycle_report'] or 'not written (nothing published)'} (charts)")
    lines.append(f"            {report['report_file']}, data-quality results in {dq['results']}")
    if log_file is not None:
        lines.append(f"run log:    {log_file}")
    return "\n".join(lines)


def report_asset(marts: list[str]) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["serving", "run_report"]),
        deps=[PUBLISHED_MARTS_KEY],
        group_name="serving",
        description="Rows per mart, rejected rows per reason, the business picture and where everything is "
        "($CLM_WAREHOUSE_DIR/report.json).",
        owners=["team:data-platform"],
        kinds={"python"},
    )
    def run_report(context: AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        settings = warehouse.settings()
        report = build_report(settings, marts)
        path = write_report(settings, report)
        context.log.info(format_report(report))
        return dg.MaterializeResult(
            metadata={
                "report": dg.MetadataValue.path(str(path)),
                "summary": dg.MetadataValue.md(f"```\n{format_report(report)}\n```"),
                "rejected_rows": sum(item["rows"] for item in report["rejected_rows"]),
            }
        )

    return run_report
