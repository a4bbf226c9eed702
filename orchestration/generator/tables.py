"""The five raw tables rendered from the latent world (DOMAIN.md §2 columns, contract.RAW_TABLES)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.contract import ENUMS
from orchestration.generator import constants as k
from orchestration.generator import render as r
from orchestration.generator.batch import RawBatch, table_from_columns
from orchestration.generator.lifecycle import DAY, World

SPD = k.SECONDS_PER_DAY


@dataclass
class Orders:
    """Order events (one per purchase) with their latent attributes, before rendering."""

    customer: np.ndarray
    ordered_s: np.ndarray
    index_in_life: np.ndarray
    life: np.ndarray
    severity: np.ndarray
    status: np.ndarray  # index into ENUMS['orders']['status'] (final status)
    returned_s: np.ndarray  # inf when not returned
    gross_cents: np.ndarray


def _day(secs: np.ndarray) -> np.ndarray:
    return (np.asarray(secs, dtype=np.int64) // SPD).astype(np.int64)


def build_customers(rng: np.random.Generator, world: World) -> tuple[RawBatch, np.ndarray]:
    """Customer rows (a second version for closed accounts) and each customer's phone number."""
    n = world.n
    number = np.arange(1, n + 1)
    surname = rng.integers(0, len(k.SURNAMES), n)
    given = rng.integers(0, len(k.GIVEN_NAMES), n)
    surnames = r.labels(k.SURNAMES, surname)
    givens = r.labels(k.GIVEN_NAMES, given)
    phone = 10_000_000_000 + rng.integers(3, 10, n) * 1_000_000_000 + rng.integers(0, 1_000_000_000, n)
    email = r.concat(
        pc.utf8_lower(givens), ".", pc.utf8_lower(surnames), r.integers(rng.integers(1, 9999, n)), "@",
        r.labels(k.EMAIL_DOMAINS, rng.integers(0, len(k.EMAIL_DOMAINS), n)),
    )
    age_days = (rng.uniform(18, 70, n) * 365.25).astype(np.int64)
    individual = ~world.is_enterprise
    closed = np.isfinite(world.closed_s)
    columns = {
        "customer_id": r.ids("C", number, 7),
        "full_name": r.concat(surnames, " ", givens),
        "phone": r.integers(phone),
        "email": r.with_nulls(email, rng.random(n) < 0.05),
        "birth_date": r.dates(_day(world.created_s) - age_days, individual & (rng.random(n) > 0.06)),
        "gender": r.labels(("male", "female"), world.is_female.astype(int), individual),
        "city": r.labels(k.CITIES, world.city),
        "customer_type": r.noisy_enum(
            rng, ENUMS["customers"]["customer_type"], world.is_enterprise.astype(int)
        ),
        "created_at": r.timestamps(rng, world.created_s),
        "acquisition_channel": r.labels(k.CHANNELS, world.channel),
        "referred_by": r.ids("C", world.referred_by + 1, 7, world.referred_by >= 0),
        "closed_at": pa.nulls(n, pa.string()),
        "updated_at": r.timestamps(rng, world.created_s),
    }
    first = table_from_columns("customers", columns)
    # a closed account lands again, as a later version, in the file of the closure day
    rows = np.flatnonzero(closed)
    second = first.take(pa.array(rows))
    closed_text = r.timestamps(rng, world.closed_s[rows])
    second = second.set_column(second.schema.get_field_index("closed_at"), "closed_at", closed_text)
    second = second.set_column(second.schema.get_field_index("updated_at"), "updated_at", closed_text)
    batch = RawBatch(
        table="customers",
        data=pa.concat_tables([first, second]),
        file_key=np.concatenate([_day(world.created_s), _day(world.closed_s[rows])]),
        sort_key=np.concatenate([world.created_s, world.closed_s[rows]]).astype(np.int64),
        is_current=np.concatenate([~closed, np.ones(rows.size, bool)]),
    )
    return batch, phone


