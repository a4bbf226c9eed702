"""The raw data contract of DOMAIN.md §2: tables, their columns, which are required.

One place for it: the generator writes these columns, ingest checks landed files against them and
creates the `raw` tables from them, and the dbt project reads the table list and the enums from
macros/staging/crm_contract.sql, generated from this module (`python -m orchestration.contract`; a test
fails when the committed file differs). The dbt sources and the accepted_values tests of the staged
models are checked against it (tests/test_contract.py).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

DBT_CONTRACT_MACRO = Path(__file__).resolve().parent.parent / "macros" / "staging" / "crm_contract.sql"


@dataclass(frozen=True)
class RawTable:
    name: str
    id_column: str | None
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


RAW_TABLES: dict[str, RawTable] = {
    t.name: t
    for t in (
        RawTable(
            "customers",
            "customer_id",
            required=("customer_id", "created_at"),
            optional=(
                "full_name", "phone", "email", "birth_date", "gender", "city", "customer_type",
                "acquisition_channel", "referred_by", "closed_at", "updated_at",
            ),
        ),
        RawTable(
            "orders",
            "order_id",
            required=("order_id", "customer_id", "ordered_at", "status", "gross_amount"),
            optional=(
                "discount_amount", "cost_amount", "product_category", "sales_channel", "updated_at",
            ),
        ),
        RawTable(
            "calls",
            "call_id",
            required=("call_id", "direction", "purpose", "started_at"),
            optional=(
                "customer_id", "phone", "duration_seconds", "agent_id", "outcome",
                "satisfaction_score", "campaign_id", "updated_at",
            ),
        ),
        RawTable(
            "complaints",
            "complaint_id",
            required=("complaint_id", "customer_id", "opened_at", "severity"),
            optional=(
                "order_id", "resolved_at", "category", "compensation_amount", "satisfaction_score",
                "status", "updated_at",
            ),
        ),
        RawTable(
            "marketing_spend",
            None,  # keyed by (channel, month)
            required=("channel", "month", "spend_amount"),
            optional=("updated_at",),
        ),
    )
}

# Metadata columns ingest adds to every raw table (all raw business columns are loaded as text, so
# that staging, not the loader, decides what is unparseable and says why).
LOAD_METADATA_COLUMNS: tuple[str, ...] = (
    "_raw_row_id",  # '<first 16 hex of the file's sha256>-<1-based data row number>', unique in raw
    "_file_name",  # path relative to the landing folder, e.g. 'orders/orders_2024-01-01.csv'
    "_file_row_number",  # 1-based data row number within the file
    "_file_sha256",
    "_loaded_at",  # UTC timestamp of the load
)

# Reason codes of rejected rows (DOMAIN.md §3), in order of precedence: a row is rejected under the
# first reason that applies. macros/rejection_reasons.sql applies them; the generator's truth file
# names the reason each injected bad row must be found under.
REJECTION_REASONS: tuple[str, ...] = (
    "missing_required_value",
    "unparseable_timestamp",
    "unparseable_number",
    "duplicate_id_same_updated_at",
    "invalid_enum_value",
    "negative_amount",
    "discount_above_gross",
    "cost_above_gross",
    "satisfaction_out_of_range",
    "timestamp_in_future",
    "resolved_before_opened",
    "unknown_customer",
    "before_customer_created",
)

# Enumerations after normalisation (lower case, trimmed).
ENUMS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {"customer_type": ("individual", "enterprise")},
    "orders": {"status": ("completed", "cancelled", "returned")},
    "calls": {
        "direction": ("inbound", "outbound"),
        "purpose": ("sales", "follow_up", "service", "survey", "retention", "win_back"),
    },
    "complaints": {"severity": ("low", "medium", "high", "critical")},
}


def raw_table_ddl(table: str, schema: str = "raw") -> str:
    """`create table if not exists` for a raw table: business columns as text, then load metadata.

    Runs as is on DuckDB and PostgreSQL; Spark wants `string` for `varchar`, which
    orchestration.ingest.spark_loader.spark_ddl translates.
    """
    spec = RAW_TABLES[table]
    business = [f"{c} varchar" for c in spec.columns]
    metadata = [
        "_raw_row_id varchar",
        "_file_name varchar",
        "_file_row_number bigint",
        "_file_sha256 varchar",
        "_loaded_at timestamp",
    ]
    return f"create table if not exists {schema}.{table} ({', '.join(business + metadata)})"


def _jinja_list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def dbt_contract_macro() -> str:
    """The text of macros/staging/crm_contract.sql: the raw tables and the enums, for the dbt models."""
    enums = ",\n".join(
        f"        '{table}': {{"
        + ", ".join(f"'{column}': {_jinja_list(values)}" for column, values in columns.items())
        + "}"
        for table, columns in ENUMS.items()
    )
    return (
        "{#- Generated from orchestration/contract.py by `python -m orchestration.contract`: do not edit.\n"
        "    The raw tables (base_crm__<table> per table) and the enumerations staging accepts. -#}\n\n"
        "{% macro crm_raw_tables() %}\n"
        f"    {{{{ return({_jinja_list(list(RAW_TABLES))}) }}}}\n"
        "{% endmacro %}\n\n"
        "{% macro crm_enum_values(table, column) %}\n"
        "    {%- set enums = {\n"
        f"{enums},\n"
        "    } -%}\n"
        "    {{ return(enums[table][column]) }}\n"
        "{% endmacro %}\n"
    )


if __name__ == "__main__":
    DBT_CONTRACT_MACRO.write_text(dbt_contract_macro(), encoding="utf-8")
    print(f"wrote {DBT_CONTRACT_MACRO}", file=sys.stderr)
