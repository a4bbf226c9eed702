"""The expectation suites, as code: one per raw table, one for the rejected rows, one per mart.

A suite names the columns it needs (only those are read from the warehouse), how to prepare them
(raw columns are text: trimmed and parsed as staging does, unparseable ones become missing; once in
pandas for a frame, once in SQL for the warehouse, see `expressions`), and its expectations, each with
a severity: `error` fails the check with ERROR severity (blocking on marts: nothing is
published), `warn` only flags. Thresholds that compare with the previous run (row counts, means) are
filled in at validation time from the previous result (validation.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from orchestration.contract import ENUMS, REJECTION_REASONS
from orchestration.engines import SqlDialect

ERROR = "error"
WARN = "warn"

# DOMAIN.md §3 tolerates some bad source rows: a reason above 2% of a table's rows is worth a look
MAX_REJECTED_SHARE_PER_REASON = 0.02
# raw data older than this (hours since the last file was loaded) is stale for a daily pipeline
MAX_HOURS_SINCE_LOAD = 36.0
# a mart losing more than half its rows, or an amount's mean moving by more than half, between runs
MAX_RELATIVE_CHANGE = 0.5
# source rows are dirty by design: enum and number expectations on raw text hold for most rows
RAW_MOSTLY = 0.95
# the numbers staging accepts (macros/staging/staging_parsing.sql, staging_number_pattern)
NUMBER_PATTERN = "^[+-]?([0-9]{1,15}([.][0-9]*)?|[.][0-9]+)$"
# a column computed from the last load time, the same for every row (freshness of a raw table)
HOURS_SINCE_LAST_LOAD = "hours_since_last_load"


@dataclass(frozen=True)
class Expectation:
    type: str  # GX expectation class name, e.g. ExpectColumnValuesToBeInSet
    kwargs: dict[str, Any]
    severity: str = ERROR
    why: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "kwargs": self.kwargs, "severity": self.severity, "why": self.why}


@dataclass(frozen=True)
class Suite:
    name: str
    relation: str  # schema.table
    columns: tuple[str, ...]  # pulled from the relation ('*' never: only what the suite reads)
    expectations: tuple[Expectation, ...]
    # row counts vs the previous run: 'never_shrinks' (raw tables only grow) or 'max_drop'
    row_count_policy: str = "max_drop"
    row_count_severity: str = WARN
    min_rows: int = 0  # at least this many rows (error when > 0)
    tracked_means: tuple[str, ...] = ()  # amounts whose mean is compared with the previous run (warn)
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = field(default=None, compare=False)
    # the same preparation in SQL, for validation in the warehouse: column -> expression over query(),
    # spelled for the engine's dialect
    expressions: Callable[[SqlDialect], dict[str, str]] | None = field(default=None, compare=False)
    loaded_at_column: str | None = None  # its latest value gives HOURS_SINCE_LAST_LOAD
    blocking: bool = False  # an error here blocks publishing (marts)
    sql: Callable[[SqlDialect], str] | None = None  # a query instead of `select <columns> from <relation>`

    def query(self, dialect: SqlDialect) -> str:
        if self.sql:
            return self.sql(dialect)
        return f"select {', '.join(self.columns) or '1 as row_present'} from {self.relation}"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "relation": self.relation,
            "columns": list(self.columns),
            "row_count_policy": self.row_count_policy,
            "min_rows": self.min_rows,
            "tracked_means": list(self.tracked_means),
            "blocking": self.blocking,
            "expectations": [e.as_json() for e in self.expectations],
        }


def _in_set(
    column: str, values: tuple[str, ...] | list[str], *, severity: str = ERROR, mostly: float = 1.0, why: str = ""
) -> Expectation:
    kwargs: dict[str, Any] = {"column": column, "value_set": list(values)}
    if mostly < 1.0:
        kwargs["mostly"] = mostly
    return Expectation("ExpectColumnValuesToBeInSet", kwargs, severity, why)


def _between(
    column: str, low: float | None, high: float | None, *, severity: str = ERROR, mostly: float = 1.0, why: str = ""
) -> Expectation:
    kwargs: dict[str, Any] = {"column": column, "min_value": low, "max_value": high}
    if mostly < 1.0:
        kwargs["mostly"] = mostly
    return Expectation("ExpectColumnValuesToBeBetween", kwargs, severity, why)


def _not_null(column: str, *, severity: str = ERROR, mostly: float = 1.0, why: str = "") -> Expectation:
    kwargs: dict[str, Any] = {"column": column}
    if mostly < 1.0:
        kwargs["mostly"] = mostly
    return Expectation("ExpectColumnValuesToNotBeNull", kwargs, severity, why)


def _unique(columns: tuple[str, ...], why: str = "primary key") -> Expectation:
    if len(columns) == 1:
        return Expectation("ExpectColumnValuesToBeUnique", {"column": columns[0]}, ERROR, why)
    return Expectation("ExpectCompoundColumnsToBeUnique", {"column_list": list(columns)}, ERROR, why)


# ---- raw tables (text) ---------------------------------------------------------------------------


def _normalise(enums: tuple[str, ...], numbers: tuple[str, ...]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """As staging does: text trimmed of spaces, blank is missing, enums lower-cased, numbers parsed when
    they match NUMBER_PATTERN (otherwise missing); and the hours since the last load (freshness).
    `_raw_expressions` is the same in SQL."""

    def prepare(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        for column in (*enums, *numbers):
            out[column] = out[column].astype("string").str.strip(" ").replace("", pd.NA)
        for column in enums:
            out[column] = out[column].str.lower()
        for column in numbers:
            text = out[column]
            parseable = text.str.fullmatch(NUMBER_PATTERN).fillna(False).astype(bool)
            out[column] = pd.to_numeric(text.where(parseable), errors="coerce").astype("float64")
        loaded = pd.to_datetime(out.pop("_loaded_at"))
        hours = (pd.Timestamp.now(tz="UTC").tz_localize(None) - loaded.max()).total_seconds() / 3600
        out[HOURS_SINCE_LAST_LOAD] = hours if len(out) else None
        return out

    return prepare


def _raw_expressions(enums: tuple[str, ...], numbers: tuple[str, ...]) -> Callable[[SqlDialect], dict[str, str]]:
    """`_normalise` in SQL. The cast only ever sees text that matched the pattern (or null), so it cannot
    fail whatever order the engine evaluates things in."""

    def expressions(dialect: SqlDialect) -> dict[str, str]:
        text = {c: f"nullif(trim({dialect.quote(c)}), '')" for c in (*enums, *numbers)}
        spelled = {c: f"lower({text[c]})" for c in enums}
        for c in numbers:
            number = dialect.matches(text[c], NUMBER_PATTERN)
            spelled[c] = f"cast(case when {number} then {text[c]} end as {dialect.double_type})"
        return spelled

    return expressions


def _raw_suite(
    table: str,
    id_column: str | None,
    numbers: dict[str, tuple[float | None, float | None]],
    extra: tuple[Expectation, ...] = (),
) -> Suite:
    enums = ENUMS.get(table, {})
    expectations: list[Expectation] = [
        _in_set(c, v, severity=WARN, mostly=RAW_MOSTLY, why="enum after normalisation") for c, v in enums.items()
    ]
    if id_column:
        expectations.append(
            _not_null(id_column, severity=WARN, mostly=RAW_MOSTLY, why="rows without an id are rejected")
        )
    for column, (low, high) in numbers.items():
        expectations.append(_between(column, low, high, severity=WARN, mostly=RAW_MOSTLY, why="amount range"))
    expectations.append(
        _between(HOURS_SINCE_LAST_LOAD, None, MAX_HOURS_SINCE_LOAD, severity=WARN, why="freshness of the last load")
    )
    columns = tuple(dict.fromkeys([*(c for c in [id_column] if c), *enums, *numbers, "_loaded_at"]))
    return Suite(
        name=f"raw_{table}",
        relation=f"raw.{table}",
        columns=columns,
        expectations=(*expectations, *extra),
        row_count_policy="never_shrinks",
        row_count_severity=ERROR,
        tracked_means=tuple(numbers),
        prepare=_normalise(tuple(enums), tuple(numbers)),
        expressions=_raw_expressions(tuple(enums), tuple(numbers)),
        loaded_at_column="_loaded_at",
    )


def raw_suites() -> list[Suite]:
    return [
        _raw_suite("customers", "customer_id", {}),
        _raw_suite(
            "orders", "order_id", {"gross_amount": (0, None), "discount_amount": (0, None), "cost_amount": (0, None)}
        ),
        _raw_suite("calls", "call_id", {"duration_seconds": (0, None), "satisfaction_score": (1, 5)}),
        _raw_suite("complaints", "complaint_id", {"compensation_amount": (0, None), "satisfaction_score": (1, 5)}),
        _raw_suite("marketing_spend", None, {"spend_amount": (0, None)}),
    ]


def _rejected_share_sql(dialect: SqlDialect) -> str:
    return f"""
