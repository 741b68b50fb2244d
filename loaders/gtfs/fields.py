"""Field parsing over a :class:`~loaders.gtfs.tables._Table`, vectorised; NaN means "empty".

Times, dates, numbers, enumerations, ids, primary and foreign keys, colours.
"""
from __future__ import annotations

import zoneinfo
from collections.abc import Sequence

import numpy as np
import pandas as pd

from loaders.gtfs.tables import _Table
from loaders.report import BuildReport

_EPOCH = np.datetime64("1970-01-01", "D")


def _times_s(t: _Table, column: str, *, label: str = "time") -> np.ndarray:
    """H:MM:SS / HH:MM:SS / HHH:MM:SS to seconds (float, NaN when empty); invalid -> invalid_time."""
    s = t.text(column)
    n = len(s)
    empty = (s == "").to_numpy()
    lens = s.str.len().to_numpy()
    ascii_ = s.str.isascii().to_numpy(dtype=bool)
    shaped = ~empty & (lens >= 7) & (lens <= 9) & ascii_
    padded = s.where(shaped, "000:00:00").str.zfill(9).to_numpy(dtype="S9")
    b = padded.view(np.uint8).reshape(n, 9).astype(np.int64) - ord("0")
    digits = b[:, [0, 1, 2, 4, 5, 7, 8]]
    ok = shaped & ((digits >= 0) & (digits <= 9)).all(axis=1) & (b[:, 3] == ord(":") - ord("0")) \
        & (b[:, 6] == ord(":") - ord("0"))
    minutes = b[:, 4] * 10 + b[:, 5]
    seconds = b[:, 7] * 10 + b[:, 8]
    ok &= (minutes < 60) & (seconds < 60)
    bad = ~empty & ~ok
    if bad.any():
        vals = t.values(column)
        t.error("invalid_time", bad, column,
                lambda i: f"{label} {vals[i]!r} is not a time H:MM:SS (hours may exceed 24)")
    out = (b[:, 0] * 100 + b[:, 1] * 10 + b[:, 2]) * 3600 + minutes * 60 + seconds
    return np.where(empty, np.nan, out.astype(np.float64))


def _days(t: _Table, column: str) -> np.ndarray:
    """YYYYMMDD to days since 1970-01-01 (int64); empty or invalid -> invalid_date / missing field."""
    s = t.text(column)
    empty = (s == "").to_numpy()
    if empty.any():
        t.error("missing_required_field", empty, column, lambda i: f"{column} is empty")
    parsed = pd.to_datetime(s.where(s.str.fullmatch(r"\d{8}"), None), format="%Y%m%d",
                            errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        vals = t.values(column)
        t.error("invalid_date", bad, column,
                lambda i: f"{column} {vals[i]!r} is not a date YYYYMMDD")
    return (parsed.to_numpy().astype("datetime64[D]") - _EPOCH).astype(np.int64)


def _numbers(t: _Table, column: str, *, integer: bool, fatal: bool, report: BuildReport | None = None,
             ) -> np.ndarray:
    """Numbers as float (NaN when empty); invalid -> fatal invalid_integer/float, or warn and NaN."""
    s = t.text(column)
    if not t.has(column):
        return np.full(len(s), np.nan)
    v = np.array(pd.to_numeric(s.where(s != "", None), errors="coerce"), dtype=np.float64)
    bad = np.isnan(v) & (s != "").to_numpy()
    if integer:
        bad |= np.isfinite(v) & (v != np.round(v))
    bad |= np.isinf(v)
    if bad.any():
        code = "invalid_integer" if integer else "invalid_float"
        vals = t.values(column)
        kind = "an integer" if integer else "a number"
        if fatal:
            t.error(code, bad, column, lambda i: f"{column} {vals[i]!r} is not {kind}")
        t.warn(report, code, bad, column, lambda i: f"{column} {vals[i]!r} is not {kind}; ignored")
        v[bad] = np.nan
    return v


def _enum(t: _Table, column: str, allowed: Sequence[int], default: int,
          report: BuildReport | None = None, *, fatal: bool = False) -> np.ndarray:
    """An enumerated integer field (int64); empty -> default; unexpected -> warn and default
    (or unexpected_enum_value / invalid_integer when ``fatal``)."""
    v = _numbers(t, column, integer=True, fatal=fatal, report=report)
    bad = np.isfinite(v) & ~np.isin(v, allowed)
    if bad.any():
        vals = t.values(column)
        msg = lambda i: f"{column} {vals[i]!r} is not one of {list(allowed)}"  # noqa: E731
        if fatal:
            t.error("unexpected_enum_value", bad, column, msg)
        t.warn(report, "unexpected_enum_value", bad, column, lambda i: msg(i) + f"; read as {default}")
        v[bad] = np.nan
    return np.where(np.isnan(v), default, v).astype(np.int64)


def _ids(t: _Table, column: str, *, required: bool = True) -> np.ndarray:
    """An id column (object array of str); empty values -> missing_required_field when required."""
    vals = t.values(column)
    if required:
        empty = vals == ""
        if empty.any():
            t.error("missing_required_field", empty, column, lambda i: f"{column} is empty")
    return vals


def _unique(t: _Table, ids: np.ndarray, column: str) -> pd.Index:
    """The index of a primary key; duplicates -> duplicate_key (naming the second row)."""
    dup = pd.Index(ids).duplicated()
    if dup.any():
        t.error("duplicate_key", dup, column,
                lambda i: f"{column} {ids[i]!r} is defined twice (first at row "
                          f"{int(t.row[np.flatnonzero(ids == ids[i])[0]]):,})")
    return pd.Index(ids)


def _lookup(t: _Table, ids: np.ndarray, index: pd.Index, column: str, target: str) -> np.ndarray:
    """Foreign key -> position in ``index``; unknown -> foreign_key_violation."""
    pos = index.get_indexer(ids)
    bad = pos < 0
    if bad.any():
        t.error("foreign_key_violation", bad, column,
                lambda i: f"{column} {ids[i]!r} is not defined in {target}")
    return pos


def _is_timezone(values: np.ndarray) -> np.ndarray:
    """Bool per value: True for an IANA timezone name such as Europe/Paris (False for '')."""
    def known(zone: str) -> bool:
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return False
        return True

    uniq, inverse = np.unique(np.asarray(values, dtype=str), return_inverse=True)
    return np.array([bool(z) and known(str(z)) for z in uniq], dtype=bool)[inverse.reshape(-1)]


def _color(t: _Table, column: str, report: BuildReport) -> np.ndarray:
    s = t.text(column).str.upper().str.removeprefix("#")
    ok = s.str.fullmatch(r"[0-9A-F]{6}").to_numpy(dtype=bool)
    empty = (s == "").to_numpy()
    vals = t.values(column)
    t.warn(report, "invalid_color", ~ok & ~empty, column,
           lambda i: f"{column} {vals[i]!r} is not a colour RRGGBB; left empty")
    return np.where(ok, s.to_numpy(dtype=object), "").astype(str)
