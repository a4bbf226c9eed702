"""One asset per raw table, keyed like the dbt source (`crm/<table>`) so lineage runs from landing files
to the marts without a gap."""

from collections import Counter

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.contract import RAW_TABLES
from orchestration.ingest import FileLoad, ingest_table
from orchestration.resources import WAREHOUSE_WRITER_POOL, WarehouseResource

INGEST_GROUP = "ingest"
SOURCE_NAME = "crm"  # models/staging/crm/_crm__sources.yml
RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)


def raw_asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([SOURCE_NAME, table])


def load_metadata(loads: list[FileLoad]) -> dict[str, dg.MetadataValue]:
    """What a run of one table did: files by outcome, rows added, duplicate files skipped, extra columns."""
    statuses = Counter(load.status for load in loads)
    extra = sorted({column for load in loads for column in load.extra_columns})
    loaded = [load for load in loads if load.status == "loaded"]
    return {
        "files_landed": dg.MetadataValue.int(len(loads)),
        "files_loaded": dg.MetadataValue.int(statuses["loaded"]),
        "files_already_loaded": dg.MetadataValue.int(statuses["already_loaded"]),
        "files_empty": dg.MetadataValue.int(statuses["empty"]),
        "duplicate_files_skipped": dg.MetadataValue.int(statuses["duplicate_content"]),
        "rows_loaded": dg.MetadataValue.int(sum(load.rows for load in loaded)),
        "extra_columns_ignored": dg.MetadataValue.text(", ".join(extra) or "none"),
        "new_files": dg.MetadataValue.md(
            "\n".join(f"- `{load.file_name}`: {load.rows} rows" for load in loaded[:50]) or "none"
        ),
    }


def _ingest_asset(table: str) -> dg.AssetsDefinition:
    spec = RAW_TABLES[table]

    @dg.asset(
        key=raw_asset_key(table),
        group_name=INGEST_GROUP,
        description=(
            f"raw.{table}: landed {table} files loaded verbatim as text, with load metadata and a ledger "
            f"row per file (orchestration/ingest). Required columns: {', '.join(spec.required)}."
        ),
        kinds={"python", "duckdb"},
        owners=["team:data-platform"],
        retry_policy=RETRY,
        pool=WAREHOUSE_WRITER_POOL,
        metadata={"dagster/table_name": f"raw.{table}"},
    )
    def _load(context: AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        loads = ingest_table(warehouse.settings(), table)
        metadata = load_metadata(loads)
        context.log.info(
            f"{table}: {metadata['rows_loaded'].value} new rows from {metadata['files_loaded'].value} files"
        )
        return dg.MaterializeResult(metadata=metadata)

    return _load


def ingest_assets() -> list[dg.AssetsDefinition]:
    return [_ingest_asset(table) for table in RAW_TABLES]
