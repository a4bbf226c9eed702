"""The hand-written DuckDB references of the benchmark (bench/*.sql), each run in a process of its own.

    python -m orchestration.bench_reference core_lifecycle --warehouse W/clm.duckdb --scratch R/reference.duckdb

A reference is plain SQL: bench/macros.sql (the project's parsing rules as DuckDB macros) and the keyed
PII hash `pii_hmac` (HMAC-SHA256 with the settings' salt, defined here so the key is in no file), then the
files it builds on (PREREQUISITES: the core reference starts from the staged customers of
bench/staged_customers.sql, timed as part of it), then the reference's file, statement by statement. It
reads the raw tables of the warehouse file, ATTACHed read-only as `warehouse` (so it must run while no
other process writes that file: right after ingest), and writes its tables into a separate scratch DuckDB
file, so the measured warehouse is never changed. The connection has the memory bound the pipeline's
connections have (CLM_DUCKDB_*), and TimeZone UTC as dbt's.

The process prints one JSON line: the seconds spent in SQL (without interpreter start-up) and the row
count of every table it created. orchestration/bench.py times the process itself (wall, peak RSS).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import duckdb

from orchestration.settings import PROJECT_DIR, load_settings

SQL_DIR = PROJECT_DIR / "bench"
MACROS = SQL_DIR / "macros.sql"
# name -> what it stands for; each is bench/<name>.sql
REFERENCES = {
    "core_lifecycle": "customer x month: spine, completed orders, rolling windows, running counts, median gap",
    "staged_customers": "preparation: the staged customers the orders, calls and complaints queries join to",
    "staging_orders": "one query with the checks of base_crm__orders",
    "staging_customers": "one query with the checks of base_crm__customers",
    "staging_calls": "one query with the checks of base_crm__calls",
    "staging_complaints": "one query with the checks of base_crm__complaints",
}
# name -> the references whose tables it reads, run first in the same process (and timed with it); the
# staging orders, calls and complaints references read the staged customers the "staged_customers"
# reference left in the scratch (the base models, too, read customers that are already staged)
PREREQUISITES = {"core_lifecycle": ("staged_customers",)}
HMAC_BLOCK_BYTES = 64  # SHA-256's block size (RFC 2104)


def pii_hmac_macro(salt: str) -> str:
    """`pii_hmac(t)`: HMAC-SHA256 of a text keyed with the salt, lower-case hex (as the models hash PII)."""
    key = salt.encode("utf-8").ljust(HMAC_BLOCK_BYTES, b"\0")
    inner, outer = (bytes(byte ^ pad for byte in key).hex() for pad in (0x36, 0x5C))
    return (
        "create or replace temp macro pii_hmac(t) as "
        f"sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') || encode(t))))"
    )


def connect_scratch(warehouse: Path, scratch: Path) -> duckdb.DuckDBPyConnection:
    """The scratch file, bounded like every project connection, with the warehouse attached read-only."""
    config = load_settings().duckdb.config()
    temp = scratch.parent / "duckdb_tmp"
    temp.mkdir(parents=True, exist_ok=True)
    config["temp_directory"] = str(temp)
    con = duckdb.connect(str(scratch), config=config)
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"attach '{warehouse}' as warehouse (read_only)")
    return con


def created_tables(sql: str) -> list[str]:
    """Names of the tables a script creates (`create or replace table NAME as`), in order."""
    return re.findall(r"^create\s+(?:or\s+replace\s+)?table\s+([\w.]+)", sql, flags=re.IGNORECASE | re.MULTILINE)


def run_reference(name: str, warehouse: Path, scratch: Path) -> dict[str, object]:
    """Run one reference; returns its SQL seconds and the row counts of the tables it made."""
    sql = (SQL_DIR / f"{name}.sql").read_text()
    prerequisites = [(SQL_DIR / f"{first}.sql").read_text() for first in PREREQUISITES.get(name, ())]
    con = connect_scratch(warehouse, scratch)
    try:
        start = time.perf_counter()
        for text in (MACROS.read_text(), pii_hmac_macro(load_settings().pii_salt), *prerequisites, sql):
            for statement in duckdb.extract_statements(text):
                con.execute(statement)
        seconds = time.perf_counter() - start
        rows = {table: con.execute(f"select count(*) from {table}").fetchone()[0] for table in created_tables(sql)}
    finally:
        con.close()
    return {"reference": name, "sql_seconds": round(seconds, 4), "rows": rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=sorted(REFERENCES))
    parser.add_argument("--warehouse", type=Path, required=True, help="the warehouse file (read-only)")
    parser.add_argument("--scratch", type=Path, required=True, help="the DuckDB file the reference writes")
    args = parser.parse_args(argv)
    print(json.dumps(run_reference(args.name, args.warehouse.resolve(), args.scratch.resolve())))


if __name__ == "__main__":
    main()
