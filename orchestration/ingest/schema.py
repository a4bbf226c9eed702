"""DDL of the `raw` schema: the five contract tables and the ledger, shared by every loader."""

from __future__ import annotations

from orchestration.contract import LOAD_METADATA_COLUMNS, RAW_TABLES, raw_table_ddl
from orchestration.ingest.ledger import LEDGER_COLUMNS, LEDGER_TABLE, ledger_ddl

RAW_SCHEMA = "raw"

EXISTING_COLUMNS_SQL = "select table_name, column_name from information_schema.columns where table_schema = 'raw'"
LEDGER_EXISTS_SQL = (
    "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = '_load_ledger'"
)


def create_statements(primary_key: bool = True) -> list[str]:
    return [
        f"create schema if not exists {RAW_SCHEMA}",
        *(raw_table_ddl(table, RAW_SCHEMA) for table in RAW_TABLES),
        ledger_ddl(RAW_SCHEMA, primary_key=primary_key),
    ]


def expected_columns() -> dict[str, list[tuple[str, str]]]:
    """(column, type) of every table in raw; the metadata types are those of contract.raw_table_ddl."""
    metadata = dict(zip(LOAD_METADATA_COLUMNS, ("varchar", "varchar", "bigint", "varchar", "timestamp"), strict=True))
    expected = {
        table: [(c, "varchar") for c in spec.columns] + list(metadata.items()) for table, spec in RAW_TABLES.items()
    }
    expected[LEDGER_TABLE] = list(LEDGER_COLUMNS)
    return expected


def add_column_statements(existing: list[tuple[str, str]]) -> list[str]:
    """`alter table ... add column` for columns a raw table created by an older contract lacks (inserts
    name their columns, so the column order does not matter)."""
    present: dict[str, set[str]] = {}
    for table, column in existing:
        present.setdefault(table, set()).add(column)
    return [
        f"alter table {RAW_SCHEMA}.{table} add column {column} {kind}"
        for table, columns in expected_columns().items()
        for column, kind in columns
        if column not in present.get(table, set())
    ]
