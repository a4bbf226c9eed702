"""The latent customer lifecycle: who is created when, who buys, how often, when they fade and leave.

Everything here is vectorised over customers and purchase events (no Python loop per row or customer).
Times are float/int seconds since 1970-01-01 in *business local time* (Asia/Shanghai, naive), so a
business date is `seconds // 86400`.

The process, per customer:
- `created_at` follows exponential growth over the window (the last month has about 3x the first).
- 15% are prospects who never intend to buy; the others make a first purchase after a delay (a third
  on the day, the rest after an exponential wait, mean 25 days). If that falls after the end date they
  are prospects too (`is_prospect` in the truth means: no order in the window).
- Purchases follow a renewal process with a heterogeneous rate (gamma distributed, per day) and a
  latent dropout: after each purchase the customer leaves with probability `p` (beta distributed,
  scaled by channel; BG/NBD-like). A complaint on a purchase can end the relationship right there,
  with a probability that grows with its severity.
- Decline: unless the dropout is abrupt (complaint-induced, or 25% at random), the last up to three
  gaps before the dropout are stretched (x1.3, x1.6, x2.2: the rate falls), and the dropout itself
  comes 3 mean gaps after the last purchase.
- Maturity: after the 5th purchase the rate rises by 30% and gaps become regular (gamma shape 3).
- Win-back: 25% of those who dropped out return after a long silence (at least 400 days, and at
  least 3.5 mean gaps, after their last purchase). The return purchase starts a second life with a
  lower rate, no maturity, its own decline and dropout (no second win-back).
- Closure: 35% of those who dropped out for good close their account 0-180 days after the dropout.

Phases at each month-end T (23:59:59 business time), first rule that applies (`phase_at_month_ends`):
1. `churned`   - the account is closed at T.
2. `won_back`  - T is the month-end of the month of the win-back purchase.
3. after a win-back: `churned` if the second dropout is <= T, `declining` if the second decline
   start is <= T, otherwise `growing`.
4. `prospect`  - no purchase yet at T (or never).
5. `churned`   - the latent dropout is <= T.
6. `declining` - the decline start is <= T (the purchase after which the gaps start to stretch).
7. `new`       - T is within 90 days of the first purchase.
8. `mature`    - T >= max(first purchase + 365 days, the 5th purchase), before any decline.
9. `growing`   - otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.generator import constants as k

DAY = float(k.SECONDS_PER_DAY)
NEW_WINDOW_DAYS = 90
MATURE_MIN_TENURE_DAYS = 365
MATURE_FROM_INDEX = 4  # 0-based index of the 5th purchase
MATURITY_BOOST = 1.3
DECLINE_STRETCH = (2.2, 1.6, 1.3)  # last gap, the one before, the one before that
DROPOUT_STRETCH = 3.0
ABRUPT_DROPOUT_SHARE = 0.25
WINBACK_SHARE = 0.25
WINBACK_MIN_SILENCE_DAYS = 400
CLOSURE_SHARE = 0.35
MEAN_PURCHASE_RATE = 1 / 16  # per day
NO_EVENT = np.inf

PHASES: tuple[str, ...] = ("prospect", "new", "growing", "mature", "declining", "churned", "won_back")


@dataclass(frozen=True)
class Window:
    """The simulated period in local seconds: start day 00:00:00 to end day 23:59:59."""

    start_s: int
    end_s: int

    @property
    def start_day(self) -> int:
        return self.start_s // k.SECONDS_PER_DAY

    @property
    def end_day(self) -> int:
        return self.end_s // k.SECONDS_PER_DAY


@dataclass
class Segments:
    """Purchase lives (segments) and their purchase events."""

    owner: np.ndarray  # customer index per segment
    start_s: np.ndarray
    dropout_s: np.ndarray  # inf when the customer never drops out
    decline_s: np.ndarray  # == dropout_s when the dropout is abrupt
    mature_s: np.ndarray  # inf when never mature
    last_s: np.ndarray  # the last purchase of the life (may be after the end date)
    n_purchases: np.ndarray
    abrupt: np.ndarray
    # events, only those up to the end of the window
    event_segment: np.ndarray
    event_index: np.ndarray  # 0-based purchase number within the life
    event_s: np.ndarray  # int64 local seconds
    event_severity: np.ndarray  # -1 no complaint, else index into SEVERITIES


@dataclass
class World:
    """The latent state of every customer (index = customer number - 1, ordered by created_at)."""

    window: Window
    created_s: np.ndarray
    wants_to_buy: np.ndarray
    is_enterprise: np.ndarray
    channel: np.ndarray  # index into CHANNELS
    city: np.ndarray
    is_female: np.ndarray
    referred_by: np.ndarray  # customer index or -1
    purchase_rate: np.ndarray  # per day, life 1
    dropout_probability: np.ndarray
    spend_level: np.ndarray  # CNY, typical order value
    first_category: np.ndarray
    preferred_sales_channel: np.ndarray
    first_s: np.ndarray  # first purchase (inf when none in the window)
    life1: Segments
    life2: Segments  # win-back lives
    dropout1_s: np.ndarray  # per customer, inf when none
    decline1_s: np.ndarray
    mature_s: np.ndarray
    abrupt: np.ndarray
    winback_s: np.ndarray
    dropout2_s: np.ndarray
    decline2_s: np.ndarray
    closed_s: np.ndarray

    @property
    def n(self) -> int:
        return int(self.created_s.size)


def time_of_day(rng: np.random.Generator, size: int) -> np.ndarray:
    """Seconds after midnight, 08:00-23:00, peaking in the afternoon."""
    return (8 * 3600 + rng.beta(2.0, 2.0, size) * 15 * 3600).astype(np.int64)


def _created_times(rng: np.random.Generator, n: int, window: Window) -> np.ndarray:
    growth = np.log(k.GROWTH_LAST_TO_FIRST)
    u = np.log1p(rng.random(n) * np.expm1(growth)) / growth  # inverse CDF of density ~ exp(growth*u)
    days = window.start_day + np.floor(u * (window.end_day - window.start_day + 1)).astype(np.int64)
    days = np.minimum(days, window.end_day)
    return np.sort(days * k.SECONDS_PER_DAY + time_of_day(rng, n))


def simulate_segments(
    rng: np.random.Generator,
    start_s: np.ndarray,
    lam: np.ndarray,
    p: np.ndarray,
    allow_mature: bool,
    window: Window,
) -> Segments:
    """Purchase events of lives starting at `start_s` (the first purchase), as described above."""
    n = start_s.size
    if n == 0:
        empty_f, empty_i = np.zeros(0), np.zeros(0, np.int64)
        return Segments(
            owner=empty_i, start_s=empty_f, dropout_s=empty_f, decline_s=empty_f, mature_s=empty_f,
            last_s=empty_f, n_purchases=empty_i, abrupt=np.zeros(0, bool), event_segment=empty_i,
            event_index=empty_i, event_s=empty_i, event_severity=np.zeros(0, np.int8),
        )
    horizon_days = np.maximum((window.end_s - start_s) / DAY, 0.0)
    k0 = rng.geometric(p)
    cap = np.ceil(horizon_days * lam * MATURITY_BOOST * 3 + 12).astype(np.int64)
    candidates = np.minimum(k0, cap)
    starts = np.concatenate(([0], np.cumsum(candidates)[:-1])).astype(np.int64)
    seg = np.repeat(np.arange(n), candidates)
    idx = np.arange(seg.size) - starts[seg]

    has_complaint = rng.random(seg.size) < k.COMPLAINT_RATE
    severity = rng.choice(len(k.SEVERITIES), size=seg.size, p=k.SEVERITY_WEIGHTS)
    stop_prob = np.asarray(k.SEVERITY_DROPOUT_PROBABILITY)[severity]
    stops_here = has_complaint & (rng.random(seg.size) < stop_prob)
    big = np.iinfo(np.int64).max // 2
    first_stop = np.minimum.reduceat(np.where(stops_here, idx, big), starts) if n else np.zeros(0, np.int64)
    complaint_stop = first_stop < candidates
    n_purchases = np.where(complaint_stop, first_stop + 1, candidates)
    never_drops = (k0 > cap) & ~complaint_stop  # the dropout lies far beyond the window

    keep = idx < n_purchases[seg]
    seg, idx = seg[keep], idx[keep]
    severity = np.where(has_complaint[keep], severity[keep], -1)
    starts = np.concatenate(([0], np.cumsum(n_purchases)[:-1])).astype(np.int64)

    abrupt = complaint_stop | (rng.random(n) < ABRUPT_DROPOUT_SHARE)
    decline_steps = np.where(abrupt | never_drops, 0, np.minimum(n_purchases - 1, len(DECLINE_STRETCH)))
    from_end = n_purchases[seg] - idx  # 1 for the last purchase
    stretched = (idx >= 1) & (from_end <= decline_steps[seg])
    stretch = np.ones(seg.size)
    stretch[stretched] = np.asarray(DECLINE_STRETCH)[from_end[stretched] - 1]
    mature_gap = (idx > MATURE_FROM_INDEX) if allow_mature else np.zeros(seg.size, bool)
    rate = lam[seg] * np.where(mature_gap, MATURITY_BOOST, 1.0) / stretch
    shape = np.where(mature_gap & ~stretched, 3.0, 1.0)
    gaps = rng.gamma(shape, 1.0 / (shape * rate))
    gaps[idx == 0] = 0.0
    cumulative = np.cumsum(gaps)
    raw_t = start_s[seg] + (cumulative - cumulative[starts][seg]) * DAY
    event_s = np.floor(raw_t / DAY).astype(np.int64) * k.SECONDS_PER_DAY + time_of_day(rng, seg.size)
    # A later purchase on the day of the first draws its own time of day; keep it after the first one,
    # else it can precede created_at and clean data would be rejected as before_customer_created.
    first_s = start_s[seg].astype(np.int64)
    event_s = np.where(idx == 0, first_s, np.maximum(event_s, first_s + idx))

    last_s = event_s[starts + n_purchases - 1].astype(float)
    final_gap_days = np.where(
        decline_steps > 0,
        rng.exponential(1.0, n) * DROPOUT_STRETCH / lam,
        rng.uniform(0.1, 0.6, n) / lam,
    )
    dropout_s = np.where(never_drops, NO_EVENT, last_s + final_gap_days * DAY)
    decline_at = starts + np.maximum(n_purchases - decline_steps - 1, 0)
    decline_s = np.where(decline_steps > 0, event_s[decline_at].astype(float), dropout_s)
    mature_s = np.full(n, NO_EVENT)
    if allow_mature:
        reaches = n_purchases > MATURE_FROM_INDEX
        fifth = event_s[starts[reaches] + MATURE_FROM_INDEX].astype(float)
        mature_s[reaches] = np.maximum(start_s[reaches] + MATURE_MIN_TENURE_DAYS * DAY, fifth)
        mature_s[mature_s >= decline_s] = NO_EVENT

    visible = event_s <= window.end_s
    return Segments(
        owner=np.arange(n),
        start_s=start_s.astype(float),
        dropout_s=dropout_s,
        decline_s=decline_s,
        mature_s=mature_s,
        last_s=last_s,
        n_purchases=n_purchases,
        abrupt=abrupt,
        event_segment=seg[visible],
        event_index=idx[visible],
        event_s=event_s[visible],
        event_severity=severity[visible].astype(np.int8),
    )


def _per_customer(n: int, owner: np.ndarray, values: np.ndarray, fill: float = NO_EVENT) -> np.ndarray:
    out = np.full(n, fill)
    out[owner] = values
    return out


def simulate_world(rng: np.random.Generator, n: int, window: Window) -> World:
    """The whole latent population of `n` customers."""
    created_s = _created_times(rng, n, window)
    is_enterprise = rng.random(n) < k.ENTERPRISE_SHARE
    channel = rng.choice(len(k.CHANNELS), size=n, p=k.CHANNEL_WEIGHTS)
    city = rng.choice(len(k.CITIES), size=n, p=k.CITY_WEIGHTS)
    is_female = rng.random(n) < 0.52
    wants_to_buy = rng.random(n) >= k.PROSPECT_SHARE
    delay_days = np.where(rng.random(n) < 0.35, rng.exponential(0.2, n), rng.exponential(25.0, n))
    first_s = np.floor(created_s + 60 + delay_days * DAY)
    first_s = np.where(wants_to_buy & (first_s <= window.end_s), first_s, NO_EVENT)

    # referrals: an earlier acquired customer (first purchase strictly before the referred is created)
    buyer_order = np.argsort(first_s, kind="stable")
    acquired_before = np.searchsorted(first_s[buyer_order], created_s, side="left")
    is_referral = channel == k.CHANNELS.index("referral")
    can_refer = is_referral & (acquired_before > 0)
    channel = np.where(is_referral & ~can_refer, k.CHANNELS.index("search"), channel)
    pick = np.floor(rng.random(n) * acquired_before).astype(np.int64)
    referred_by = np.where(can_refer, buyer_order[np.minimum(pick, n - 1)], -1)

    purchase_rate = rng.gamma(1.8, MEAN_PURCHASE_RATE / 1.8, n) * np.where(is_enterprise, 1.3, 1.0)
    purchase_rate = np.maximum(purchase_rate, 1 / 500)
    dropout_probability = rng.beta(2.2, 30.0, n) * np.asarray(k.CHANNEL_DROPOUT_FACTOR)[channel]
    dropout_probability = np.clip(dropout_probability, 0.01, 0.6)
    spend_level = rng.gamma(3.0, 60.0, n) * np.where(is_enterprise, 3.0, 1.0)
    first_category = rng.choice(len(k.CATEGORIES), size=n, p=k.CATEGORY_WEIGHTS)
    preferred_sales_channel = rng.choice(len(k.SALES_CHANNELS), size=n, p=k.SALES_CHANNEL_WEIGHTS)

    buyers = np.flatnonzero(np.isfinite(first_s))
    life1 = simulate_segments(
        rng, first_s[buyers], purchase_rate[buyers], dropout_probability[buyers], True, window
    )
    life1.owner = buyers
    dropout1_s = _per_customer(n, buyers, life1.dropout_s)
    last1_s = _per_customer(n, buyers, life1.last_s)

    silence_days = np.maximum(WINBACK_MIN_SILENCE_DAYS, 3.5 / purchase_rate) + rng.exponential(90.0, n)
    winback_s = np.floor(np.maximum(last1_s + silence_days * DAY, dropout1_s + 30 * DAY))
    winback_s = np.floor(winback_s / DAY) * DAY + time_of_day(rng, n)
    returns = (dropout1_s <= window.end_s) & (rng.random(n) < WINBACK_SHARE) & (winback_s <= window.end_s)
    winback_s = np.where(returns, winback_s, NO_EVENT)
    back = np.flatnonzero(returns)
    life2 = simulate_segments(
        rng,
        winback_s[back],
        purchase_rate[back] * rng.uniform(0.6, 1.0, back.size),
        np.minimum(dropout_probability[back] * 1.3, 0.6),
        False,
        window,
    )
    life2.owner = back

    gone = (dropout1_s <= window.end_s) & ~returns
    closed_s = np.floor(dropout1_s + rng.uniform(0.0, 180.0, n) * DAY)
    closed_s = np.where(gone & (rng.random(n) < CLOSURE_SHARE) & (closed_s <= window.end_s), closed_s, NO_EVENT)

    return World(
        window=window,
        created_s=created_s,
        wants_to_buy=wants_to_buy,
        is_enterprise=is_enterprise,
        channel=channel,
        city=city,
        is_female=is_female,
        referred_by=referred_by,
        purchase_rate=purchase_rate,
        dropout_probability=dropout_probability,
        spend_level=spend_level,
        first_category=first_category,
        preferred_sales_channel=preferred_sales_channel,
        first_s=first_s,
        life1=life1,
        life2=life2,
        dropout1_s=dropout1_s,
        decline1_s=_per_customer(n, buyers, life1.decline_s),
        mature_s=_per_customer(n, buyers, life1.mature_s),
        abrupt=_per_customer(n, buyers, life1.abrupt.astype(float), 0.0).astype(bool),
        winback_s=winback_s,
        dropout2_s=_per_customer(n, back, life2.dropout_s),
        decline2_s=_per_customer(n, back, life2.decline_s),
        closed_s=closed_s,
    )


def month_ends(window: Window) -> np.ndarray:
    """Local seconds of each month-end 23:59:59 within the window (the last one <= the end day)."""
    first = np.datetime64(window.start_day, "D").astype("datetime64[M]")
    last = np.datetime64(window.end_day, "D").astype("datetime64[M]")
    months = np.arange(first, last + 1)
    ends = ((months + 1).astype("datetime64[D]") - 1).astype(np.int64)
    ends = ends[ends <= window.end_day]
    return ends * k.SECONDS_PER_DAY + k.SECONDS_PER_DAY - 1


def phase_at_month_ends(world: World) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer index, month-end day number, phase index into PHASES) for every customer-month."""
    ends = month_ends(world.window)
    first_month = np.searchsorted(ends, world.created_s, side="left")
    counts = np.maximum(ends.size - first_month, 0)
    cust = np.repeat(np.arange(world.n), counts)
    offset = np.arange(cust.size) - np.repeat(np.cumsum(counts) - counts, counts)
    month = first_month[cust] + offset
    t = ends[month].astype(float)

    def at(values: np.ndarray) -> np.ndarray:
        return values[cust] <= t

    wb = world.winback_s[cust]
    wb_month = np.searchsorted(ends, np.where(np.isfinite(wb), wb, 0.0), side="left")
    after_winback = at(world.winback_s)
    conditions = [
        at(world.closed_s),
        after_winback & (wb_month == month),
        after_winback & at(world.dropout2_s),
        after_winback & at(world.decline2_s),
        after_winback,
        ~at(world.first_s),
        at(world.dropout1_s),
        at(world.decline1_s),
        t < world.first_s[cust] + NEW_WINDOW_DAYS * DAY,
        at(world.mature_s),
    ]
    p = PHASES.index
    choices = [p("churned"), p("won_back"), p("churned"), p("declining"), p("growing"), p("prospect"),
               p("churned"), p("declining"), p("new"), p("mature")]
    phase = np.select(conditions, choices, default=p("growing")).astype(np.int8)
    return cust, ends[month] // k.SECONDS_PER_DAY, phase