def simulate_orders(rng: np.random.Generator, world: World) -> Orders:
    lives = (world.life1, world.life2)
    customer = np.concatenate([s.owner[s.event_segment] for s in lives])
    ordered_s = np.concatenate([s.event_s for s in lives])
    index_in_life = np.concatenate([s.event_index for s in lives])
    life = np.concatenate([np.full(s.event_s.size, i + 1) for i, s in enumerate(lives)])
    severity = np.concatenate([s.event_severity for s in lives])
    order = np.lexsort((customer, ordered_s))
    customer, ordered_s, index_in_life = customer[order], ordered_s[order], index_in_life[order]
    life, severity = life[order], severity[order]
    m = customer.size

    statuses = ENUMS["orders"]["status"]
    u = rng.random(m)
    first_of_life = index_in_life == 0  # the first purchase of a life is always a completed order
    returned_s = np.floor(ordered_s + rng.uniform(2, 20, m) * DAY)
    cancelled = ~first_of_life & (u < k.ORDER_CANCEL_SHARE)
    returned = (
        ~first_of_life
        & (u >= k.ORDER_CANCEL_SHARE)
        & (u < k.ORDER_CANCEL_SHARE + k.ORDER_RETURN_SHARE)
        & (returned_s <= world.window.end_s)
    )
    status = np.where(cancelled, statuses.index("cancelled"), statuses.index("completed"))
    status = np.where(returned, statuses.index("returned"), status)
    gross = world.spend_level[customer] * rng.lognormal(0.0, 0.35, m)
    return Orders(
        customer=customer,
        ordered_s=ordered_s,
        index_in_life=index_in_life,
        life=life,
        severity=severity,
        status=status,
        returned_s=np.where(returned, returned_s, np.inf),
        gross_cents=np.maximum(np.round(gross * 100), 100).astype(np.int64),
    )


def build_orders(rng: np.random.Generator, world: World, orders: Orders) -> RawBatch:
    m = orders.customer.size
    c = orders.customer
    cross_sell = rng.random(m) < np.minimum(0.45, 0.04 * (orders.index_in_life + 5 * (orders.life - 1)))
    other = (world.first_category[c] + rng.integers(1, len(k.CATEGORIES), m)) % len(k.CATEGORIES)
    category = np.where(cross_sell, other, world.first_category[c])
    gross = np.maximum(
        np.round(orders.gross_cents * np.asarray(k.CATEGORY_PRICE_FACTOR)[category]), 100
    ).astype(np.int64)
    orders.gross_cents = gross
    has_discount = rng.random(m) < k.DISCOUNT_SHARE
    discount = np.where(has_discount, np.round(gross * rng.uniform(0.05, 0.25, m)), 0).astype(np.int64)
    discount_valid = has_discount | (rng.random(m) > 0.2)
    cost = np.round(gross * (1 - rng.uniform(0.15, 0.5, m))).astype(np.int64)
    sales_channel = np.where(
        rng.random(m) < 0.7,
        world.preferred_sales_channel[c],
        rng.choice(len(k.SALES_CHANNELS), m, p=k.SALES_CHANNEL_WEIGHTS),
    )
    returned = np.isfinite(orders.returned_s)
    updated_s = orders.ordered_s + rng.integers(0, 600, m)
    statuses = ENUMS["orders"]["status"]
    first_status = np.where(returned, statuses.index("completed"), orders.status)
    columns = {
        "order_id": r.ids("O", np.arange(1, m + 1), 9),
        "customer_id": r.ids("C", c + 1, 7),
        "ordered_at": r.timestamps(rng, orders.ordered_s),
        "status": r.noisy_enum(rng, statuses, first_status),
        "gross_amount": r.money(gross),
        "discount_amount": r.money(discount, discount_valid),
        "cost_amount": r.money(cost, rng.random(m) >= k.COST_MISSING_SHARE),
        "product_category": r.labels(k.CATEGORIES, category),
        "sales_channel": r.labels(k.SALES_CHANNELS, sales_channel),
        "updated_at": r.timestamps(rng, updated_s, returned | (rng.random(m) >= 0.03)),
    }
    first = table_from_columns("orders", columns)
    # a return lands as a later version with status 'returned' in the file of the return day
    rows = np.flatnonzero(returned)
    second = first.take(pa.array(rows))
    second = second.set_column(
        second.schema.get_field_index("status"),
        "status",
        r.noisy_enum(rng, statuses, np.full(rows.size, statuses.index("returned"))),
    )
    second = second.set_column(
        second.schema.get_field_index("updated_at"), "updated_at", r.timestamps(rng, orders.returned_s[rows])
    )
    return RawBatch(
        table="orders",
        data=pa.concat_tables([first, second]),
        file_key=np.concatenate([_day(orders.ordered_s), _day(orders.returned_s[rows])]),
        sort_key=np.concatenate([orders.ordered_s, orders.returned_s[rows]]).astype(np.int64),
        is_current=np.concatenate([~returned, np.ones(rows.size, bool)]),
    )


