"""The demo-data generator, checked from the outside: its files are read back with plain CSV/pandas
and the truth is verified against an independent re-implementation of the staging rules (DOMAIN.md §3
and the brief's ranking), not by re-running the generator's own code paths."""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orchestration.contract import ENUMS, RAW_TABLES, REJECTION_REASONS
from orchestration.generate import generate, main

START, END = "2023-11-01", "2026-10-31"
DAILY_NAME = re.compile(r"^(?P<table>[a-z_]+)_(?P<day>\d{4}-\d{2}-\d{2})(?P<suffix>_resent)?\.(csv|parquet)$")
MONTHLY_NAME = re.compile(r"^marketing_spend_(?P<month>\d{4}-\d{2})\.(csv|parquet)$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(Z|\+08:00)?$")
NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")

# what each table must contain when dirty > 0 (written out here, not imported from the generator)
EXPECTED_REASONS = {
    "customers": {
        "missing_required_value", "unparseable_timestamp", "duplicate_id_same_updated_at",
        "invalid_enum_value", "timestamp_in_future",
    },
    "orders": set(REJECTION_REASONS) - {"satisfaction_out_of_range", "resolved_before_opened"},
    "calls": set(REJECTION_REASONS)
    - {"discount_above_gross", "cost_above_gross", "resolved_before_opened"},
    "complaints": set(REJECTION_REASONS) - {"discount_above_gross", "cost_above_gross"},
    "marketing_spend": {
        "missing_required_value", "unparseable_timestamp", "unparseable_number",
        "duplicate_id_same_updated_at", "negative_amount",
    },
}
TIMESTAMP_COLUMNS = {
    "customers": ("created_at", "closed_at"),
    "orders": ("ordered_at",),
    "calls": ("started_at",),
    "complaints": ("opened_at", "resolved_at"),
    "marketing_spend": (),
}
NUMBER_COLUMNS = {
    "customers": (),
    "orders": ("gross_amount", "discount_amount", "cost_amount"),
    "calls": ("duration_seconds", "satisfaction_score"),
    "complaints": ("compensation_amount", "satisfaction_score"),
    "marketing_spend": ("spend_amount",),
}
AMOUNT_COLUMNS = {
    "customers": (),
    "orders": ("gross_amount", "discount_amount", "cost_amount"),
    "calls": ("duration_seconds",),
    "complaints": ("compensation_amount",),
    "marketing_spend": ("spend_amount",),
}
EVENT_COLUMN = {"orders": "ordered_at", "calls": "started_at", "complaints": "opened_at"}


# -- reading the landing folder back ---------------------------------------------------------------
def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}


def read_landing(out: Path, table: str) -> pd.DataFrame:
    """Every data row of a table as text, with file name and 1-based row number; a file whose bytes
    equal an earlier file's (by name) is skipped, as ingest loads the same file only once."""
    return _read_landing(str(out), table).copy()


@functools.lru_cache(maxsize=32)
def _read_landing(out: str, table: str) -> pd.DataFrame:
    rows: list[list[str]] = []
    names: list[str] = []
    numbers: list[int] = []
    seen: set[str] = set()
    columns = list(RAW_TABLES[table].columns)
    for path in sorted((Path(out) / table).glob("*.csv")):
        content = path.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        reader = csv.reader(io.StringIO(content.decode("utf-8")))
        header = next(reader)
        positions = [header.index(c) for c in columns]
        for number, record in enumerate(reader, start=1):
            rows.append([record[i] for i in positions])
            names.append(f"{table}/{path.name}")
            numbers.append(number)
    df = pd.DataFrame(rows, columns=columns, dtype=object)
    df["_file_name"] = names
    df["_file_row_number"] = numbers
    return df


def text(series: pd.Series) -> pd.Series:
    stripped = series.fillna("").astype(str).str.strip()
    return stripped.where(stripped != "", None)


