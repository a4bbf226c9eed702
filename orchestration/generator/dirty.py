"""Dirty-data injection: extra bad rows, one mutation each, with the reason staging must reject them for.

Every injected row is a copy of a clean *current* row with a NEW id and exactly one mutation that
triggers its reason and none that comes earlier in contract.REJECTION_REASONS' order of checks, so
the clean data stays intact. The exception is `duplicate_id_same_updated_at`: an exact copy (same id,
same updated_at) of a clean current row, placed in the next day's file when that file exists (half
of them), otherwise later in the same file. Staging keeps the later physical row (ranking updated_at
desc, file_name desc, file_row_number desc), so the row it rejects, and the one listed in bad_rows.csv, is the *earlier*
physical row; its content is identical to the one kept, so every clean value is still staged.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from orchestration.contract import RAW_TABLES, REJECTION_REASONS
from orchestration.generator import constants as k
from orchestration.generator.batch import RawBatch

# which reasons can apply to which table (DOMAIN.md §3)
APPLICABLE_REASONS: dict[str, tuple[str, ...]] = {
    "customers": (
        "missing_required_value", "unparseable_timestamp", "duplicate_id_same_updated_at",
        "invalid_enum_value", "timestamp_in_future",
    ),
    "orders": (
        "missing_required_value", "unparseable_timestamp", "unparseable_number",
        "duplicate_id_same_updated_at", "invalid_enum_value", "negative_amount", "discount_above_gross",
        "cost_above_gross", "timestamp_in_future", "unknown_customer", "before_customer_created",
    ),
    "calls": (
        "missing_required_value", "unparseable_timestamp", "unparseable_number",
        "duplicate_id_same_updated_at", "invalid_enum_value", "negative_amount",
        "satisfaction_out_of_range", "timestamp_in_future", "unknown_customer", "before_customer_created",
    ),
    "complaints": (
        "missing_required_value", "unparseable_timestamp", "unparseable_number",
        "duplicate_id_same_updated_at", "invalid_enum_value", "negative_amount",
        "satisfaction_out_of_range", "timestamp_in_future", "resolved_before_opened", "unknown_customer",
        "before_customer_created",
    ),
    "marketing_spend": (
        "missing_required_value", "unparseable_timestamp", "unparseable_number",
        "duplicate_id_same_updated_at", "negative_amount",
    ),
}
assert all(set(v) <= set(REJECTION_REASONS) for v in APPLICABLE_REASONS.values())

MAIN_TIMESTAMP = {"customers": "created_at", "orders": "ordered_at", "calls": "started_at", "complaints": "opened_at"}
ENUM_COLUMNS = {
    "customers": (("customer_type", ("vip", "Government ", "PERSONAL")),),
    "orders": (("status", ("pending", "SHIPPED", " refunded ")),),
    "calls": (("direction", ("internal", "BOTH")), ("purpose", ("marketing", "Complaint "))),
    "complaints": (("severity", ("urgent", "Minor ", "BLOCKER")),),
}
AMOUNT_COLUMNS = {
    "orders": ("gross_amount", "discount_amount", "cost_amount"),
    "calls": ("duration_seconds",),
    "complaints": ("compensation_amount",),
    "marketing_spend": ("spend_amount",),
}
NUMBER_COLUMNS = {
    "orders": ("gross_amount", "discount_amount", "cost_amount"),
    "calls": ("duration_seconds", "satisfaction_score"),
    "complaints": ("compensation_amount", "satisfaction_score"),
    "marketing_spend": ("spend_amount",),
}
BAD_TIMESTAMPS = ("n/a", "2024-13-05 10:00:00", "2024-02-30 10:00:00", "not a time", "2024-06-31T08:00:00")
BAD_NUMBERS = ("12.3.4", "abc", "--5", "7 yuan", "1O0.00")
ID_PREFIX = {"customers": ("C", 7), "orders": ("O", 9), "calls": ("K", 9), "complaints": ("P", 8)}
UNKNOWN_CUSTOMER_BASE = 9_999_999  # 'C9999999' downwards: never a generated customer at scale <= 50


def local_seconds(texts: pd.Series) -> np.ndarray:
    """Business-local seconds of generator-written timestamps (any of the spellings we write)."""
    text = texts.fillna("").astype(str)
    base = pd.to_datetime(text.str.slice(0, 19).str.replace("T", " "), format="%Y-%m-%d %H:%M:%S", errors="coerce")
    secs = (base - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    utc = text.str.endswith("Z").to_numpy()
    return secs.to_numpy(dtype=float) + np.where(utc, k.BUSINESS_UTC_OFFSET_SECONDS, 0)


def _plain(secs: np.ndarray) -> list[str]:
    stamps = pd.to_datetime(np.asarray(secs, dtype=np.int64), unit="s")
    return list(stamps.strftime("%Y-%m-%d %H:%M:%S"))


def _money(values: np.ndarray) -> list[str]:
    return [f"{v:.2f}" for v in np.asarray(values, dtype=float)]


def _cycle(options: tuple[str, ...], size: int) -> list[str]:
    return [options[i % len(options)] for i in range(size)]


class Injector:
    """Builds the bad rows of one table; `created_s[customer number - 1]` is each customer's creation."""

    def __init__(self, rng: np.random.Generator, batch: RawBatch, created_s: np.ndarray, first_month: int):
        self.rng = rng
        self.batch = batch
        self.table = batch.table
        self.created_s = created_s
        self.first_month = first_month
        self.spec = RAW_TABLES[batch.table]
        self.next_number = int(batch.is_current.sum()) + 1  # clean ids are 1..n in every table
        self.next_unknown = UNKNOWN_CUSTOMER_BASE
        self.next_month_back = 1

    # -- helpers -------------------------------------------------------------------------------------
    def _new_keys(self, df: pd.DataFrame) -> None:
        if self.table == "marketing_spend":
            months = np.arange(self.next_month_back, self.next_month_back + len(df))
            self.next_month_back += len(df)
            df["month"] = [str(np.datetime64(self.first_month - int(m), "M")) for m in months]
            return
        prefix, width = ID_PREFIX[self.table]
        numbers = np.arange(self.next_number, self.next_number + len(df))
        self.next_number += len(df)
        df[self.spec.id_column] = [f"{prefix}{n:0{width}d}" for n in numbers]

    def _choose_column(self, options: tuple[str, ...], size: int) -> np.ndarray:
        return np.asarray(options, dtype=object)[self.rng.integers(0, len(options), size)]

    def _set_per_row(self, df: pd.DataFrame, columns: np.ndarray, values: list[str | None]) -> None:
        for column in np.unique(columns):  # a handful of columns per table
            mask = columns == column
            df.loc[mask, column] = [v for v, m in zip(values, mask, strict=True) if m]

    # -- mutations: each makes exactly its reason the first that applies -----------------------------
    def missing_required_value(self, df: pd.DataFrame) -> None:
        required = self.spec.required
        blank_id = np.arange(len(df)) % 2 == 0
        key_columns = ("channel", "month") if self.table == "marketing_spend" else (self.spec.id_column,)
        others = tuple(c for c in required if c not in key_columns)
        columns = np.where(
            blank_id, self._choose_column(key_columns, len(df)), self._choose_column(others, len(df))
        )
        self._set_per_row(df, columns, [None] * len(df))

    def unparseable_timestamp(self, df: pd.DataFrame) -> None:
        main = MAIN_TIMESTAMP.get(self.table)
        options = ("updated_at",) if main is None else (main, "updated_at")
        columns = self._choose_column(options, len(df))
        self._set_per_row(df, columns, _cycle(BAD_TIMESTAMPS, len(df)))

    def unparseable_number(self, df: pd.DataFrame) -> None:
        columns = self._choose_column(NUMBER_COLUMNS[self.table], len(df))
        self._set_per_row(df, columns, _cycle(BAD_NUMBERS, len(df)))

    def invalid_enum_value(self, df: pd.DataFrame) -> None:
        choices = ENUM_COLUMNS[self.table]
        pick = self.rng.integers(0, len(choices), len(df))
        for i, (column, values) in enumerate(choices):
            mask = pick == i
            df.loc[mask, column] = _cycle(values, int(mask.sum()))

    def negative_amount(self, df: pd.DataFrame) -> None:
        columns = self._choose_column(AMOUNT_COLUMNS[self.table], len(df))
        if self.table == "calls":
            values = [f"-{v}" for v in self.rng.integers(1, 600, len(df))]
        else:
            values = [f"-{v}" for v in _money(self.rng.uniform(1, 500, len(df)))]
        self._set_per_row(df, columns, values)

    def discount_above_gross(self, df: pd.DataFrame) -> None:
        gross = pd.to_numeric(df["gross_amount"]).to_numpy()
        df["discount_amount"] = _money(gross + self.rng.uniform(1, 50, len(df)))

    def cost_above_gross(self, df: pd.DataFrame) -> None:
        gross = pd.to_numeric(df["gross_amount"]).to_numpy()
        df["cost_amount"] = _money(gross * 1.2 + 1)

    def satisfaction_out_of_range(self, df: pd.DataFrame) -> None:
        df["satisfaction_score"] = _cycle(("0", "6", "9", "10"), len(df))

    def timestamp_in_future(self, df: pd.DataFrame) -> None:
        start = (np.datetime64("2031-01-01") - np.datetime64("1970-01-01")).astype(np.int64)
        days = start + self.rng.integers(0, 5 * 365, len(df))
        df[MAIN_TIMESTAMP[self.table]] = _plain(days * k.SECONDS_PER_DAY + self.rng.integers(8, 22, len(df)) * 3600)

    def resolved_before_opened(self, df: pd.DataFrame) -> None:
        opened = local_seconds(df["opened_at"])
        df["resolved_at"] = _plain(opened - self.rng.integers(3600, 3 * k.SECONDS_PER_DAY, len(df)))

    def unknown_customer(self, df: pd.DataFrame) -> None:
        numbers = np.arange(self.next_unknown, self.next_unknown - len(df), -1)
        self.next_unknown -= len(df)
        df["customer_id"] = [f"C{n:07d}" for n in numbers]

    def before_customer_created(self, df: pd.DataFrame) -> None:
        number = df["customer_id"].str.slice(1).astype(int).to_numpy()
        created = self.created_s[number - 1]
        df[MAIN_TIMESTAMP[self.table]] = _plain(created - self.rng.integers(3600, 30 * k.SECONDS_PER_DAY, len(df)))

    # -- sources ---------------------------------------------------------------------------------------
    def eligible(self, reason: str) -> np.ndarray:
        """Clean current rows a reason's copy may start from."""
        data = self.batch.data
        ok = self.batch.is_current & (self.batch.bad_reason == "")
        if reason == "duplicate_id_same_updated_at":
            ok &= data.column("updated_at").is_valid().to_numpy(zero_copy_only=False)
        if reason == "cost_above_gross":
            status = data.column("status").to_pandas().str.strip().str.lower()
            ok &= (status == "completed").to_numpy()
        if self.table == "calls" and reason in ("unknown_customer", "before_customer_created"):
            ok &= data.column("customer_id").is_valid().to_numpy(zero_copy_only=False)
        return np.flatnonzero(ok)


