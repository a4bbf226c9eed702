"""`python -m orchestration.compare_marts BEFORE.duckdb AFTER.duckdb [--schema marts] [--across-engines]`:
are two builds' marts the same, row for row?

Every table of the schema in either file is compared: the same tables, the same columns, the same
number of rows and, after sorting both sides on every column, the same values. Money (DECIMAL) may
differ by at most a cent (0.005 after rounding to cents), rates and other floating-point values by
1e-9; everything else must be equal. Prints one line per table and exits 1 when any differs.

`--across-engines` compares builds of two engines (e.g. the published copies of a DuckDB run and a Spark
run): each engine types numbers its own way (DECIMAL(38,2) or (28,2), an average as DOUBLE or DECIMAL),
so numbers are one family there: money (a decimal with at most two places on either side) within a
cent, other numbers within 1e-6 relative (a CLV fit converges from sums added in another order).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

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


def _tables(connection: duckdb.DuckDBPyConnection, schema: str) -> dict[str, dict[str, str]]:
    rows = connection.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = ? order by table_name, ordinal_position",
        [schema],
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


def _frame(connection: duckdb.DuckDBPyConnection, schema: str, table: str, columns: dict[str, str]) -> pd.DataFrame:
    # decimals as doubles (compared within a cent), floats as doubles, everything else as text, so that
    # both sides sort identically whatever the Python types
    selected = []
    for column, data_type in columns.items():
        quoted = f'"{column}"'
        if _is_numeric(data_type):
            selected.append(f"cast({quoted} as double) as {quoted}")
        else:
            selected.append(f"cast({quoted} as varchar) as {quoted}")
    frame = connection.execute(f'select {", ".join(selected)} from "{schema}"."{table}"').df()
    numeric = [c for c, t in columns.items() if _is_numeric(t)]
    keys = frame.copy()
    for column in numeric:
        keys[column] = keys[column].round(6)
    order = keys.sort_values(list(columns), na_position="first", kind="mergesort").index
    return frame.loc[order].reset_index(drop=True)


def compare_table(
    before: pd.DataFrame, after: pd.DataFrame, types: dict[str, str], tolerance: Tolerance = SAME_ENGINE
) -> str | None:
    if len(before) != len(after):
        return f"{len(before)} rows before, {len(after)} after"
    for column, data_type in types.items():
        left, right = before[column], after[column]
        if _is_numeric(data_type):
            a, b = left.to_numpy(dtype=float), right.to_numpy(dtype=float)
            if data_type == MONEY or data_type.startswith("DECIMAL"):
                allowed = tolerance.money + 1e-9
            else:  # relative beyond 1, so large floating-point sums compare on their significant digits
                allowed = tolerance.number * np.maximum(1.0, np.abs(a)) + 1e-12  # a last-place unit, as a cent
            bad = ~(np.isnan(a) & np.isnan(b)) & ~(np.abs(a - b) <= allowed)
        else:
            bad = ~((left == right) | (left.isna() & right.isna())).to_numpy()
        if bad.any():
            first = int(np.argmax(bad))
            return f"column {column}: {int(bad.sum())} rows differ, e.g. {left.iloc[first]!r} vs {right.iloc[first]!r}"
    return None


def compare(
    before_path: Path, after_path: Path, schema: str = "marts", across_engines: bool = False
) -> list[TableDifference]:
    differences: list[TableDifference] = []
    tolerance = ACROSS_ENGINES if across_engines else SAME_ENGINE
    with duckdb.connect(str(before_path), read_only=True) as before, duckdb.connect(
        str(after_path), read_only=True
    ) as after:
        before_tables, after_tables = _tables(before, schema), _tables(after, schema)
        if across_engines:
            before_tables, after_tables = _neutral_tables(before_tables), _neutral_tables(after_tables)
        for table in sorted(before_tables.keys() | after_tables.keys()):
            if table not in after_tables or table not in before_tables:
                side = "after" if table not in after_tables else "before"
                differences.append(TableDifference(table, f"missing {side}"))
                continue
            if before_tables[table] != after_tables[table]:
                changed = [
                    f"{column} {before_tables[table].get(column)} -> {after_tables[table].get(column)}"
                    for column in dict.fromkeys([*before_tables[table], *after_tables[table]])
                    if before_tables[table].get(column) != after_tables[table].get(column)
                ]
                differences.append(TableDifference(table, "columns differ: " + "; ".join(changed)))
                continue
            problem = compare_table(
                _frame(before, schema, table, before_tables[table]),
                _frame(after, schema, table, after_tables[table]),
                before_tables[table],
                tolerance,
            )
            if problem:
                differences.append(TableDifference(table, problem))
    return differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--schema", default="marts")
    parser.add_argument("--across-engines", action="store_true", help="builds of two engines (numbers as one family)")
    args = parser.parse_args(argv)
    differences = compare(args.before, args.after, args.schema, args.across_engines)
    with duckdb.connect(str(args.before), read_only=True) as connection:
        tables = sorted(_tables(connection, args.schema))
    bad = {d.table: d.problem for d in differences}
    for table in sorted(set(tables) | bad.keys()):
        print(f"{table}: {bad.get(table, 'identical')}")
    print(f"{len(bad)} of {len(set(tables) | bad.keys())} tables differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