def business_time(series: pd.Series) -> pd.Series:
    """Parsed business-local timestamps (NaT when absent or unparseable); 'Z' is UTC, +8 hours."""
    t = text(series).fillna("")
    ok = t.str.match(TIMESTAMP)
    parsed = pd.to_datetime(
        t.where(ok, "").str.slice(0, 19).str.replace("T", " "), format="%Y-%m-%d %H:%M:%S", errors="coerce"
    )
    return parsed + pd.to_timedelta(np.where(t.str.endswith("Z"), 8, 0), unit="h")


def numbers(series: pd.Series) -> pd.Series:
    t = text(series).fillna("")
    return pd.to_numeric(t.where(t.str.match(NUMBER), None), errors="coerce")


# -- an independent implementation of the staging rules --------------------------------------------
def expected_dispositions(out: Path) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """(rejected rows with reasons, staged current rows per table) under the brief's rules."""
    load_time = datetime.now() + timedelta(hours=8)  # generous: business time is UTC+8
    staged: dict[str, pd.DataFrame] = {}
    rejected = []
    for table in ("customers", "orders", "calls", "complaints", "marketing_spend"):
        spec = RAW_TABLES[table]
        df = read_landing(out, table)
        key_cols = ["channel", "month"] if spec.id_column is None else [spec.id_column]
        key = text(df[key_cols[0]])
        for col in key_cols[1:]:
            key = key + "|" + text(df[col])
        df["_key"] = key
        df["_updated"] = business_time(df["updated_at"])
        reason = pd.Series(None, index=df.index, dtype=object)
        # 1. before versioning
        reason[df["_key"].isna()] = "missing_required_value"
        bad_updated = text(df["updated_at"]).notna() & df["_updated"].isna()
        reason[reason.isna() & bad_updated] = "unparseable_timestamp"
        # 2. versions: updated_at desc (null oldest), file_name desc, file_row_number desc
        live = df[reason.isna()].sort_values(
            ["_key", "_updated", "_file_name", "_file_row_number"],
            ascending=[True, False, False, False],
            na_position="last",
        )
        first = ~live["_key"].duplicated()
        top_updated = live["_updated"].where(first).groupby(live["_key"]).transform("first")
        same_time = ~first & live["_updated"].notna() & (live["_updated"] == top_updated)
        reason[live.index[same_time]] = "duplicate_id_same_updated_at"
        current = df.loc[live.index[first]].copy()
        # 3. the current version, first reason that applies
        checks: list[tuple[str, pd.Series]] = []
        others = [c for c in spec.required if c not in key_cols]
        checks.append(("missing_required_value", _any(current, [text(current[c]).isna() for c in others])))
        ts = {c: business_time(current[c]) for c in TIMESTAMP_COLUMNS[table]}
        checks.append(
            ("unparseable_timestamp", _any(current, [text(current[c]).notna() & ts[c].isna() for c in ts]))
        )
        num = {c: numbers(current[c]) for c in NUMBER_COLUMNS[table]}
        checks.append(
            ("unparseable_number", _any(current, [text(current[c]).notna() & num[c].isna() for c in num]))
        )
        enums = ENUMS.get(table, {})
        invalid = [text(current[c]).notna() & ~text(current[c]).str.lower().isin(v) for c, v in enums.items()]
        checks.append(("invalid_enum_value", _any(current, invalid)))
        checks.append(("negative_amount", _any(current, [num[c] < 0 for c in AMOUNT_COLUMNS[table]])))
        if table == "orders":
            completed = text(current["status"]).str.lower() == "completed"
            checks.append(("discount_above_gross", num["discount_amount"] > num["gross_amount"]))
            checks.append(("cost_above_gross", completed & (num["cost_amount"] > num["gross_amount"])))
        if table in ("calls", "complaints"):
            score = num["satisfaction_score"]
            checks.append(("satisfaction_out_of_range", score.notna() & ~score.isin([1, 2, 3, 4, 5])))
        checks.append(("timestamp_in_future", _any(current, [ts[c] > load_time for c in ts])))
        if table == "complaints":
            checks.append(("resolved_before_opened", ts["resolved_at"] < ts["opened_at"]))
        if table in EVENT_COLUMN:
            created = staged["customers"].set_index("customer_id")["_created"]
            customer = text(current["customer_id"])
            known = customer.isin(created.index)
            checks.append(("unknown_customer", customer.notna() & ~known))
            event = ts[EVENT_COLUMN[table]]
            checks.append(("before_customer_created", known & (event < customer.map(created))))
        found = np.select([c.fillna(False).to_numpy(bool) for _, c in checks], [r for r, _ in checks], "")
        reason[current.index[found != ""]] = found[found != ""]
        current = current[found == ""]
        if table == "customers":
            current["_created"] = business_time(current["created_at"])
            current["customer_id"] = text(current["customer_id"])
        staged[table] = current
        bad = df[reason.notna()]
        rejected.append(
            pd.DataFrame(
                {
                    "table": table,
                    "file_name": bad["_file_name"],
                    "file_row_number": bad["_file_row_number"],
                    "reason": reason[reason.notna()],
                    "raw_rows": len(df),
                }
            )
        )
    return pd.concat(rejected, ignore_index=True), staged