@dataclass
class Complaints:
    customer: np.ndarray
    order_number: np.ndarray  # 1-based order number
    opened_s: np.ndarray
    severity: np.ndarray


def build_complaints(rng: np.random.Generator, world: World, orders: Orders) -> tuple[RawBatch, Complaints]:
    src = np.flatnonzero(orders.severity >= 0)
    opened = np.floor(orders.ordered_s[src] + rng.uniform(0.5, 15, src.size) * DAY)
    c = orders.customer[src]
    ok = (opened <= world.window.end_s) & (opened < world.closed_s[c])
    src, opened, c = src[ok], opened[ok].astype(np.int64), c[ok]
    order = np.lexsort((c, opened))
    src, opened, c = src[order], opened[order], c[order]
    severity = orders.severity[src].astype(np.int64)
    n = src.size
    resolve_days = rng.exponential(1.5, n) * (1 + severity)
    resolved_s = opened + 600 + np.floor(resolve_days * DAY).astype(np.int64)
    resolved = (rng.random(n) < 0.92) & (resolved_s <= world.window.end_s)
    compensation_share = np.asarray([0.0, 0.15, 0.5, 0.8])[severity]
    compensated = rng.random(n) < compensation_share
    compensation = np.maximum(
        np.round(orders.gross_cents[src] * rng.uniform(0.05, 0.3, n)), 500
    ).astype(np.int64)
    compensation = np.where(compensated, compensation, 0)
    compensation_valid = compensated | (rng.random(n) < 0.1)
    score = np.clip(np.round(rng.normal(3.6 - 0.5 * severity, 1.0)), 1, 5).astype(np.int64)
    has_score = rng.random(n) < 0.6
    columns = {
        "complaint_id": r.ids("P", np.arange(1, n + 1), 8),
        "customer_id": r.ids("C", c + 1, 7),
        "order_id": r.ids("O", src + 1, 9, rng.random(n) < 0.92),
        "opened_at": r.timestamps(rng, opened),
        "resolved_at": pa.nulls(n, pa.string()),
        "category": r.labels(k.COMPLAINT_CATEGORIES, rng.integers(0, len(k.COMPLAINT_CATEGORIES), n)),
        "severity": r.noisy_enum(rng, ENUMS["complaints"]["severity"], severity),
        "compensation_amount": pa.nulls(n, pa.string()),
        "satisfaction_score": pa.nulls(n, pa.string()),
        "status": r.labels(("open",), np.zeros(n, np.int64)),
        "updated_at": r.timestamps(rng, opened),
    }
    first = table_from_columns("complaints", columns)
    # resolution lands as a later version (status, resolved_at, compensation, score) on the day resolved
    rows = np.flatnonzero(resolved)
    second = first.take(pa.array(rows))
    resolved_text = r.timestamps(rng, resolved_s[rows])
    updates = {
        "resolved_at": resolved_text,
        "updated_at": resolved_text,
        "status": r.labels(("resolved",), np.zeros(rows.size, np.int64)),
        "compensation_amount": r.money(compensation[rows], compensation_valid[rows]),
        "satisfaction_score": r.integers(score[rows], has_score[rows]),
    }
    for name, values in updates.items():
        second = second.set_column(second.schema.get_field_index(name), name, values)
    batch = RawBatch(
        table="complaints",
        data=pa.concat_tables([first, second]),
        file_key=np.concatenate([_day(opened), _day(resolved_s[rows])]),
        sort_key=np.concatenate([opened, resolved_s[rows]]),
        is_current=np.concatenate([~resolved, np.ones(rows.size, bool)]),
    )
    return batch, Complaints(customer=c, order_number=src + 1, opened_s=opened, severity=severity)


def _uniform_between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.floor(lo + rng.random(lo.size) * np.maximum(hi - lo, 0.0))


