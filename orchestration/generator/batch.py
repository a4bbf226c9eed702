"""A raw table in memory before it is written: text columns plus where each row lands."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from orchestration.contract import RAW_TABLES

MONTHLY_TABLES = frozenset({"marketing_spend"})


@dataclass
class RawBatch:
    """Rows of one raw table, in the contract's column order, all text (null = empty value).

    `file_key` is the business day number (days since 1970-01-01) of the file a row lands in, or the
    month number (months since 1970-01) for monthly tables; `sort_key` orders rows within a file.
    `is_current` marks the clean current version of each id; `bad_reason` is set by dirty injection
    on the physical row staging must reject ('' = not rejected).
    """

    table: str
    data: pa.Table
    file_key: np.ndarray
    sort_key: np.ndarray
    is_current: np.ndarray
    bad_reason: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))

    def __post_init__(self) -> None:
        if self.bad_reason.size != self.data.num_rows:
            self.bad_reason = np.full(self.data.num_rows, "", dtype=object)

    @property
    def record_ids(self) -> np.ndarray:
        """The id of each row; marketing spend is keyed by 'channel|month'."""
        spec = RAW_TABLES[self.table]
        if spec.id_column is not None:
            return np.asarray(self.data.column(spec.id_column).fill_null("").to_numpy(zero_copy_only=False))
        channel = self.data.column("channel").fill_null("").to_numpy(zero_copy_only=False)
        month = self.data.column("month").fill_null("").to_numpy(zero_copy_only=False)
        return np.char.add(np.char.add(channel.astype(str), "|"), month.astype(str)).astype(object)


def table_from_columns(table: str, columns: dict[str, pa.Array]) -> pa.Table:
    """The contract's columns in order; a column not given is all null."""
    names = RAW_TABLES[table].columns
    size = len(next(iter(columns.values())))
    arrays = [columns.get(name, pa.nulls(size, pa.string())).cast(pa.string()) for name in names]
    return pa.Table.from_arrays(arrays, names=list(names))


def file_label(table: str, key: int) -> str:
    """'2024-03-05' for daily tables, '2024-03' for monthly ones."""
    if table in MONTHLY_TABLES:
        return str(np.datetime64(int(key), "M"))
    return str(np.datetime64(int(key), "D"))


def file_name(table: str, key: int, ext: str, suffix: str = "") -> str:
    """Path relative to the landing folder, e.g. 'orders/orders_2024-03-05.csv'."""
    return f"{table}/{table}_{file_label(table, key)}{suffix}.{ext}"