def _any(frame: pd.DataFrame, masks: list[pd.Series]) -> pd.Series:
    if not masks:
        return pd.Series(False, index=frame.index)
    return pd.concat([m.fillna(False) for m in masks], axis=1).any(axis=1)


# -- fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dirty_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("dirty")
    generate(scale=0.01, seed=7, start=START, end=END, out=root / "landing", dirty=0.02, truth=root / "truth")
    return root / "landing", root / "truth"


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("clean")
    generate(scale=0.01, seed=11, start=START, end=END, out=root / "landing", truth=root / "truth")
    return root / "landing", root / "truth"


# -- determinism and size --------------------------------------------------------------------------
def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    for run in ("a", "b"):
        generate(scale=0.003, seed=5, out=tmp_path / run / "landing", dirty=0.05, truth=tmp_path / run / "truth")
    first, second = tree_digest(tmp_path / "a"), tree_digest(tmp_path / "b")
    assert len(first) > 100
    assert first == second


def test_different_seed_differs(tmp_path: Path) -> None:
    generate(scale=0.003, seed=5, out=tmp_path / "a")
    generate(scale=0.003, seed=6, out=tmp_path / "b")
    a, b = tree_digest(tmp_path / "a"), tree_digest(tmp_path / "b")
    common = set(a) & set(b)
    assert sum(a[name] != b[name] for name in common) > 0.9 * len(common)


def count_rows(out: Path, table: str) -> int:
    return sum(sum(1 for _ in path.open()) - 1 for path in (out / table).glob("*.csv"))


def test_sizes_scale_roughly_linearly(tmp_path: Path) -> None:
    generate(scale=0.005, seed=3, out=tmp_path / "small")
    generate(scale=0.01, seed=3, out=tmp_path / "large")
    for table in ("customers", "orders", "calls", "complaints"):
        small, large = count_rows(tmp_path / "small", table), count_rows(tmp_path / "large", table)
        assert small > 0
        assert 1.6 < large / small < 2.4, (table, small, large)
    # scale 0.01: ~1k customers, ~10k orders, ~5k calls, complaints ~3% of orders
    customers = count_rows(tmp_path / "large", "customers")
    orders = count_rows(tmp_path / "large", "orders")
    assert 1000 <= customers < 1250  # plus a second version for closed accounts
    assert 7_000 < orders < 13_000
    assert 2_500 < count_rows(tmp_path / "large", "calls") < 7_000


# -- layout and columns ----------------------------------------------------------------------------
def test_layout_and_columns_match_the_contract(dirty_run: tuple[Path, Path]) -> None:
    out, truth = dirty_run
    bad_files = pd.read_csv(truth / "bad_files.csv")
    extra = set(bad_files.loc[bad_files["case"] == "extra_columns", "file_name"])
    assert len(extra) == 1
    for table, spec in RAW_TABLES.items():
        paths = sorted((out / table).iterdir())
        assert len(paths) > (30 if table == "marketing_spend" else 300)
        for path in paths:
            pattern = MONTHLY_NAME if table == "marketing_spend" else DAILY_NAME
            assert pattern.match(path.name), path
            with path.open(newline="") as handle:
                header = next(csv.reader(handle))
            if f"{table}/{path.name}" in extra:
                assert header[: len(spec.columns)] == list(spec.columns) and len(header) == len(spec.columns) + 1
            else:
                assert header == list(spec.columns), path


