"""The PII scan shared by the audits of every engine: no raw name, phone or e-mail value outside `raw`."""

from __future__ import annotations

import re

from tests.engines import BuiltWarehouse, query

SYSTEM_SCHEMAS = ("raw", "information_schema", "pg_catalog", "pg_toast")
TEXT_TYPES = ("varchar", "text", "character varying", "string", "character")


def pii_values(warehouse: BuiltWarehouse) -> set[str]:
    rows = query(warehouse, """
        select full_name from raw.customers union select phone from raw.customers
        union select email from raw.customers union select phone from raw.calls""")
    return {r[0].strip() for r in rows if r[0] and len(r[0].strip()) >= 5}


def _text_columns(warehouse: BuiltWarehouse) -> list[tuple[str, str, str]]:
    if warehouse.env["CLM_TARGET"] == "spark":
        return _spark_text_columns(warehouse)
    excluded = ", ".join(f"'{s}'" for s in SYSTEM_SCHEMAS)
    rows = query(warehouse, f"""
        select table_schema, table_name, column_name, lower(data_type) from information_schema.columns
        where table_schema not in ({excluded}) and table_schema not like 'pg_temp%'""")
    return [(s, t, c) for s, t, c, kind in rows if any(kind.startswith(k) for k in TEXT_TYPES)]


def _spark_text_columns(warehouse: BuiltWarehouse) -> list[tuple[str, str, str]]:
    """Spark has no information_schema: walk the catalog (schemas, tables, `describe`)."""
    columns = []
    for (schema,) in query(warehouse, "show schemas"):
        if schema in SYSTEM_SCHEMAS or schema == "default":
            continue
        for row in query(warehouse, f"show tables in `{schema}`"):
            table = row[1]
            for name, kind, *_ in query(warehouse, f"describe `{schema}`.`{table}`"):
                if name and not name.startswith("#") and kind.lower() in ("string", "varchar"):
                    columns.append((schema, table, name))
    return columns


def _quote(warehouse: BuiltWarehouse, name: str) -> str:
    return f"`{name}`" if warehouse.env["CLM_TARGET"] == "spark" else f'"{name}"'


def assert_no_pii(warehouse: BuiltWarehouse) -> None:
    pii = pii_values(warehouse)
    assert len(pii) > 100, "the generated data should carry PII to look for"
    pattern = re.compile("|".join(re.escape(v) for v in sorted(pii, key=len, reverse=True)))
    columns = _text_columns(warehouse)
    assert len(columns) > 50
    tables: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in columns:
        tables.setdefault((schema, table), []).append(column)
    q = lambda name: _quote(warehouse, name)  # noqa: E731
    leaks = []
    for (schema, table), names in tables.items():  # one scan per relation, every text column at once
        rows = query(warehouse, f"select {', '.join(q(n) for n in names)} from {q(schema)}.{q(table)}")
        for index, name in enumerate(names):
            distinct = {r[index] for r in rows if isinstance(r[index], str)}
            found = {value for value in distinct if pattern.search(value)}
            if found:
                leaks.append(f"{schema}.{table}.{name}: {sorted(found)[:3]}")
    assert not leaks, "raw PII outside raw:\n" + "\n".join(leaks)
