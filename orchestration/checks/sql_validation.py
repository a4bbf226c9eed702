"""Validate a suite where the data is: GX 1.x expectations judged from metrics the warehouse computes.

A relation pulled into pandas does not scale (10M raw orders as Python strings at scale 10), so:

1. Every fact a suite needs comes from ONE aggregate query per relation, in SQL spelled for the
   reader's engine (its `dialect`: identifier quotes, the double type, regular expressions): the row
   count and, per expectation, the non-null count, the rows outside a value set or a range, count vs
   count distinct (single and compound keys), a mean, the last load time.
2. Each expectation is judged from those facts by GX's own rules (`mostly` over the non-missing
   values, success without rows, inclusive bounds, NaN missing as in pandas) and reports GX's result
   fields (element_count, unexpected_count, unexpected_percent, missing_count, ... or observed_value):
   same expectation names, kwargs and severities, same result files. tests/test_dq_in_warehouse.py
   compares both ways on the same small tables.
3. Row-level expectations of today's suites (value sets, ranges, not null, uniqueness) are SQL counts
   of the violating rows: exact at any scale, nothing is sampled. Only when one fails, a second query
   fetches at most EXAMPLES example values (GX's partial_unexpected_list) and, for duplicates, the
   exact number of duplicated rows.
4. An expectation with no SQL translation here (none today; e.g. a regular expression) runs with GX
   on a deterministic sample of at most SAMPLE_ROWS rows (ordered by a hash of the row); its outcome
   and the summary record `sample_rows`.

So Python holds one row of aggregates, a few examples per failure, and at most the sample.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pandas as pd

from orchestration.checks.suites import HOURS_SINCE_LAST_LOAD, Expectation, Suite
from orchestration.checks.validation import (
    gx_outcomes,
    prepared_frame,
    run_time_expectations,
    summarise,
    summary_observed,
)
from orchestration.engines import Reader, SqlDialect

SAMPLE_ROWS = 100_000
EXAMPLES = 20  # GX's partial_unexpected_count in the SUMMARY result format

IN_SET = "ExpectColumnValuesToBeInSet"
BETWEEN = "ExpectColumnValuesToBeBetween"
NOT_NULL = "ExpectColumnValuesToNotBeNull"
UNIQUE = "ExpectColumnValuesToBeUnique"
COMPOUND_UNIQUE = "ExpectCompoundColumnsToBeUnique"
ROW_COUNT = "ExpectTableRowCountToBeBetween"
MEAN = "ExpectColumnMeanToBeBetween"

_BOUNDS = {"min_value", "max_value", "strict_min", "strict_max"}
# the expectations judged in SQL, with the kwargs the translation understands (others go to the sample)
SQL_KWARGS: dict[str, set[str]] = {
    IN_SET: {"column", "value_set", "mostly"},
    BETWEEN: {"column", "mostly", *_BOUNDS},
    NOT_NULL: {"column", "mostly"},
    UNIQUE: {"column", "mostly"},
    COMPOUND_UNIQUE: {"column_list", "mostly"},
    ROW_COUNT: _BOUNDS,
    MEAN: {"column", *_BOUNDS},
}



def judged_in_sql(suite: Suite, expectation: Expectation) -> bool:
    kwargs = expectation.kwargs
    if expectation.type not in SQL_KWARGS or not set(kwargs) <= SQL_KWARGS[expectation.type]:
        return False
    if kwargs.get("column") == HOURS_SINCE_LAST_LOAD and suite.loaded_at_column:
        return expectation.type == BETWEEN  # a constant column: only its range is judged from the facts
    return True


# ---- SQL text ------------------------------------------------------------------------------------


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"no SQL literal for {value!r}")
    return repr(value) if isinstance(value, int) else repr(float(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numeric_columns(suite: Suite, expectations: list[Expectation]) -> set[str]:
    """Columns compared with numbers: NaN in them is missing, as pandas has it."""
    numeric = set(suite.tracked_means)
    for e in expectations:
        bounds = (e.kwargs.get("min_value"), e.kwargs.get("max_value"))
        if e.type == MEAN or (e.type == BETWEEN and any(_is_number(b) for b in bounds)):
            numeric.add(e.kwargs["column"])
    return numeric


def _outside_sql(value: str, kwargs: dict[str, Any]) -> str:
    """The rows whose value is out of bounds (GX's bounds are inclusive unless strict)."""
    parts = []
    if kwargs.get("min_value") is not None:
        parts.append(f"{value} {'<=' if kwargs.get('strict_min') else '<'} {_literal(kwargs['min_value'])}")
    if kwargs.get("max_value") is not None:
        parts.append(f"{value} {'>=' if kwargs.get('strict_max') else '>'} {_literal(kwargs['max_value'])}")
    return " or ".join(parts) or "1 = 0"


def _not_in_set_sql(value: str, value_set: list[Any]) -> str:
    if not value_set:
        return f"{value} is not null"
    return f"{value} not in ({', '.join(_literal(v) for v in value_set)})"


def _outside(value: float, kwargs: dict[str, Any]) -> bool:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    too_low = low is not None and (value <= low if kwargs.get("strict_min") else value < low)
    too_high = high is not None and (value >= high if kwargs.get("strict_max") else value > high)
    return too_low or too_high


def _checked_values(suite: Suite, numeric: set[str], dialect: SqlDialect) -> str:
    """The suite's columns as its expectations see them: prepared as `suite.expressions` says (raw text
    trimmed, parsed), NaN missing in numeric columns."""
    expressions = suite.expressions(dialect) if suite.expressions else {}
    values = []
    for column in suite.columns:
        value = expressions.get(column, dialect.quote(column))
        if column in numeric:
            value = f"nullif({value}, cast('NaN' as {dialect.double_type}))"
        values.append(f"{value} as {dialect.quote(column)}")
    return f"select {', '.join(values) or '1 as row_present'} from ({suite.query(dialect)}) as source"


class _AggregateQuery:
    """The select list of the one aggregate query: each distinct aggregate once, as a0, a1, ..."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.aliases: dict[str, str] = {}

    def add(self, aggregate: str) -> str:
        return self.aliases.setdefault(aggregate, f"a{len(self.aliases)}")

    def sql(self) -> str:
        select = ",\n    ".join(f"{aggregate} as {alias}" for aggregate, alias in self.aliases.items())
        return f"select\n    {select}\nfrom ({self.source}) as checked"


def _plain(value: Any) -> Any:
    """A value from a result frame as plain Python (NaN, NaT and None are None)."""
    if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


# ---- GX's rules ----------------------------------------------------------------------------------


def _map_result(
    element_count: int, considered: int, unexpected: int, mostly: float, *, missing_counted: bool = True
) -> dict[str, Any]:
    """GX's column map result (expectation._format_map_output, SUMMARY): `considered` rows are the
    non-missing ones (all rows for not-null, where `missing_counted` is False)."""
    success = element_count == 0 or considered == 0 or (considered - unexpected) / considered >= mostly
    total = unexpected / element_count * 100 if element_count else None
    nonmissing = unexpected / considered * 100 if element_count and considered else None
    result: dict[str, Any] = {
        "element_count": element_count,
        "unexpected_count": unexpected,
        "unexpected_percent": nonmissing if missing_counted else total,
    }
    if missing_counted:
        missing = element_count - considered
        result["missing_count"] = missing
        result["missing_percent"] = missing / element_count * 100 if element_count else None
        result["unexpected_percent_total"] = total
        result["unexpected_percent_nonmissing"] = nonmissing
    return {"success": success, "result": result}


def _metric_result(observed: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """GX's rule for a metric between bounds (_validate_metric_value_between): no value fails."""
    success = observed is not None and not _outside(observed, kwargs)
    return {"success": success, "result": {"observed_value": observed}}


def _hours_since(timestamp: Any) -> float | None:
    if timestamp is None:
        return None
    stamp = pd.Timestamp(timestamp)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return (pd.Timestamp.now(tz="UTC").tz_localize(None) - stamp).total_seconds() / 3600


class _Judge:
    """Registers what each expectation needs in the aggregate query, then judges it from the facts
    (running a bounded follow-up query for the examples of a failure)."""

    def __init__(self, suite: Suite, reader: Reader, expectations: list[Expectation]) -> None:
        self.suite = suite
        self.reader = reader
        self.quote = reader.dialect.quote
        self.checked = _checked_values(suite, _numeric_columns(suite, expectations), reader.dialect)
        self.query = _AggregateQuery(self.checked)
        self.rows = self.query.add("count(*)")
        self.facts: dict[str, Any] = {}

    def plan(self, e: Expectation) -> Callable[[], dict[str, Any]]:
        kwargs, column = e.kwargs, e.kwargs.get("column")
        mostly = kwargs.get("mostly", 1.0)
        if e.type == ROW_COUNT:
            return lambda: _metric_result(self.count(self.rows), kwargs)
        if column == HOURS_SINCE_LAST_LOAD and self.suite.loaded_at_column:
            last_load = self.query.add(f"max({self.quote(self.suite.loaded_at_column)})")
            return lambda: self.freshness(self.facts[last_load], kwargs)
        if e.type == MEAN:
            mean = self.query.add(f"avg({self.quote(column)})")
            return lambda: _metric_result(self.number(mean), kwargs)
        if e.type == COMPOUND_UNIQUE:
            return self.plan_unique(kwargs["column_list"], mostly)
        value = self.quote(column)
        nonnull = self.query.add(f"count({value})")
        if e.type == NOT_NULL:
            return lambda: self.with_examples(self.not_null(nonnull, mostly), lambda n: [None] * n)
        if e.type == UNIQUE:
            return self.plan_unique([column], mostly)
        unexpected_where = (
            _not_in_set_sql(value, kwargs["value_set"]) if e.type == IN_SET else _outside_sql(value, kwargs)
        )
        unexpected = self.query.add(f"count(case when {unexpected_where} then 1 end)")
        return lambda: self.with_examples(
            _map_result(self.count(self.rows), self.count(nonnull), self.count(unexpected), mostly),
            lambda n: self.examples(value, unexpected_where, n),
        )

    def plan_unique(self, columns: list[str], mostly: float) -> Callable[[], dict[str, Any]]:
        """Count vs count distinct of the rows not entirely missing (GX ignores those); on duplicates,
        a group-by query counts the duplicated rows exactly (GX counts every row of a duplicate)."""
        values = [self.quote(c) for c in columns]
        present = " or ".join(f"{v} is not null" for v in values)
        key = values[0] if len(values) == 1 else f"({', '.join(values)})"
        considered = self.query.add(f"count(case when {present} then 1 end)")
        distinct = self.query.add(f"count(distinct case when {present} then {key} end)")

        def judge() -> dict[str, Any]:
            rows, kept = self.count(self.rows), self.count(considered)
            if kept == self.count(distinct):
                return _map_result(rows, kept, 0, mostly)
            unexpected, examples = self.duplicates(columns, values, present)
            outcome = _map_result(rows, kept, unexpected, mostly)
            outcome["result"]["partial_unexpected_list"] = examples
            return outcome

        return judge

    def not_null(self, nonnull: str, mostly: float) -> dict[str, Any]:
        """GX judges not-null over every row, and reports no missing count."""
        rows = self.count(self.rows)
        return _map_result(rows, rows, rows - self.count(nonnull), mostly, missing_counted=False)

    def freshness(self, last_load: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The hours since the last load, a value every row has (none without rows or load times)."""
        rows = self.count(self.rows)
        hours = _hours_since(last_load) if rows else None
        present = rows if hours is not None else 0
        unexpected = present if hours is not None and _outside(hours, kwargs) else 0
        outcome = _map_result(rows, present, unexpected, kwargs.get("mostly", 1.0))
        return self.with_examples(outcome, lambda n: [hours] * n)

    # -- facts and follow-ups

    def count(self, alias: str) -> int:
        return int(self.facts[alias] or 0)

    def number(self, alias: str) -> float | None:
        value = self.facts[alias]
        return None if value is None else float(value)

    def with_examples(self, outcome: dict[str, Any], examples: Callable[[int], list[Any]]) -> dict[str, Any]:
        if not outcome["success"]:
            outcome["result"]["partial_unexpected_list"] = examples(
                min(EXAMPLES, outcome["result"]["unexpected_count"])
            )
        return outcome

    def examples(self, value: str, where: str, limit: int) -> list[Any]:
        frame = self.reader.query(
            f"select {value} as value from ({self.checked}) as checked where {where} limit {limit}"
        )
        return [_plain(v) for v in frame["value"]]

    def duplicates(self, columns: list[str], values: list[str], present: str) -> tuple[int, list[Any]]:
        keys = ", ".join(f"{v} as k{i}" for i, v in enumerate(values))
        positions = ", ".join(str(i + 1) for i in range(len(values)))
        frame = self.reader.query(
            f"select {keys}, count(*) as n, sum(count(*)) over () as duplicated_rows "
            f"from ({self.checked}) as checked where {present} "
            f"group by {positions} having count(*) > 1 limit {EXAMPLES}"
        )
        if frame.empty:
            return 0, []
        examples: list[Any] = []
        for row in frame.itertuples(index=False):
            key = [_plain(getattr(row, f"k{i}")) for i in range(len(values))]
            example = key[0] if len(key) == 1 else dict(zip(columns, key, strict=True))
            examples += [example] * int(row.n)
        return int(frame["duplicated_rows"].iloc[0]), examples[:EXAMPLES]

    def run(self) -> str:
        """Runs the aggregate query (once every expectation is planned); returns its text."""
        sql = self.query.sql()
        row = self.reader.query(sql).iloc[0]
        self.facts = {alias: _plain(row[alias]) for alias in self.query.aliases.values()}
        return sql


def _result_item(expectation: Expectation, outcome: dict[str, Any]) -> dict[str, Any]:
    """One result in GX's validation-result shape."""
    return {
        "success": outcome["success"],
        "expectation_config": {
            "type": re.sub(r"(?<!^)(?=[A-Z])", "_", expectation.type).lower(),  # GX's snake-case name
            "kwargs": expectation.kwargs,
            "meta": {"severity": expectation.severity, "why": expectation.why},
        },
        "result": outcome["result"],
    }


def _outcome(item: dict[str, Any]) -> dict[str, Any]:
    """What the summary keeps of a result (as validation.gx_outcomes)."""
    config = item["expectation_config"]
    return {
        "type": config["type"],
        "kwargs": config["kwargs"],
        "severity": config["meta"]["severity"],
        "why": config["meta"]["why"],
        "success": item["success"],
        "observed": summary_observed(item["result"]),
    }


def _sample(suite: Suite, reader: Reader, expectations: list[Expectation]) -> tuple[list[dict], dict, int]:
    """GX on at most SAMPLE_ROWS rows, the same rows every time for the same data."""
    columns = ", ".join(reader.dialect.quote(c) for c in suite.columns or ("row_present",))
    source = suite.query(reader.dialect)
    frame = reader.query(
        f"select * from ({source}) as checked order by md5(concat_ws('|', {columns})) limit {int(SAMPLE_ROWS)}"
    )
    outcomes, full = gx_outcomes(suite, prepared_frame(suite, frame), expectations)
    for outcome in outcomes:
        outcome["sample_rows"] = len(frame)
    return outcomes, full, len(frame)


def validate_in_warehouse(
    suite: Suite, reader: Reader, previous: dict[str, Any] | None = None, run_id: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(summary, full result) of the suite on its relation, like validation.validate on a frame of it:
    the full result has GX's validation-result shape, plus the aggregate query and the sample size."""
    expectations = [*suite.expectations, *run_time_expectations(suite, previous)]
    in_sql = [e for e in expectations if judged_in_sql(suite, e)]
    sampled = [e for e in expectations if not judged_in_sql(suite, e)]
    judge = _Judge(suite, reader, expectations)
    planned = [(e, judge.plan(e)) for e in in_sql]
    means = {column: judge.query.add(f"avg({judge.quote(column)})") for column in suite.tracked_means}
    aggregate_sql = judge.run()
    results = [_result_item(expectation, judged()) for expectation, judged in planned]
    outcomes = [_outcome(item) for item in results]
    sample_rows = None
    if sampled:
        sampled_outcomes, sampled_full, sample_rows = _sample(suite, reader, sampled)
        outcomes += sampled_outcomes
        results += sampled_full["results"]

    successful = sum(r["success"] for r in results)
    full = {
        "success": successful == len(results),
        "results": results,
        "statistics": {
            "evaluated_expectations": len(results),
            "successful_expectations": successful,
            "unsuccessful_expectations": len(results) - successful,
            "success_percent": successful / len(results) * 100 if results else None,
        },
        "meta": {"validated_in": "warehouse", "aggregate_query": aggregate_sql, "sample_rows": sample_rows},
    }
    summary_means = {column: judge.number(alias) for column, alias in means.items()}
    row_count = judge.count(judge.rows)
    return summarise(suite, outcomes, row_count, summary_means, run_id, sample_rows), full