def test_file_day_is_the_business_day_of_the_row(clean_run: tuple[Path, Path]) -> None:
    """A UTC ('Z') spelling is the same instant: converted to +08:00 it falls on the file's day."""
    out, _ = clean_run
    orders = read_landing(out, "orders")
    first_versions = orders[text(orders["status"]).str.lower() != "returned"]
    day = first_versions["_file_name"].str.extract(r"_(\d{4}-\d{2}-\d{2})\.")[0]
    parsed = business_time(first_versions["ordered_at"])
    assert parsed.notna().all()
    assert (parsed.dt.strftime("%Y-%m-%d") == day).all()
    spelling = text(first_versions["ordered_at"])
    assert 0.02 < spelling.str.endswith("Z").mean() < 0.09
    assert 0.02 < spelling.str.endswith("+08:00").mean() < 0.09
    assert spelling.str.match(r"^\S+ \S+$").mean() > 0.5


def test_clean_values_are_valid_after_normalisation(clean_run: tuple[Path, Path]) -> None:
    out, _ = clean_run
    orders, calls = read_landing(out, "orders"), read_landing(out, "calls")
    status = orders["status"]
    assert text(status).str.lower().isin(ENUMS["orders"]["status"]).all()
    assert 0.01 < (status != text(status).str.lower()).mean() < 0.06  # ~3% odd case/whitespace
    for column, values in ENUMS["calls"].items():
        assert text(calls[column]).str.lower().isin(values).all()
    assert set(text(calls["purpose"]).str.lower()) == set(ENUMS["calls"]["purpose"])
    assert text(orders["order_id"]).str.match(r"^O\d{9}$").all()
    assert text(calls["call_id"]).str.match(r"^K\d{9}$").all()
    assert text(orders["gross_amount"]).str.match(r"^\d+\.\d{2}$").all()
    customers = read_landing(out, "customers")
    assert text(customers["customer_id"]).str.match(r"^C\d{7}$").all()
    assert text(customers["phone"]).str.match(r"^1[3-9]\d{9}$").all()
    assert text(calls["phone"]).str.match(r"^1\d{10}$").all()
    # not answered means no talk time; unknown callers are about 1%
    not_answered = calls["outcome"] != "answered"
    assert (numbers(calls.loc[not_answered, "duration_seconds"]).fillna(0) == 0).all()
    assert 0.003 < text(calls["customer_id"]).isna().mean() < 0.03
    complaints = read_landing(out, "complaints")
    assert 0.015 < complaints["complaint_id"].nunique() / orders["order_id"].nunique() < 0.05


def test_clean_run_has_nothing_to_reject(clean_run: tuple[Path, Path]) -> None:
    out, truth = clean_run
    rejected, staged = expected_dispositions(out)
    assert rejected.empty
    assert pd.read_csv(truth / "bad_rows.csv").empty
    counts = pd.read_csv(truth / "expected_counts.csv").set_index("table")
    assert (counts["rejected_rows"] == 0).all()
    for table, frame in staged.items():
        assert counts.loc[table, "staged_rows"] == len(frame)


# -- truth consistency -----------------------------------------------------------------------------
def test_every_bad_row_points_at_a_real_row(dirty_run: tuple[Path, Path]) -> None:
    out, truth = dirty_run
    bad = pd.read_csv(truth / "bad_rows.csv", dtype={"record_id": str}, keep_default_na=False)
    assert set(bad["reason"]) <= set(REJECTION_REASONS)
    for table, expected in EXPECTED_REASONS.items():
        assert set(bad.loc[bad["table"] == table, "reason"]) == expected, table
    for row in bad.itertuples():
        data = pd.read_csv(out / row.file_name, dtype=str, keep_default_na=False)
        assert 1 <= row.file_row_number <= len(data)
        line = data.iloc[row.file_row_number - 1]
        spec = RAW_TABLES[row.table]
        record = line[spec.id_column] if spec.id_column else f"{line['channel']}|{line['month']}"
        assert record == row.record_id, row


