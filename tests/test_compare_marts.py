"""The mart comparison script: equal within a cent on money and 1e-9 on rates, and nothing else."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.compare_marts import TableDifference, compare


def _build(path: Path, rows: list[tuple], extra_sql: str = "") -> Path:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.facts (customer_id varchar, orders hugeint, spend decimal(18, 2), rate double)"
        )
        connection.executemany("insert into marts.facts values (?, ?, ?, ?)", rows)
        if extra_sql:
            connection.execute(extra_sql)
    return path


ROWS = [("a", 1, 10.00, 0.5), ("b", 2, 20.50, 0.25), ("c", None, None, None)]


def test_same_rows_in_another_order_and_integer_width_are_identical(tmp_path: Path) -> None:
    before = _build(tmp_path / "before.duckdb", ROWS)
    after = _build(tmp_path / "after.duckdb", list(reversed(ROWS)))
    with duckdb.connect(str(after)) as connection:
        connection.execute("alter table marts.facts alter orders type bigint")
    assert compare(before, after) == []


def test_a_cent_and_1e_9_are_tolerated_more_is_not(tmp_path: Path) -> None:
    before = _build(tmp_path / "before.duckdb", ROWS)
    within = _build(tmp_path / "within.duckdb", [("a", 1, 10.00, 0.5 + 5e-10), *ROWS[1:]])
    assert compare(before, within) == []
    money = _build(tmp_path / "money.duckdb", [("a", 1, 10.02, 0.5), *ROWS[1:]])
    assert [d.problem.split(":")[0] for d in compare(before, money)] == ["column spend"]
    rate = _build(tmp_path / "rate.duckdb", [("a", 1, 10.00, 0.5 + 1e-7), *ROWS[1:]])
    assert [d.problem.split(":")[0] for d in compare(before, rate)] == ["column rate"]
    null = _build(tmp_path / "null.duckdb", [("a", 1, 10.00, None), *ROWS[1:]])
    assert [d.problem.split(":")[0] for d in compare(before, null)] == ["column rate"]


def test_missing_tables_rows_and_columns_are_reported(tmp_path: Path) -> None:
    before = _build(tmp_path / "before.duckdb", ROWS, "create table marts.extra (x integer)")
    fewer = _build(tmp_path / "fewer.duckdb", ROWS[:2])
    problems = {d.table: d.problem for d in compare(before, fewer)}
    assert problems == {"extra": "missing after", "facts": "3 rows before, 2 after"}
    typed = _build(tmp_path / "typed.duckdb", ROWS, "create table marts.extra (x varchar)")
    assert compare(before, typed)[0].problem.startswith("columns differ: x INTEGER -> VARCHAR")


def _build_typed(path: Path, types: str, rows: list[tuple]) -> Path:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        connection.execute(f"create table marts.facts ({types})")
        connection.executemany("insert into marts.facts values (?, ?, ?, ?)", rows)
    return path


def test_across_engines_numbers_are_one_family_money_within_a_cent_others_1e_6(tmp_path: Path) -> None:
    """What another engine builds: other decimal widths, an integer typed double, an average typed decimal."""
    duckdb_types = "customer_id varchar, months integer, spend decimal(38, 2), share double"
    spark_types = "customer_id varchar, months double, spend decimal(28, 2), share decimal(38, 16)"
    before = _build_typed(tmp_path / "duckdb.duckdb", duckdb_types, [("a", 3, 36.07, 0.066355300609), ("b", 0, 1, 1)])
    same = _build_typed(tmp_path / "same.duckdb", spark_types, [("a", 3.0, 36.08, 0.0663553), ("b", 0.0, 1, 1)])
    assert compare(before, same, across_engines=True) == []
    assert compare(before, same)[0].problem.startswith("columns differ")  # the same-engine check stays strict
    cents = _build_typed(tmp_path / "cents.duckdb", spark_types, [("a", 3, 36.09, 0.066355300609), ("b", 0, 1, 1)])
    assert [d.problem.split(":")[0] for d in compare(before, cents, across_engines=True)] == ["column spend"]
    share = _build_typed(tmp_path / "share.duckdb", spark_types, [("a", 3, 36.07, 0.066357), ("b", 0, 1, 1)])
    assert [d.problem.split(":")[0] for d in compare(before, share, across_engines=True)] == ["column share"]
    month = _build_typed(tmp_path / "month.duckdb", spark_types, [("a", 4, 36.07, 0.066355300609), ("b", 0, 1, 1)])
    assert [d.problem.split(":")[0] for d in compare(before, month, across_engines=True)] == ["column months"]


def test_rows_are_matched_as_a_multiset_a_duplicate_is_not_another_row(tmp_path: Path) -> None:
    """Exact rows are matched with their multiplicity: [a, a, b] is not [a, b, b] though both hold a and b."""
    before = _build(tmp_path / "before.duckdb", [ROWS[0], ROWS[0], ROWS[1]])
    after = _build(tmp_path / "after.duckdb", [ROWS[0], ROWS[1], ROWS[1]])
    assert [d.problem.split(":")[0] for d in compare(before, after)] == ["column customer_id"]


def test_rows_left_over_are_paired_in_order_each_within_the_tolerance(tmp_path: Path) -> None:
    """Many rows off by float noise: each is paired with its own counterpart (ordered on every column)."""
    rows = [(f"c{i:03d}", i, i / 4, i / 7) for i in range(200)]
    before = _build(tmp_path / "before.duckdb", rows)
    noisy = _build(tmp_path / "noisy.duckdb", [(c, n, s, r * (1 + 1e-12)) for c, n, s, r in reversed(rows)])
    assert compare(before, noisy) == []
    swapped = [*rows[:-2], (*rows[-1][:3], rows[-2][3]), (*rows[-2][:3], rows[-1][3])]
    problems = [d.problem for d in compare(before, _build(tmp_path / "swapped.duckdb", swapped))]
    assert len(problems) == 1 and problems[0].startswith("column rate: 2 rows differ")


def test_a_schema_without_tables_is_reported_not_taken_as_equal(tmp_path: Path) -> None:
    """Views are not compared (they name their own file's catalog); a schema of views only is no evidence."""
    before = _build(tmp_path / "before.duckdb", ROWS, "create view marts.facts_view as select * from marts.facts")
    assert compare(before, before) == []
    assert compare(before, before, schema="main") == [TableDifference("(main)", "no tables in either file")]