with rejected as (
    select table_name, rejection_reason, count(*) as rejected_rows
    from staging.stg_crm__rejected_rows
    group by table_name, rejection_reason
),

reconciled as (
    select table_name, raw_rows from staging.stg_crm__row_reconciliation
)

select
    rejected.table_name,
    rejected.rejection_reason,
    rejected.rejected_rows,
    reconciled.raw_rows,
    cast(rejected.rejected_rows as {dialect.double_type}) / nullif(reconciled.raw_rows, 0) as rejected_share
from rejected
inner join reconciled on rejected.table_name = reconciled.table_name
"""


def rejected_rows_suite() -> Suite:
    """Rejected-row share per table and reason (stg_crm__rejected_rows over the raw row counts)."""
    return Suite(
        name="rejected_rows_by_reason",
        relation="staging.stg_crm__rejected_rows",
        columns=("table_name", "rejection_reason", "rejected_rows", "raw_rows", "rejected_share"),
        expectations=(
            _in_set("rejection_reason", REJECTION_REASONS, why="reason codes of DOMAIN.md §3"),
            _between(
                "rejected_share",
                0,
                MAX_REJECTED_SHARE_PER_REASON,
                severity=WARN,
                why="share of a table's raw rows per reason",
            ),
        ),
        row_count_policy="none",
        sql=_rejected_share_sql,
    )


# ---- marts ---------------------------------------------------------------------------------------

STAGE_CODES = "stage_codes"  # filled from reference.lifecycle_framework_labels (the seed is the one place)
TIER_CODES = "tier_codes"  # filled from reference.value_tier_labels


@dataclass(frozen=True)
class MartSpec:
    keys: tuple[str, ...] = ()
    not_null: tuple[str, ...] = ()
    stage_columns: tuple[str, ...] = ()
    tier_columns: tuple[str, ...] = ()
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    amounts: tuple[str, ...] = ()  # mean tracked against the previous run
    min_rows: int = 0
    # column -> dbt var: the column stays within plus or minus the var's value, or the suite warns
    warn_within: dict[str, str] = field(default_factory=dict)


MART_SPECS: dict[str, MartSpec] = {
    "dim_customers": MartSpec(
        keys=("customer_id",),
        not_null=("stage_code", "created_date"),
        stage_columns=("stage_code",),
        tier_columns=("value_tier",),
        ranges={"days_since_last_order": (0, None), "net_spend_to_date_amount": (0, None)},
        amounts=("net_spend_to_date_amount",),
        min_rows=1,
    ),
    "fct_customer_lifecycle_monthly": MartSpec(
        keys=("customer_id", "month_start_date"),
        not_null=("stage_code",),
        stage_columns=("stage_code", "previous_stage_code"),
        ranges={"months_in_stage": (1, None), "net_spend_amount": (0, None)},
        amounts=("net_spend_amount",),
        min_rows=1,
    ),
    "fct_customer_clv": MartSpec(
        keys=("customer_id",),
        ranges={"p_alive": (0, 1), "expected_purchases": (0, None)},
        amounts=("lifetime_profit", "historical_clv", "total_clv"),
        min_rows=1,
    ),
    "fct_customer_value_tiers": MartSpec(
        keys=("customer_id",), tier_columns=("value_tier", "predicted_value_tier"), min_rows=1
    ),
    "fct_early_warning": MartSpec(
        keys=("customer_id",), stage_columns=("stage_code",), ranges={"risk_score": (0, 100), "p_alive": (0, 1)}
    ),
    "fct_call_list": MartSpec(
        keys=("call_date", "customer_id"), ranges={"risk_score": (0, 100), "call_rank": (1, None)}
    ),
    "fct_lifecycle_transitions": MartSpec(
        keys=("transition_key",), stage_columns=("to_stage_code",), ranges={"customers": (1, None)}
    ),
    "fct_stage_durations": MartSpec(
        keys=("stage_spell_key",), stage_columns=("stage_code",), ranges={"months_in_spell": (1, None)}
    ),
    "fct_stage_duration_summary": MartSpec(keys=("stage_code",), stage_columns=("stage_code",)),
    "fct_stage_tier_counts": MartSpec(keys=("stage_tier_key",), ranges={"customers": (0, None)}),
    "fct_value_pareto": MartSpec(
        keys=("customer_id",),
        ranges={"cumulative_customer_share": (0, 1), "cumulative_clv_share": (None, None)},
    ),
    "fct_value_tier_summary": MartSpec(ranges={"customer_share": (0, 1), "customers": (0, None)}),
    "fct_value_tiers_monthly": MartSpec(keys=("customer_id", "month_start_date"), tier_columns=("value_tier",)),
    "fct_acquisition_costs": MartSpec(
        keys=("acquisition_channel", "month_start_date"),
        ranges={"spend_amount": (0, None), "customers_acquired": (0, None)},
        amounts=("spend_amount",),
    ),
    "fct_churn_analysis": MartSpec(keys=("churn_event_id",), ranges={"tenure_days_at_churn": (0, None)}),
    "fct_cohort_retention": MartSpec(
        keys=("cohort_month_id",), ranges={"purchasing_share": (0, 1), "active_share": (0, 1)}
    ),
    "fct_cohort_survival": MartSpec(keys=("survival_point_id",), ranges={"survival_probability": (0, 1)}),
    "fct_customer_kpi_monthly": MartSpec(keys=("customer_month_id",), stage_columns=("stage_code",), min_rows=1),
    "kpi_monthly": MartSpec(
        keys=("kpi_month_id",),
        ranges={"retention_rate": (0, 1), "churn_rate": (0, 1), "repeat_purchase_rate": (0, 1)},
        min_rows=1,
    ),
    "metricflow_time_spine": MartSpec(keys=("date_day",), min_rows=1),
    "fct_clv_holdout_customers": MartSpec(
        keys=("customer_id",),
        ranges={"predicted_holdout_purchases": (0, None), "actual_holdout_purchases": (0, None)},
    ),
    "fct_clv_holdout_by_frequency": MartSpec(keys=("frequency_bin_order",), ranges={"customers": (1, None)}),
    "fct_clv_holdout_tracking": MartSpec(keys=("week_end_date",)),
    "fct_clv_holdout_summary": MartSpec(
        not_null=("status",),
        min_rows=1,
        warn_within={"purchases_relative_error": "clv_holdout_max_error"},
    ),
}


def mart_suite(model: str, codes: dict[str, list[str]], vars_: dict[str, Any] | None = None) -> Suite:
    """The suite of a mart; `codes` holds the stage and tier codes read from the seeds, `vars_` the dbt vars
    (the limits of `warn_within`)."""
    spec = MART_SPECS.get(model, MartSpec())
    expectations: list[Expectation] = []
    if spec.keys:
        expectations.append(_unique(spec.keys))
        expectations += [_not_null(k, why="primary key") for k in spec.keys]
    expectations += [_not_null(c) for c in spec.not_null]
    # a stage or tier code missing from its seed has no label: an error, as the BI shows blanks
    expectations += [
        _in_set(c, codes[STAGE_CODES], why="stage codes of the lifecycle framework seed") for c in spec.stage_columns
    ]
    expectations += [_in_set(c, codes[TIER_CODES], why="tiers of the value tier seed") for c in spec.tier_columns]
    expectations += [
        _between(c, low, high, why="range")
        for c, (low, high) in spec.ranges.items()
        if low is not None or high is not None
    ]
    for column, var_name in spec.warn_within.items():
        if vars_ is None or var_name not in vars_:
            raise ValueError(f"the suite of {model} needs dbt var {var_name!r}")
        limit = float(vars_[var_name])
        expectations.append(_between(column, -limit, limit, severity=WARN, why=f"within var {var_name}"))
    columns = tuple(
        dict.fromkeys(
            [
                *spec.keys,
                *spec.not_null,
                *spec.stage_columns,
                *spec.tier_columns,
                *spec.ranges,
                *spec.amounts,
                *spec.warn_within,
            ]
        )
    )
    return Suite(
        name=f"mart_{model}",
        relation=f"marts.{model}",
        columns=columns,
        expectations=tuple(expectations),
        row_count_policy="max_drop",
        row_count_severity=WARN,
        min_rows=spec.min_rows,
        tracked_means=spec.amounts,
        blocking=True,
    )