def test_expected_counts_add_up_and_match_the_files(dirty_run: tuple[Path, Path]) -> None:
    out, truth = dirty_run
    counts = pd.read_csv(truth / "expected_counts.csv").set_index("table")
    bad = pd.read_csv(truth / "bad_rows.csv")
    assert set(counts.index) == set(RAW_TABLES)
    for table, row in counts.iterrows():
        assert row["raw_rows"] == row["staged_rows"] + row["rejected_rows"] + row["superseded_rows"]
        assert row["raw_rows"] == len(read_landing(out, table))
        assert row["rejected_rows"] == (bad["table"] == table).sum()
    assert counts.loc["orders", "superseded_rows"] > 0  # returns
    assert counts.loc["customers", "superseded_rows"] > 0  # closures
    assert counts.loc["complaints", "superseded_rows"] > 0  # resolutions


def test_truth_matches_an_independent_staging(dirty_run: tuple[Path, Path]) -> None:
    out, truth = dirty_run
    rejected, staged = expected_dispositions(out)
    bad = pd.read_csv(truth / "bad_rows.csv")
    key = ["table", "file_name", "file_row_number", "reason"]
    mine = set(map(tuple, rejected[key].to_numpy().tolist()))
    theirs = set(map(tuple, bad[key].to_numpy().tolist()))
    assert mine == theirs
    counts = pd.read_csv(truth / "expected_counts.csv").set_index("table")
    for table, frame in staged.items():
        assert counts.loc[table, "staged_rows"] == len(frame), table


def test_file_cases(dirty_run: tuple[Path, Path]) -> None:
    out, truth = dirty_run
    cases = pd.read_csv(truth / "bad_files.csv").set_index("case")
    assert set(cases.index) == {"empty_file", "duplicate_file", "extra_columns", "missing_required_column"}
    empty = out / cases.loc["empty_file", "file_name"]
    assert len(pd.read_csv(empty, dtype=str)) == 0
    duplicate = out / cases.loc["duplicate_file", "file_name"]
    original = cases.loc["duplicate_file", "detail"].split()[-1]
    assert duplicate.read_bytes() == (out / original).read_bytes()
    quarantined = cases.loc["missing_required_column", "file_name"]
    assert not (out / quarantined).exists()
    header = pd.read_csv(truth / "quarantine" / quarantined, dtype=str).columns
    table = quarantined.split("/")[0]
    assert set(RAW_TABLES[table].required) - set(header)


def test_truth_is_never_written_inside_the_landing_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="truth"):
        generate(scale=0.001, out=tmp_path, truth=tmp_path / "truth")


# -- lifecycle dynamics ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clean_frames(clean_run: tuple[Path, Path]) -> dict[str, pd.DataFrame]:
    out, truth = clean_run
    frames = {t: read_landing(out, t) for t in ("customers", "orders", "calls")}
    frames["truth"] = pd.read_parquet(truth / "customer_truth.parquet")
    frames["phases"] = pd.read_parquet(truth / "customer_phases.parquet")
    return frames


def test_prospects_have_no_orders_and_buyers_start_with_a_completed_one(clean_frames: dict) -> None:
    truth, orders = clean_frames["truth"], clean_frames["orders"]
    prospects = set(truth.loc[truth["is_prospect"], "customer_id"])
    assert 0.12 < len(prospects) / len(truth) < 0.3
    assert not prospects & set(orders["customer_id"])
    assert set(truth.loc[~truth["is_prospect"], "customer_id"]) == set(orders["customer_id"])
    # some prospects were called (sales), some never
    called = prospects & set(clean_frames["calls"]["customer_id"])
    assert 0 < len(called) < len(prospects)
    orders = orders.assign(at=business_time(orders["ordered_at"]), status=text(orders["status"]).str.lower())
    first = orders.sort_values("at").groupby("customer_id").first()
    assert (first["status"] == "completed").all()
    expected = truth.set_index("customer_id")["first_purchase_date"].dropna().astype(str)
    assert (first["at"].dt.strftime("%Y-%m-%d") == expected.reindex(first.index)).all()


