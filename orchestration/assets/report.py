"""The run report: rows per mart, rejected rows per reason, where the warehouse and the published files
are. Written to $CLM_WAREHOUSE_DIR/report.json and printed by `python -m orchestration.run`."""

import json
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.checks.results import read_latest
from orchestration.resources import WarehouseResource, open_reader
from orchestration.settings import Settings

REPORT_FILE = "report.json"


def build_report(settings: Settings, marts: list[str]) -> dict[str, Any]:
    rows: dict[str, int | None] = {}
    with open_reader(settings) as reader:
        for mart in marts:
            rows[mart] = (
                int(reader.query(f"select count(*) as n from marts.{mart}")["n"].iloc[0])
                if reader.relation_exists("marts", mart)
                else None
            )
        rejected = (
            reader.query(
                "select table_name, rejection_reason, count(*) as n from staging.stg_crm__rejected_rows "
                "group by table_name, rejection_reason order by table_name, rejection_reason"
            )
            if reader.relation_exists("staging", "stg_crm__rejected_rows")
            else None
        )
    current = settings.published_dir / "CURRENT"
    latest = read_latest(settings)
    return {
        "target": settings.target,
        "warehouse": str(settings.duckdb_path)
        if settings.target == "duckdb"
        else f"postgres database {settings.postgres.database}",
        "published_dir": str(settings.published_dir),
        "serving_file": str(settings.published_dir / "serving.duckdb"),
        "published_version": current.read_text(encoding="utf-8").strip() if current.exists() else None,
        "rows_per_mart": rows,
        "rejected_rows": []
        if rejected is None
        else [{"table": t, "reason": r, "rows": int(n)} for t, r, n in rejected.itertuples(index=False, name=None)],
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


def format_report(report: dict[str, Any]) -> str:
    lines = [f"warehouse ({report['target']}): {report['warehouse']}"]
    lines.append(f"published: {report['serving_file']} (version {report['published_version']})")
    lines.append("rows per mart:")
    lines += [f"  {mart:<34} {'missing' if n is None else n:>10}" for mart, n in report["rows_per_mart"].items()]
    by_reason: dict[str, int] = {}
    for item in report["rejected_rows"]:
        by_reason[item["reason"]] = by_reason.get(item["reason"], 0) + item["rows"]
    lines.append(f"rejected rows: {sum(by_reason.values())}")
    lines += [f"  {reason:<34} {n:>10}" for reason, n in sorted(by_reason.items())]
    dq = report["dq"]
    lines.append(
        f"data quality: {dq['suites']} suites, errors: {', '.join(dq['failed_error']) or 'none'}, "
        f"warnings: {', '.join(dq['failed_warn']) or 'none'} (results in {dq['results']})"
    )
    return "\n".join(lines)


def report_asset(marts: list[str]) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["serving", "run_report"]),
        deps=[dg.AssetKey(["serving", "published_marts"])],
        group_name="serving",
        description="Rows per mart, rejected rows per reason and where everything is ($CLM_WAREHOUSE_DIR/report.json).",
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
