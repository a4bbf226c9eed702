"""`python -m orchestration.compare_marts BEFORE.duckdb AFTER.duckdb [--schema marts] [--across-engines]`:
are two builds' marts the same, row for row?

Every table of the schema in either file is compared (views are not: they are code, not data): the
same tables, the same columns, the same number of rows and the same values. Money (DECIMAL) may differ
by at most a cent (0.005 after rounding to cents), rates and other floating-point values by 1e-9;
everything else must be equal. Prints one line per table and exits 1 when any differs. The comparison
runs in DuckDB SQL over both files attached (bounded by the settings' memory limit, spilling to their
temp directory), so marts of tens of millions of rows compare on this machine: rows equal exactly are
matched first, and only the rows left over are paired (in the order of every column) and held to the
tolerances.

`--across-engines` compares builds of two engines (e.g. the published copies of a DuckDB run and a Spark
run): each engine types numbers its own way (DECIMAL(38,2) or (28,2), an average as DOUBLE or DECIMAL),
so numbers are one family there: money (a decimal with at most two places on either side) within a
cent, other numbers within 1e-6 relative (a CLV fit converges from sums added in another order).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.duckdb_connection import connect_in_memory
from orchestration.settings import load_settings

# integer widths are one family: a sum that DuckDB types HUGEINT holds the same number as a BIGINT
INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
MONEY_TOLERANCE = 0.005
RATE_TOLERANCE = 1e-9
NUMERIC_TYPES = ("DECIMAL", "DOUBLE", "FLOAT", "REAL")
# across engines: a cent either way (engines round half-cents differently), and relative 1e-6
ENGINES_MONEY_TOLERANCE = 0.01
ENGINES_NUMBER_TOLERANCE = 1e-6
MONEY, NUMBER = "MONEY", "NUMBER"  # the engine-neutral types of --across-engines


@dataclass(frozen=True)
class Tolerance:
    money: float = MONEY_TOLERANCE
    number: float = RATE_TOLERANCE


SAME_ENGINE = Tolerance()
ACROSS_ENGINES = Tolerance(money=ENGINES_MONEY_TOLERANCE, number=ENGINES_NUMBER_TOLERANCE)


@dataclass(frozen=True)
class TableDifference:
    table: str
    problem: str


def _tables(connection: duckdb.DuckDBPyConnection, database: str, schema: str) -> dict[str, dict[str, str]]:
    # tables only: a view of an attached file names its own catalog, which the comparison renames
    rows = connection.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "join information_schema.tables using (table_catalog, table_schema, table_name) "
        "where table_catalog = ? and table_schema = ? and table_type = 'BASE TABLE' "
        "order by table_name, ordinal_position",
        [database, schema],
    ).fetchall()
    tables: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, {})[column] = "INTEGER" if data_type in INTEGER_TYPES else data_type
    return tables


def _engine_neutral(data_type: str) -> str:
    """MONEY for a decimal with at most two places, NUMBER for any other number, else the type."""
    scale = re.fullmatch(r"DECIMAL\(\d+,(\d+)\)", data_type)
    if scale and int(scale.group(1)) <= 2:
        return MONEY
    if data_type == "INTEGER" or data_type.startswith(NUMERIC_TYPES):
        return NUMBER
    return data_type


def _neutral_tables(tables: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    return {table: {c: _engine_neutral(t) for c, t in columns.items()} for table, columns in tables.items()}


def _is_numeric(data_type: str) -> bool:
    return data_type in (MONEY, NUMBER) or data_type.startswith(NUMERIC_TYPES)


def _as_compared(column: str, data_type: str) -> str:
    # numbers as doubles (compared within a cent or 1e-9), whatever width or type each side gave them
    return f'cast("{column}" as double)' if _is_numeric(data_type) else f'"{column}"'


def _column_agrees(column: str, data_type: str, tolerance: Tolerance) -> str:
    """SQL: does column `column` of the before row `b` agree with the after row `a`?"""
    left, right = f'b."{column}"', f'a."{column}"'
    if not _is_numeric(data_type):
        return f"{left} is not distinct from {right}"
    if data_type == MONEY or data_type.startswith("DECIMAL"):
        allowed = f"{tolerance.money + 1e-9!r}"
    else:  # relative beyond 1, so large floating-point sums compare on their significant digits
        allowed = f"{tolerance.number!r} * greatest(1.0, abs({left})) + 1e-12"  # a last-place unit, as a cent
    return f"coalesce({left} is not distinct from {right} or abs({left} - {right}) <= {allowed}, false)"


def _column_list(types: dict[str, str]) -> str:
    return ", ".join(f'"{column}"' for column in types)


def _count(connection: duckdb.DuckDBPyConnection, relation: str) -> int:
    return connection.execute(f"select count(*) from {relation}").fetchone()[0]


def compare_table(
    connection: duckdb.DuckDBPyConnection, table: str, types: dict[str, str], tolerance: Tolerance = SAME_ENGINE
) -> str | None:
    """Compare the views `before_<table>` and `after_<table>` in SQL, so tables of any size fit: rows equal
    exactly are matched as multisets first (`except all` both ways, each side's types unified by DuckDB);
    the rows left on each side are paired in the order of every column (numbers as doubles rounded to 6
    places) and must agree within the tolerance column by column."""
    columns = _column_list(types)
    before, after = f'"before_{table}"', f'"after_{table}"'
    for extra, side, other in (("only_before", before, after), ("only_after", after, before)):
        connection.execute(
            f"create or replace temp table {extra} as "
            f"select {columns} from {side} except all select {columns} from {other}"
        )
    extra_before, extra_after = (_count(connection, extra) for extra in ("only_before", "only_after"))
    if extra_before != extra_after:  # the rows matched exactly are as many on both sides
        return f"{_count(connection, before)} rows before, {_count(connection, after)} after"
    if extra_before == 0:
        return None
    compared = ", ".join(f'{_as_compared(c, t)} as "{c}"' for c, t in types.items())
    order = ", ".join(
        f"round({_as_compared(c, t)}, 6) nulls first" if _is_numeric(t) else f'"{c}" nulls first'
        for c, t in types.items()
    )
    numbered = f"select {compared}, row_number() over (order by {order}) as pair from {{side}}"
    connection.execute(
        "create or replace temp table pairs as select pair, "
        + ", ".join(
            f'not ({_column_agrees(c, t, tolerance)}) as "bad {c}", b."{c}" as "before {c}", a."{c}" as "after {c}"'
            for c, t in types.items()
        )
        + f" from ({numbered.format(side='only_before')}) as b"
        + f" join ({numbered.format(side='only_after')}) as a using (pair)"
    )
    for column in types:
        bad, example_before, example_after = connection.execute(
            f'select count(*) filter ("bad {column}"), '
            f'arg_min("before {column}", pair) filter ("bad {column}"), '
            f'arg_min("after {column}", pair) filter ("bad {column}") from pairs'
        ).fetchone()
        if bad:
            return f"column {column}: {bad} rows differ, e.g. {example_before!r} vs {example_after!r}"
    return None


def compare_each(
    before_path: Path, after_path: Path, schema: str = "marts", across_engines: bool = False
) -> Iterator[tuple[str, str | None]]:
    """(table, what differs or None) for every table of the schema in either file, one at a time."""
    tolerance = ACROSS_ENGINES if across_engines else SAME_ENGINE
    with connect_in_memory(load_settings()) as connection:
        connection.execute(f"attach '{before_path}' as before_file (read_only)")
        connection.execute(f"attach '{after_path}' as after_file (read_only)")
        before_tables = _tables(connection, "before_file", schema)
        after_tables = _tables(connection, "after_file", schema)
        if across_engines:
            before_tables, after_tables = _neutral_tables(before_tables), _neutral_tables(after_tables)
        if not before_tables and not after_tables:  # nothing compared is no evidence of equality
            yield f"({schema})", "no tables in either file"
        for table in sorted(before_tables.keys() | after_tables.keys()):
            if table not in after_tables or table not in before_tables:
                yield table, f"missing {'after' if table not in after_tables else 'before'}"
                continue
            if before_tables[table] != after_tables[table]:
                changed = [
                    f"{column} {before_tables[table].get(column)} -> {after_tables[table].get(column)}"
                    for column in dict.fromkeys([*before_tables[table], *after_tables[table]])
                    if before_tables[table].get(column) != after_tables[table].get(column)
                ]
                yield table, "columns differ: " + "; ".join(changed)
                continue
            columns = _column_list(before_tables[table])
            for side in ("before", "after"):
                connection.execute(
                    f'create or replace temp view "{side}_{table}" as '
                    f'select {columns} from {side}_file."{schema}"."{table}"'
                )
            yield table, compare_table(connection, table, before_tables[table], tolerance)


def compare(
    before_path: Path, after_path: Path, schema: str = "marts", across_engines: bool = False
) -> list[TableDifference]:
    return [
        TableDifference(table, problem)
        for table, problem in compare_each(before_path, after_path, schema, across_engines)
        if problem
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--schema", default="marts")
    parser.add_argument("--across-engines", action="store_true", help="builds of two engines (numbers as one family)")
    args = parser.parse_args(argv)
    tables = differing = 0
    started = time.perf_counter()
    for table, problem in compare_each(args.before, args.after, args.schema, args.across_engines):
        tables, differing = tables + 1, differing + bool(problem)
        print(f"{table}: {problem or 'identical'} ({time.perf_counter() - started:.1f} s)", flush=True)
    print(f"{differing} of {tables} tables differ")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