def test_returned_orders_have_an_earlier_completed_version(clean_frames: dict) -> None:
    orders = clean_frames["orders"].assign(
        status=lambda d: text(d["status"]).str.lower(), updated=lambda d: business_time(d["updated_at"])
    )
    returned = orders[orders["status"] == "returned"]
    assert len(returned) > 0
    completed = orders[orders["status"] == "completed"].set_index("order_id")
    earlier = completed.loc[returned["order_id"]]
    assert (earlier["updated"].to_numpy() < returned["updated"].to_numpy()).all()
    assert (earlier["_file_name"].to_numpy() <= returned["_file_name"].to_numpy()).all()


def test_referrers_are_acquired_before_the_referred(clean_frames: dict) -> None:
    customers = clean_frames["customers"].drop_duplicates("customer_id")
    orders = clean_frames["orders"]
    first_order = business_time(orders["ordered_at"]).groupby(orders["customer_id"]).min()
    referred = customers[text(customers["referred_by"]).notna()]
    assert len(referred) > 20
    created = business_time(referred["created_at"]).to_numpy()
    acquired = first_order.reindex(referred["referred_by"]).to_numpy()
    assert (acquired < created).all()


def test_closed_accounts_are_a_later_version(clean_frames: dict) -> None:
    customers = clean_frames["customers"]
    closed = customers[text(customers["closed_at"]).notna()]
    assert len(closed) > 10
    assert (text(closed["closed_at"]) == text(closed["updated_at"])).all()
    first = customers[text(customers["closed_at"]).isna()].set_index("customer_id").loc[closed["customer_id"]]
    assert (business_time(first["updated_at"]).to_numpy() < business_time(closed["updated_at"]).to_numpy()).all()


def test_phases_follow_the_latent_dates(clean_frames: dict) -> None:
    truth, phases = clean_frames["truth"], clean_frames["phases"]
    assert set(phases["phase"]) == {"prospect", "new", "growing", "mature", "declining", "churned", "won_back"}
    merged = phases.merge(truth, on="customer_id")
    month_end = pd.to_datetime(merged["month_end_date"])
    assert (month_end.dt.is_month_end).all() and (month_end <= pd.Timestamp(END)).all()
    # one row per customer per month-end from the creation month
    created = pd.to_datetime(merged.groupby("customer_id")["created_date"].first())
    first_month = pd.to_datetime(merged.groupby("customer_id")["month_end_date"].min())
    assert (first_month.dt.to_period("M") == created.dt.to_period("M")).all()
    months = merged.groupby("customer_id").size()
    span = (pd.Period(END, "M") - created.dt.to_period("M")).apply(lambda d: d.n) + 1
    assert (months == span.reindex(months.index)).all()
    assert (merged.loc[merged["is_prospect"], "phase"] == "prospect").all()
    won = merged[merged["phase"] == "won_back"]
    assert len(won) > 0
    assert (pd.to_datetime(won["winback_date"]).dt.to_period("M") == month_end[won.index].dt.to_period("M")).all()
    after_close = merged["closed_date"].notna() & (month_end >= pd.to_datetime(merged["closed_date"]))
    assert (merged.loc[after_close, "phase"] == "churned").all()
    before_first = merged["first_purchase_date"].isna() | (month_end < pd.to_datetime(merged["first_purchase_date"]))
    assert (merged.loc[before_first, "phase"] == "prospect").all()


def test_cli_writes_parquet(tmp_path: Path) -> None:
    assert main(["--scale", "0.001", "--seed", "1", "--format", "parquet", "--out", str(tmp_path / "p"),
                 "--start", "2024-01-01", "--end", "2024-03-31"]) == 0
    files = sorted((tmp_path / "p" / "orders").glob("*.parquet"))
    assert files and all(date.fromisoformat(f.stem.split("_")[-1]) <= date(2024, 3, 31) for f in files)
    frame = pd.read_parquet(files[0])
    assert list(frame.columns) == list(RAW_TABLES["orders"].columns)


