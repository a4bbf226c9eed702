"""The hand-made raw rows of the staging tests (tests/test_staging.py), each with the disposition a careful
reader of DOMAIN.md §3 expects (staged, superseded, or rejected with a reason); also loaded on Spark by
that module's Spark script."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import psycopg2

from orchestration.contract import RAW_TABLES, raw_table_ddl

LOADED_AT = datetime(2024, 6, 1, 0, 0, 0)  # UTC; 2024-06-01 08:00 in Asia/Shanghai
STAGING_MODELS = ("stg_crm__customers", "stg_crm__orders", "stg_crm__calls", "stg_crm__complaints",
                  "stg_crm__marketing_spend")


@dataclass
class RawRow:
    table: str
    raw_row_id: str
    file_name: str
    file_row_number: int
    values: dict[str, str | None]
    expected: str  # 'staged' | 'superseded' | a rejection reason


@dataclass
class Scenario:
    rows: list[RawRow] = field(default_factory=list)
    _row_numbers: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, expected: str, file: str = "a", **values: str | None) -> str:
        file_name = f"{table}/{table}_{file}.csv"
        number = self._row_numbers.get(file_name, 0) + 1
        self._row_numbers[file_name] = number
        raw_row_id = f"{table[:3]}{file}-{number}"
        self.rows.append(RawRow(table, raw_row_id, file_name, number, values, expected))
        return raw_row_id


def build_scenario() -> Scenario:
    s = Scenario()
    cust = "customers"
    # --- customers (loaded 2024-06-01 08:00 business time)
    s.add(cust, "superseded", customer_id="C1", full_name="Zhang Wei", phone="+86 138-0000-1234",
          email="Zhang.Wei@Example.com", created_at="2024-01-01 10:00:00", customer_type="individual",
          updated_at="2024-01-02 00:00:00")
    # the later version, its updated_at in UTC: 2024-01-05 08:00 business time
    s.add(cust, "staged", customer_id="C1", full_name=" Zhang Wei ", phone="13800001234",
          email=" zhang.wei@example.com", created_at="2024-01-01T10:00:00+08:00",
          customer_type=" Individual ", birth_date="1990-06-05", gender="F", city="Shanghai",
          acquisition_channel="Search", updated_at="2024-01-05T00:00:00Z")
    # the same business instant three more ways: UTC 'Z', naive with 'T', naive with a space
    s.add(cust, "staged", customer_id="C2", full_name="Li Na", email="li.na@qq.com",
          created_at="2024-01-01T02:00:00Z", customer_type="ENTERPRISE")
    s.add(cust, "staged", customer_id="C3", full_name="Wang Fang", created_at="2024-01-01T10:00:00")
    s.add(cust, "staged", customer_id="C4", full_name="Chen Jie", created_at="2024-01-01T10:00:00.000+0800")
    s.add(cust, "missing_required_value", customer_id="   ", full_name="Nobody Here", created_at="2024-01-01")
    s.add(cust, "unparseable_timestamp", customer_id="C6", full_name="Zhao Lei", created_at="2024-01-01",
          updated_at="yesterday")
    s.add(cust, "missing_required_value", customer_id="C7", full_name="Sun Min", created_at=" ")
    s.add(cust, "unparseable_timestamp", customer_id="C8", full_name="Ma Jun", created_at="2024-02-30")
    s.add(cust, "invalid_enum_value", customer_id="C9", full_name="Zhu Yan", created_at="2024-01-01",
          customer_type="vip")
    s.add(cust, "timestamp_in_future", customer_id="C10", full_name="Hu Tao", created_at="2024-07-01")
    # exact duplicate in two files: the later file name wins, the other copy is rejected
    s.add(cust, "duplicate_id_same_updated_at", customer_id="C11", full_name="Guo Ming",
          created_at="2024-01-01", updated_at="2024-03-01 00:00:00")
    s.add(cust, "staged", file="b", customer_id="C11", full_name="Guo Ming", created_at="2024-01-01",
          updated_at="2024-03-01 00:00:00")
    # the latest version is invalid: it is rejected and the older one is NOT served instead
    s.add(cust, "superseded", customer_id="C12", full_name="He Chao", created_at="2024-01-01",
          customer_type="individual", updated_at="2024-02-01")
    s.add(cust, "invalid_enum_value", customer_id="C12", full_name="He Chao", created_at="2024-01-01",
          customer_type="bogus", updated_at="2024-03-01")
    s.add(cust, "staged", customer_id="C13", full_name="Lin Xia", created_at="2024-01-01", referred_by="C1")
    s.add(cust, "staged", customer_id="C14", full_name="Gao Ping", created_at="2024-01-01", referred_by="CX")
    s.add(cust, "unparseable_timestamp", customer_id="C15", full_name="Luo Gang", created_at="2024-01-01",
          birth_date="05/06/1990")
    # 07:59 business time is before the load (00:00 UTC = 08:00 business): not in the future
    s.add(cust, "staged", customer_id="C16", full_name="Deng Hui", created_at="2024-06-01 07:59:00")
    # 00:30 UTC is 08:30 business time: after the load
    s.add(cust, "timestamp_in_future", customer_id="C17", full_name="Feng Yu", created_at="2024-06-01T00:30:00Z")
    s.add(cust, "staged", customer_id="C18", full_name="Tang Hao", created_at="2024-01-01",
          closed_at="2024-05-01 12:00:00")

    # --- orders (C1 was created 2024-01-01 10:00 business time)
    o = "orders"
    s.add(o, "staged", order_id="O1", customer_id="C1", ordered_at="2024-02-01 12:00:00", status=" COMPLETED",
          gross_amount="100", product_category="Electronics", sales_channel="app")
    s.add(o, "staged", order_id="O2", customer_id="C1", ordered_at="2024-02-02 12:00:00", status="completed",
          gross_amount="200.00", discount_amount="20.5", cost_amount="120")
    s.add(o, "unknown_customer", order_id="O3", customer_id="C404", ordered_at="2024-02-01",
          status="completed", gross_amount="10")
    s.add(o, "missing_required_value", order_id="O4", customer_id="", ordered_at="2024-02-01",
          status="completed", gross_amount="10")
    s.add(o, "unparseable_number", order_id="O5", customer_id="C1", ordered_at="2024-02-01",
          status="completed", gross_amount="1,000.00")
    s.add(o, "invalid_enum_value", order_id="O6", customer_id="C1", ordered_at="2024-02-01",
          status="shipped", gross_amount="10")
    s.add(o, "negative_amount", order_id="O7", customer_id="C1", ordered_at="2024-02-01",
          status="completed", gross_amount="-5")
    s.add(o, "discount_above_gross", order_id="O8", customer_id="C1", ordered_at="2024-02-01",
          status="completed", gross_amount="100", discount_amount="100.01")
    s.add(o, "cost_above_gross", order_id="O9", customer_id="C1", ordered_at="2024-02-01",
          status="completed", gross_amount="100", cost_amount="120")
    # cost above gross is only wrong on a completed order
    s.add(o, "staged", order_id="O10", customer_id="C1", ordered_at="2024-02-01",
          status="returned", gross_amount="100", cost_amount="120")
    s.add(o, "before_customer_created", order_id="O11", customer_id="C1", ordered_at="2023-12-31 23:00:00",
          status="completed", gross_amount="10")
    # 01:30 UTC is 09:30 business time, half an hour before C1 was created
    s.add(o, "before_customer_created", order_id="O12", customer_id="C1", ordered_at="2024-01-01T01:30:00Z",
          status="completed", gross_amount="10")
    s.add(o, "timestamp_in_future", order_id="O13", customer_id="C1", ordered_at="2025-01-01",
          status="completed", gross_amount="10")
    s.add(o, "unparseable_timestamp", order_id="O14", customer_id="C1", ordered_at="31/12/2024",
          status="completed", gross_amount="10")
    # C12's current version is rejected, so C12 is not a staged customer
    s.add(o, "unknown_customer", order_id="O15", customer_id="C12", ordered_at="2024-02-01",
          status="completed", gross_amount="10")
    # precedence: an invalid status is named before the negative amount
    s.add(o, "invalid_enum_value", order_id="O16", customer_id="C1", ordered_at="2024-02-01",
          status="x", gross_amount="-5")
    s.add(o, "superseded", order_id="O17", customer_id="C1", ordered_at="2024-02-01", status="completed",
          gross_amount="100", updated_at="2024-02-01")
    s.add(o, "discount_above_gross", order_id="O17", customer_id="C1", ordered_at="2024-02-01",
          status="completed", gross_amount="100", discount_amount="150", updated_at="2024-03-01")
    s.add(o, "missing_required_value", order_id=None, customer_id="C1", ordered_at="2024-02-01",
          status="completed", gross_amount="10")
    # a version without updated_at is the oldest, whatever its file
    s.add(o, "superseded", file="b", order_id="O18", customer_id="C1", ordered_at="2024-02-01",
          status="completed", gross_amount="30")
    s.add(o, "staged", order_id="O18", customer_id="C1", ordered_at="2024-02-01", status="cancelled",
          gross_amount="30", updated_at="2024-02-03")

    # --- calls
    k = "calls"
    s.add(k, "staged", call_id="K1", customer_id="C1", phone="138 0000 1234", direction="Inbound",
          purpose=" Follow_Up ", started_at="2024-02-01 09:00:00", duration_seconds="90", outcome="Answered",
          satisfaction_score="5", agent_id="A1", campaign_id="CMP1")
    s.add(k, "staged", call_id="K2", customer_id=" ", phone="139-1111-2222", direction="inbound",
          purpose="service", started_at="2024-02-01 09:00:00", duration_seconds="30", outcome="voicemail")
    s.add(k, "unknown_customer", call_id="K3", customer_id="C404", direction="outbound", purpose="sales",
          started_at="2024-02-01")
    s.add(k, "invalid_enum_value", call_id="K4", customer_id="C1", direction="sideways", purpose="sales",
          started_at="2024-02-01")
    s.add(k, "satisfaction_out_of_range", call_id="K5", customer_id="C1", direction="outbound",
          purpose="win_back", started_at="2024-02-01", satisfaction_score="6")
    s.add(k, "satisfaction_out_of_range", call_id="K6", customer_id="C1", direction="outbound",
          purpose="retention", started_at="2024-02-01", satisfaction_score="0")
    s.add(k, "negative_amount", call_id="K7", customer_id="C1", direction="outbound", purpose="survey",
          started_at="2024-02-01", duration_seconds="-1")
    s.add(k, "unparseable_number", call_id="K8", customer_id="C1", direction="outbound", purpose="survey",
          started_at="2024-02-01", duration_seconds="ten")
    s.add(k, "before_customer_created", call_id="K9", customer_id="C1", direction="outbound",
          purpose="sales", started_at="2023-12-01")
    s.add(k, "missing_required_value", call_id="K10", customer_id="C1", direction="outbound",
          purpose="", started_at="2024-02-01")
    s.add(k, "staged", call_id="K11", customer_id="C2", direction="outbound", purpose="sales",
          started_at="2024-02-01", duration_seconds="0", outcome="answered")

    # --- complaints
    p = "complaints"
    s.add(p, "staged", complaint_id="P1", customer_id="C1", order_id="O1", opened_at="2024-02-05 10:00:00",
          resolved_at="2024-02-06T02:00:00Z", category="Delivery", severity="High ", status="closed",
          satisfaction_score="4")
    s.add(p, "resolved_before_opened", complaint_id="P2", customer_id="C1", opened_at="2024-02-05 10:00:00",
          resolved_at="2024-02-05T01:59:59Z", severity="low")
    s.add(p, "invalid_enum_value", complaint_id="P3", customer_id="C1", opened_at="2024-02-05",
          severity="urgent")
    s.add(p, "negative_amount", complaint_id="P4", customer_id="C1", opened_at="2024-02-05", severity="low",
          compensation_amount="-10")
    s.add(p, "unknown_customer", complaint_id="P5", customer_id="C404", opened_at="2024-02-05", severity="low")
    s.add(p, "missing_required_value", complaint_id="P6", customer_id="C1", opened_at="2024-02-05",
          severity="  ")
    s.add(p, "satisfaction_out_of_range", complaint_id="P7", customer_id="C1", opened_at="2024-02-05",
          severity="medium", satisfaction_score="4.5")
    s.add(p, "timestamp_in_future", complaint_id="P8", customer_id="C1", opened_at="2024-02-05",
          resolved_at="2024-06-02", severity="critical")
    s.add(p, "unparseable_timestamp", complaint_id="P9", customer_id="C1", opened_at="2024-02-05",
          resolved_at="soon", severity="critical")
    s.add(p, "staged", complaint_id="P10", customer_id="C2", opened_at="2024-03-05", severity="critical",
          compensation_amount="50.5")

    # --- marketing spend
    m = "marketing_spend"
    s.add(m, "superseded", channel="online_ads", month="2024-01", spend_amount="3000")
    s.add(m, "staged", channel=" Online_Ads", month="2024-01-01", spend_amount="3100",
          updated_at="2024-02-01")
    s.add(m, "staged", channel="search", month="2024-01-15", spend_amount="2000.50")
    s.add(m, "unparseable_timestamp", channel="social", month="2024-13", spend_amount="100")
    s.add(m, "unparseable_number", channel="social", month="2024-02", spend_amount="n/a")
    s.add(m, "negative_amount", channel="store", month="2024-02", spend_amount="-1")
    s.add(m, "missing_required_value", channel="", month="2024-02", spend_amount="1")
    return s


# ---------------------------------------------------------------------------------------------- helpers


class Warehouse:
    """Short-lived connections to the test warehouse (DuckDB allows one writer: dbt runs in between)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.engine = env["CLM_TARGET"]

    @contextmanager
    def connect(self) -> Iterator[Any]:
        if self.engine == "duckdb":
            conn = duckdb.connect(str(Path(self.env["CLM_WAREHOUSE_DIR"]) / "clm.duckdb"))
            try:
                yield conn
            finally:
                conn.close()
        else:
            conn = psycopg2.connect(host="127.0.0.1", user="clm", password="clm", dbname=self.env["CLM_PG_DATABASE"])
            conn.autocommit = True
            try:
                yield conn
            finally:
                conn.close()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.connect() as conn:
            cur = conn.cursor()
            cur.execute(sql, params) if params else cur.execute(sql)
            return cur.fetchall()

    def execute(self, *statements: str) -> None:
        with self.connect() as conn:
            cur = conn.cursor()
            for statement in statements:
                cur.execute(statement)

    def load(self, scenario: Scenario) -> None:
        placeholder = "?" if self.engine == "duckdb" else "%s"
        with self.connect() as conn:
            cur = conn.cursor()
            cur.execute("create schema if not exists raw")
            for table in RAW_TABLES:
                cur.execute(raw_table_ddl(table))
            for row in scenario.rows:
                columns = [*row.values, "_raw_row_id", "_file_name", "_file_row_number", "_file_sha256", "_loaded_at"]
                values = [*row.values.values(), row.raw_row_id, row.file_name, row.file_row_number, "0" * 64,
                          LOADED_AT]
                cur.execute(
                    f"insert into raw.{row.table} ({', '.join(columns)}) "
                    f"values ({', '.join([placeholder] * len(values))})",
                    values,
                )
