"""Inferred lifecycle stages against the generator's latent truth (scale 0.1, seed 42).

The generator knows each customer's latent phase at every month-end (truth/customer_phases.parquet).
The warehouse sees only behaviour, so some lag is inherent: a latent dropout becomes visible as
`declining` once the silence exceeds the customer's own cadence, and as `churned` only after
max(churn_min_days, 3 x cadence) without an order (or when the account closes). The floors below
are set under the measured values (docs/lifecycle.md) with a margin for generator changes:
- churned:   precision >= 0.90 (what we call churned is gone), recall >= 0.35 (the 365-day lag);
- declining: precision >= 0.60 against latent declining-or-churned (the early-warning zone holds
             customers who are fading or already gone), recall >= 0.30 (latent declining months
             flagged declining or churned).
"""

from __future__ import annotations

import os

import pandas as pd
import pytest

from orchestration.ingest.pipeline import ingest_all
from orchestration.settings import load_settings
from tests.support import DbtRunner
from tests.support.lifecycle import FACT, build_lifecycle, fetch, generate_landing, land_files


def precision_recall(frame: pd.DataFrame, inferred: set[str], latent: set[str]) -> tuple[float, float]:
    """Precision: share of rows inferred in `inferred` whose latent phase is in `latent`; recall the reverse."""
    is_inferred = frame.stage_code.isin(inferred)
    is_latent = frame.phase.isin(latent)
    hits = (is_inferred & is_latent).sum()
    return hits / is_inferred.sum(), hits / is_latent.sum()


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    tmp = tmp_path_factory.mktemp("truth")
    env = {
        **os.environ,
        "CLM_TARGET": "duckdb",
        "CLM_LANDING_DIR": str(tmp / "landing"),
        "CLM_WAREHOUSE_DIR": str(tmp / "warehouse"),
        "DBT_TARGET_PATH": str(tmp / "dbt_target"),
        "DBT_LOG_PATH": str(tmp / "dbt_logs"),
    }
    (tmp / "landing").mkdir()
    (tmp / "warehouse").mkdir()
    generated = generate_landing(
        tmp / "generated", scale=0.1, start="2023-11-01", end="2026-10-31", truth=tmp / "truth"
    )
    land_files(generated, tmp / "landing")
    ingest_all(load_settings(env))
    build_lifecycle(DbtRunner(env))
    rows = fetch(env, f"select customer_id, month_end_date, stage_code from marts.{FACT}")
    inferred = pd.DataFrame(rows, columns=["customer_id", "month_end_date", "stage_code"])
    truth = pd.read_parquet(tmp / "truth" / "customer_phases.parquet")
    inferred["month_end_date"] = pd.to_datetime(inferred.month_end_date)
    truth["month_end_date"] = pd.to_datetime(truth.month_end_date)
    return truth.merge(inferred, on=["customer_id", "month_end_date"], how="outer", indicator=True)


def test_every_latent_customer_month_has_exactly_one_inferred_row(compared: pd.DataFrame) -> None:
    assert (compared["_merge"] == "both").all(), compared["_merge"].value_counts()


def test_prospects_are_exact(compared: pd.DataFrame) -> None:
    assert precision_recall(compared, {"prospect"}, {"prospect"}) == (1.0, 1.0)


def test_churned_precision_and_recall(compared: pd.DataFrame) -> None:
    precision, recall = precision_recall(compared, {"churned"}, {"churned"})
    assert precision >= 0.90, precision
    assert recall >= 0.35, recall


def test_declining_precision_and_recall(compared: pd.DataFrame) -> None:
    precision, _ = precision_recall(compared, {"declining"}, {"declining", "churned"})
    _, recall = precision_recall(compared, {"declining", "churned"}, {"declining"})
    assert precision >= 0.60, precision
    assert recall >= 0.30, recall


def test_won_back_is_found(compared: pd.DataFrame) -> None:
    precision, recall = precision_recall(compared, {"won_back"}, {"won_back"})
    assert precision >= 0.80 and recall >= 0.90, (precision, recall)