def build_calls(
    rng: np.random.Generator, world: World, orders: Orders, complaints: Complaints, phone: np.ndarray
) -> RawBatch:
    """Sales, follow-up, service, survey, retention and win-back calls, and ~1% unknown callers."""
    purposes = ENUMS["calls"]["purpose"]
    end = float(world.window.end_s)
    created = world.created_s.astype(float)
    n = world.n
    buyer = np.isfinite(world.first_s)
    parts: list[tuple[np.ndarray, np.ndarray, str]] = []

    def repeat(counts: np.ndarray) -> np.ndarray:
        return np.repeat(np.arange(n), counts)

    # outbound sales: prospects (contacted or not) and customers before their first purchase
    c = repeat(rng.poisson(np.where(buyer, 0.6, 1.0)))
    until = np.where(buyer, world.first_s, np.minimum(created + 180 * DAY, end))[c]
    parts.append((c, _uniform_between(rng, created[c] + 60, until), "sales"))
    # cross-sell campaigns to active customers
    c = repeat(np.where(buyer, rng.poisson(0.4, n), 0))
    parts.append((c, _uniform_between(rng, world.first_s[c], np.minimum(world.dropout1_s[c], end)), "sales"))
    # follow-up after purchases (onboarding call about a week after the first one)
    first = orders.index_in_life == 0
    pick = rng.random(orders.customer.size) < np.where(first, 0.6, 0.22)
    delay = np.where(first, rng.uniform(6, 8, first.size), rng.uniform(1, 10, first.size))
    parts.append((orders.customer[pick], np.floor(orders.ordered_s + delay * DAY)[pick], "follow_up"))
    pick = rng.random(orders.customer.size) < 0.05
    parts.append(
        (orders.customer[pick], np.floor(orders.ordered_s + rng.uniform(3, 20, pick.size) * DAY)[pick], "survey")
    )
    # inbound service: background rate while active, and one call opening each complaint
    active_until = np.minimum(world.dropout1_s + 90 * DAY, end)
    years = np.where(buyer, np.maximum(active_until - world.first_s, 0.0) / (365 * DAY), 0.0)
    c = repeat(rng.poisson(0.9 * np.nan_to_num(years)))
    parts.append((c, _uniform_between(rng, world.first_s[c], active_until[c]), "service"))
    parts.append(
        (complaints.customer, complaints.opened_s - rng.integers(60, 1800, complaints.opened_s.size), "service")
    )
    # retention calls while declining, win-back calls after the dropout and before a return
    declining = buyer & (world.decline1_s < world.dropout1_s) & (rng.random(n) < 0.4)
    c = np.flatnonzero(declining)
    parts.append((c, _uniform_between(rng, world.decline1_s[c], np.minimum(world.dropout1_s[c], end)), "retention"))
    c = np.flatnonzero((world.dropout1_s <= end) & (rng.random(n) < 0.35))
    parts.append((c, np.floor(world.dropout1_s[c] + rng.uniform(60, 400, c.size) * DAY), "win_back"))
    c = np.flatnonzero(np.isfinite(world.winback_s) & (rng.random(n) < 0.6))
    parts.append((c, np.floor(world.winback_s[c] - rng.uniform(2, 20, c.size) * DAY), "win_back"))

    customer = np.concatenate([p[0] for p in parts]).astype(np.int64)
    started = np.concatenate([p[1] for p in parts])
    purpose = np.concatenate([np.full(p[0].size, purposes.index(p[2])) for p in parts])
    ok = (started <= end) & (started >= created[customer] + 60) & (started < world.closed_s[customer])
    customer, started, purpose = customer[ok], started[ok].astype(np.int64), purpose[ok]
    # unknown callers: inbound service calls without a customer
    n_unknown = int(round(customer.size * k.UNKNOWN_CALLER_SHARE / (1 - k.UNKNOWN_CALLER_SHARE)))
    unknown_s = (
        world.window.start_day * SPD
        + rng.integers(0, world.window.end_day - world.window.start_day + 1, n_unknown) * SPD
        + rng.integers(8 * 3600, 22 * 3600, n_unknown)
    )
    customer = np.concatenate([customer, np.full(n_unknown, -1)])
    started = np.concatenate([started, unknown_s])
    purpose = np.concatenate([purpose, np.full(n_unknown, purposes.index("service"))])
    order = np.lexsort((customer, started))
    customer, started, purpose = customer[order], started[order], purpose[order]
    m = customer.size

    inbound = purpose == purposes.index("service")
    u = rng.random(m)
    outcome = np.where(inbound, np.where(u < 0.97, 0, 1), np.select([u < 0.6, u < 0.88], [0, 1], 2))
    answered = outcome == 0
    duration = np.where(answered, np.maximum(np.round(rng.lognormal(5.0, 0.7, m)), 10), 0).astype(np.int64)
    score_share = np.select(
        [purpose == purposes.index("survey"), inbound, purpose == purposes.index("follow_up")],
        [0.85, 0.3, 0.2],
        0.05,
    )
    has_score = answered & (rng.random(m) < score_share)
    score = np.clip(np.round(rng.normal(np.where(inbound, 3.5, 4.1), 0.9)), 1, 5).astype(np.int64)
    campaign = np.isin(purpose, [purposes.index(p) for p in ("sales", "retention", "win_back")])
    known = customer >= 0
    caller_phone = np.where(
        known, phone[np.maximum(customer, 0)], 13_000_000_000 + rng.integers(0, 6_999_999_999, m)
    )
    direction = ENUMS["calls"]["direction"]
    # campaign ids like 'CMP-2024-03-S': one campaign per month and kind (sales, retention, win-back)
    code_by_purpose = {"sales": "S", "retention": "R", "win_back": "W"}
    campaign_code = r.labels(tuple(code_by_purpose.get(p, "") for p in purposes), purpose)
    columns = {
        "call_id": r.ids("K", np.arange(1, m + 1), 9),
        "direction": r.noisy_enum(rng, direction, np.where(inbound, 0, 1)),
        "purpose": r.noisy_enum(rng, purposes, purpose),
        "started_at": r.timestamps(rng, started),
        "customer_id": r.ids("C", customer + 1, 7, known),
        "phone": r.integers(caller_phone),
        "duration_seconds": r.integers(duration, rng.random(m) >= 0.02),
        "agent_id": r.ids("A", rng.integers(1, 121, m), 3),
        "outcome": r.labels(k.CALL_OUTCOMES, outcome),
        "satisfaction_score": r.integers(score, has_score),
        "campaign_id": r.with_nulls(
            r.concat("CMP-", r.months(_day(started)), "-", campaign_code), ~campaign
        ),
        "updated_at": r.timestamps(rng, started + duration, rng.random(m) < 0.7),
    }
    return RawBatch(
        table="calls",
        data=table_from_columns("calls", columns),
        file_key=_day(started),
        sort_key=started,
        is_current=np.ones(m, bool),
    )


