"""Vectorised rendering of simulated values to the raw text the landing files carry (pyarrow compute).

Raw files are text on purpose: timestamps in a mix of ISO-8601 spellings, enum values with a little
case/whitespace noise that is valid after lower+trim, money with two decimals.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.generator import constants as k

_CLOCK: list[pa.Array] = []  # 'HH:MM:SS' for every second of a day, built on first use


def _clock() -> pa.Array:
    if not _CLOCK:
        text = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
        _CLOCK.append(pa.array(text, type=pa.string()))
    return _CLOCK[0]


def _day_text(days: np.ndarray) -> pa.Array:
    """'YYYY-MM-DD' per day number, formatting each day of the covered range once."""
    if days.size == 0:
        return pa.array([], type=pa.string())
    first, last = int(days.min()), int(days.max())
    if last - first > 500_000:
        unique, inverse = np.unique(days, return_inverse=True)
    else:
        unique, inverse = np.arange(first, last + 1), days - first
    text = pa.array(np.datetime_as_string(unique.astype("datetime64[D]")), type=pa.string())
    return text.take(pa.array(np.asarray(inverse, dtype=np.int64)))


def timestamps(rng: np.random.Generator, local_s: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Local (business) seconds to ISO-8601 text: mostly without offset, ~5% '+08:00', ~5% UTC 'Z'."""
    secs = np.nan_to_num(np.asarray(local_s, dtype=float), posinf=0.0, neginf=0.0).astype(np.int64)
    size = secs.size
    u = rng.random(size)
    shares = np.cumsum([k.UTC_TIMESTAMP_SHARE, k.OFFSET_TIMESTAMP_SHARE, k.T_SEPARATOR_SHARE])
    which = np.select([u < shares[0], u < shares[1], u < shares[2]], [3, 2, 1], default=0).astype(np.int8)
    is_utc = which == 3
    # the UTC spelling is the same instant: business time minus the zone offset, with 'Z'
    secs = np.where(is_utc, secs - k.BUSINESS_UTC_OFFSET_SECONDS, secs)
    separator = _pick((" ", "T", "T", "T"), which)
    suffix = _pick(("", "", "+08:00", "Z"), which)
    days, clock = np.divmod(secs, k.SECONDS_PER_DAY)
    text = pc.binary_join_element_wise(_day_text(days), separator, _clock().take(pa.array(clock)), suffix, "")
    return with_nulls(text, _mask(valid, size))


def _pick(vocabulary: Sequence[str], index: np.ndarray) -> pa.Array:
    return pa.array(list(vocabulary), type=pa.string()).take(pa.array(np.asarray(index, dtype=np.int64)))


def plain_timestamps(local_s: np.ndarray) -> pa.Array:
    """'YYYY-MM-DD HH:MM:SS' without any variation (used for injected values)."""
    days, clock = np.divmod(np.asarray(local_s, dtype=np.int64), k.SECONDS_PER_DAY)
    return pc.binary_join_element_wise(_day_text(days), _clock().take(pa.array(clock)), " ")


def dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    d = np.asarray(days, dtype=np.int64)
    return with_nulls(_day_text(d), _mask(valid, d.size))


def months(days: np.ndarray) -> pa.Array:
    return pc.utf8_slice_codeunits(_day_text(np.asarray(days, dtype=np.int64)), 0, 7)


def money(cents: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Integer cents to '123.45' (non-negative values only; injected negatives are written elsewhere)."""
    c = np.asarray(cents, dtype=np.int64)
    whole = pc.cast(pa.array(c // 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(c % 100), pa.string()), width=2, padding="0")
    text = pc.binary_join_element_wise(whole, frac, ".")
    return with_nulls(text, _mask(valid, c.size))


def integers(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    v = np.asarray(values, dtype=np.int64)
    return with_nulls(pc.cast(pa.array(v), pa.string()), _mask(valid, v.size))


def ids(prefix: str, numbers: np.ndarray, width: int, valid: np.ndarray | None = None) -> pa.Array:
    n = np.asarray(numbers, dtype=np.int64)
    digits = pc.utf8_lpad(pc.cast(pa.array(n), pa.string()), width=width, padding="0")
    text = pc.binary_join_element_wise(pa.scalar(prefix), digits, "")
    return with_nulls(text, _mask(valid, n.size))


def labels(vocabulary: Sequence[str], index: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    idx = np.asarray(index, dtype=np.int64)
    text = pa.array(list(vocabulary), type=pa.string()).take(pa.array(np.clip(idx, 0, len(vocabulary) - 1)))
    return with_nulls(text, _mask(valid, idx.size))


def noisy_enum(
    rng: np.random.Generator, vocabulary: Sequence[str], index: np.ndarray, valid: np.ndarray | None = None
) -> pa.Array:
    """Canonical labels, ~3% spelled ' Completed', 'INBOUND ', ' returned ' (valid after lower+trim)."""
    clean = labels(vocabulary, index, valid)
    size = len(clean)
    noise = rng.random(size) < k.ENUM_NOISE_SHARE
    style = rng.integers(0, 4, size)
    upper = pc.utf8_upper(clean)
    title = pc.utf8_capitalize(clean)
    variants = [
        pc.binary_join_element_wise(pa.scalar(" "), title, ""),
        pc.binary_join_element_wise(upper, pa.scalar(" "), ""),
        pc.binary_join_element_wise(pa.scalar(" "), clean, pa.scalar(" "), ""),
        upper,
    ]
    which = np.where(noise, style + 1, 0).astype(np.int8)
    return pc.choose(pa.array(which), clean, *variants)


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise string concatenation of arrays and literal strings."""
    args = [pa.scalar(p) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*args, "")


def _mask(valid: np.ndarray | None, size: int) -> np.ndarray:
    return np.zeros(size, bool) if valid is None else ~np.asarray(valid, bool)


def with_nulls(arr: pa.Array, null_mask: np.ndarray) -> pa.Array:
    if not null_mask.any():
        return arr
    return pc.if_else(pa.array(null_mask), pa.nulls(len(arr), pa.string()), arr)
