"""No raw name, phone or e-mail value appears anywhere outside `raw` (DOMAIN.md §3), on every engine:
every text column of every table and view in every other schema of a full build is scanned, for whole
values and for PII embedded inside longer text."""

from __future__ import annotations

import re

import pytest

from tests.engines import BuiltWarehouse
from tests.support.pii import assert_no_pii, pii_values


def test_no_pii_outside_raw_duckdb(duckdb_warehouse: BuiltWarehouse) -> None:
    assert_no_pii(duckdb_warehouse)


@pytest.mark.postgres
def test_no_pii_outside_raw_postgres(postgres_warehouse: BuiltWarehouse) -> None:
    assert_no_pii(postgres_warehouse)


def test_the_scan_would_find_a_leak(duckdb_warehouse: BuiltWarehouse) -> None:
    """The scan itself can fail: a raw phone number embedded in text is found by the same pattern."""
    pii = pii_values(duckdb_warehouse)
    phone = next(v for v in pii if v.isdigit())
    pattern = re.compile("|".join(re.escape(v) for v in pii))
    assert pattern.search(f"call back on {phone} tomorrow")