def build_marketing_spend(rng: np.random.Generator, world: World) -> RawBatch:
    """Acquisition spend per paid channel and month (referral has no spend rows)."""
    start_month = np.datetime64(world.window.start_day, "D").astype("datetime64[M]").astype(np.int64)
    end_month = np.datetime64(world.window.end_day, "D").astype("datetime64[M]").astype(np.int64)
    month_numbers = np.arange(start_month, end_month + 1)
    buyer = np.isfinite(world.first_s)
    acquired_month = (
        _day(np.where(buyer, world.first_s, 0)).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    )
    paid = list(k.CHANNEL_COST_PER_ACQUISITION)
    rows_channel, rows_month, rows_cents = [], [], []
    for name in paid:  # a handful of channels: the loop is over channels, not rows
        ch = k.CHANNELS.index(name)
        acquired = np.bincount(
            acquired_month[buyer & (world.channel == ch)] - start_month, minlength=month_numbers.size
        )[: month_numbers.size]
        spend = (k.CHANNEL_MONTHLY_BASE_SPEND[name] + acquired * k.CHANNEL_COST_PER_ACQUISITION[name]) * (
            rng.lognormal(0.0, 0.1, month_numbers.size)
        )
        rows_channel.append(np.full(month_numbers.size, ch))
        rows_month.append(month_numbers)
        rows_cents.append(np.round(spend * 100).astype(np.int64))
    channel = np.concatenate(rows_channel)
    month = np.concatenate(rows_month)
    month_start_day = month.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    month_end_day = np.minimum(
        (month + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - 1, world.window.end_day
    )
    reported_s = month_end_day * SPD + 22 * 3600
    data = table_from_columns(
        "marketing_spend",
        {
            "channel": r.labels(k.CHANNELS, channel),
            "month": r.months(month_start_day),
            "spend_amount": r.money(np.concatenate(rows_cents)),
            "updated_at": r.timestamps(rng, reported_s),
        },
    )
    return RawBatch(
        table="marketing_spend",
        data=data,
        file_key=month,
        sort_key=channel.astype(np.int64),
        is_current=np.ones(channel.size, bool),
    )