# -- end to end: the real ingest and dbt staging agree with the truth --------------------------------
def test_real_ingest_and_staging_match_the_truth(clm_env: dict[str, str], dbt, tmp_path: Path) -> None:
    import duckdb

    from orchestration.ingest import MissingRequiredColumnError, ingest_all
    from orchestration.settings import load_settings

    settings = load_settings(clm_env)
    truth = tmp_path / "truth"
    generate(scale=0.005, seed=21, out=settings.landing_dir, dirty=0.03, truth=truth)
    ingest_all(settings)
    dbt("run", "--select", "staging")
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        rejected = con.sql(
            "select table_name, file_name, file_row_number, rejection_reason from staging.stg_crm__rejected_rows"
        ).fetchall()
        reconciliation = con.sql("select * from staging.stg_crm__row_reconciliation").df()
    bad = pd.read_csv(truth / "bad_rows.csv")
    expected = set(map(tuple, bad[["table", "file_name", "file_row_number", "reason"]].to_numpy().tolist()))
    assert set(rejected) == expected
    counts = pd.read_csv(truth / "expected_counts.csv").rename(columns={"table": "table_name"})
    merged = counts.merge(reconciliation, on="table_name", suffixes=("", "_staging"))
    assert len(merged) == len(RAW_TABLES)
    for column in ("raw_rows", "staged_rows", "rejected_rows", "superseded_rows"):
        assert (merged[column] == merged[f"{column}_staging"]).all(), column
    # the quarantined file, landed by hand, is refused by ingest
    cases = pd.read_csv(truth / "bad_files.csv").set_index("case")
    name = cases.loc["missing_required_column", "file_name"]
    target = settings.landing_dir / name
    target.write_bytes((truth / "quarantine" / name).read_bytes())
    with pytest.raises(MissingRequiredColumnError):
        ingest_all(settings)


def test_dirty_rows_are_extra_and_leave_the_clean_data_intact(tmp_path: Path) -> None:
    generate(scale=0.003, seed=9, out=tmp_path / "clean", truth=tmp_path / "clean_truth")
    generate(scale=0.003, seed=9, out=tmp_path / "dirty", dirty=0.05, truth=tmp_path / "dirty_truth")
    clean_counts = pd.read_csv(tmp_path / "clean_truth" / "expected_counts.csv").set_index("table")
    dirty_counts = pd.read_csv(tmp_path / "dirty_truth" / "expected_counts.csv").set_index("table")
    assert (clean_counts["staged_rows"] == dirty_counts["staged_rows"]).all()
    assert (clean_counts["superseded_rows"] == dirty_counts["superseded_rows"]).all()
    for table, spec in RAW_TABLES.items():
        columns = list(spec.columns)
        clean = read_landing(tmp_path / "clean", table)[columns]
        dirty = read_landing(tmp_path / "dirty", table)[columns]
        missing = clean.merge(dirty.drop_duplicates(), how="left", on=columns, indicator=True)
        assert (missing["_merge"] == "both").all(), table
        # every bad row is one extra row (a duplicate's copy stands in for its rejected original)
        assert len(dirty) == len(clean) + dirty_counts.loc[table, "rejected_rows"]


def test_parquet_landing_points_bad_rows_at_real_rows(tmp_path: Path) -> None:
    out, truth = tmp_path / "landing", tmp_path / "truth"
    generate(scale=0.002, seed=4, out=out, fmt="parquet", dirty=0.05, truth=truth)
    bad = pd.read_csv(truth / "bad_rows.csv", dtype={"record_id": str}, keep_default_na=False)
    assert not bad.empty and bad["file_name"].str.endswith(".parquet").all()
    for row in bad.itertuples():
        data = pd.read_parquet(out / row.file_name)
        assert list(data.columns[: len(RAW_TABLES[row.table].columns)]) == list(RAW_TABLES[row.table].columns)
        line = data.iloc[row.file_row_number - 1].fillna("")
        spec = RAW_TABLES[row.table]
        record = line[spec.id_column] if spec.id_column else f"{line['channel']}|{line['month']}"
        assert record == row.record_id, row
    quarantined = pd.read_csv(truth / "bad_files.csv").set_index("case").loc["missing_required_column", "file_name"]
    assert quarantined.endswith(".parquet") and (truth / "quarantine" / quarantined).exists()