def _reason_counts(rng: np.random.Generator, reasons: tuple[str, ...], n_rows: int, rate: float) -> list[str]:
    n_bad = int(round(rate * n_rows))
    n_bad = max(n_bad, len(reasons)) if n_rows >= 2 * len(reasons) else n_bad
    extra = rng.choice(len(reasons), size=max(n_bad - len(reasons), 0))
    picked = list(range(min(n_bad, len(reasons)))) + list(extra)
    return [reasons[i] for i in picked]


def inject(
    rng: np.random.Generator, batch: RawBatch, rate: float, created_s: np.ndarray, first_month: int, last_key: int
) -> RawBatch:
    """The batch with bad rows appended (and duplicate originals marked); unchanged when rate is 0."""
    if rate <= 0:
        return batch
    injector = Injector(rng, batch, created_s, first_month)
    reasons = _reason_counts(rng, APPLICABLE_REASONS[batch.table], batch.data.num_rows, rate)
    parts: list[pa.Table] = []
    file_keys, sort_keys, bad = [], [], []
    is_current = batch.is_current.copy()
    bad_reason = batch.bad_reason.copy()
    used = np.zeros(batch.data.num_rows, bool)  # each clean row is the source of at most one bad row
    for reason in dict.fromkeys(reasons):
        count = reasons.count(reason)
        pool = injector.eligible(reason)
        pool = pool[~used[pool]]
        if pool.size == 0:
            continue
        src = np.sort(rng.choice(pool, size=min(count, pool.size), replace=False))
        used[src] = True
        df = batch.data.take(pa.array(src)).to_pandas().astype(object)
        df = df.where(df.notna(), None)
        keys = batch.file_key[src].copy()
        if reason == "duplicate_id_same_updated_at":
            # the next day's file only when it exists anyway: a file holding just the copy would be
            # byte-identical to a one-row original file and be skipped by ingest as a duplicate file
            later_file = (np.arange(src.size) % 2 == 0) & (keys < last_key) & np.isin(keys + 1, batch.file_key)
            keys = np.where(later_file, keys + 1, keys)
            is_current[src] = False
            bad_reason[src] = reason
            bad.extend([""] * src.size)
        else:
            injector._new_keys(df)
            mutate: Callable[[pd.DataFrame], None] = getattr(injector, reason)
            mutate(df)
            bad.extend([reason] * src.size)
        parts.append(pa.Table.from_pandas(df, schema=batch.data.schema, preserve_index=False))
        file_keys.append(keys)
        sort_keys.append(batch.sort_key[src])
    if not parts:
        return batch
    extra = pa.concat_tables(parts)
    return RawBatch(
        table=batch.table,
        data=pa.concat_tables([batch.data, extra]).combine_chunks(),
        file_key=np.concatenate([batch.file_key, *file_keys]),
        sort_key=np.concatenate([batch.sort_key, *sort_keys]),
        is_current=np.concatenate([is_current, np.ones(extra.num_rows, bool)]),
        bad_reason=np.concatenate([bad_reason, np.asarray(bad, dtype=object)]),
    )

