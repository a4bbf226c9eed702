"""The fingerprint that decides whether the CLV asset fits again (orchestration/assets/clv_assets.py):
equal for the same rows in any order, different for any changed value, row, column type or setting."""

from __future__ import annotations

import pandas as pd

from orchestration.assets.clv_assets import input_fingerprint

SETTINGS = {"horizon_months": 12, "annual_discount_rate": 0.1, "time_unit": "week", "holdout_days": 182}


def _frames() -> dict[str, pd.DataFrame]:
    summary = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "frequency": [0.0, 2.0, 5.0],
            "recency": [0.0, 10.5, 40.0],
            "t": [12.0, 30.0, 52.0],
        }
    )
    daily = pd.DataFrame({"day": pd.to_datetime(["2026-01-01", "2026-01-02"]), "purchases": [3, 4]})
    return {"summary": summary, "daily": daily}


def test_the_same_rows_in_another_order_have_the_same_fingerprint() -> None:
    frames = _frames()
    shuffled = {name: frame.iloc[::-1].reset_index(drop=True) for name, frame in frames.items()}
    assert input_fingerprint(frames, SETTINGS) == input_fingerprint(shuffled, SETTINGS)
    assert input_fingerprint(frames, SETTINGS) == input_fingerprint(_frames(), dict(reversed(SETTINGS.items())))


def test_any_change_of_the_inputs_or_settings_changes_the_fingerprint() -> None:
    base = input_fingerprint(_frames(), SETTINGS)
    changed_value = _frames()
    changed_value["summary"].loc[1, "recency"] = 10.0
    fewer_rows = _frames()
    fewer_rows["daily"] = fewer_rows["daily"].iloc[:1]
    retyped = _frames()
    retyped["daily"]["purchases"] = retyped["daily"]["purchases"].astype("float64")
    renamed = _frames()
    renamed["summary"] = renamed["summary"].rename(columns={"t": "big_t"})
    # the same rows under another relation's name are another input
    swapped = {"summary": _frames()["daily"], "daily": _frames()["summary"]}
    variants = [
        input_fingerprint(changed_value, SETTINGS),
        input_fingerprint(fewer_rows, SETTINGS),
        input_fingerprint(retyped, SETTINGS),
        input_fingerprint(renamed, SETTINGS),
        input_fingerprint(swapped, SETTINGS),
        input_fingerprint(_frames(), {**SETTINGS, "holdout_days": 91}),
        input_fingerprint(_frames(), {**SETTINGS, "annual_discount_rate": 0.08}),
    ]
    assert base not in variants and len(set(variants)) == len(variants)
